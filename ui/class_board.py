"""The class board (issue 20): on the teacher's Train page, the models the class trained during this lesson on one
table (name, who, test MSE, latent size, training time), ranked for a challenge ("lowest test MSE at latent 2"), and
any of them opened on the projector (the teacher's tab, which the class follows when "follow" is on).

The board is the models folder itself, read through the catalog every app process shares: a model trained through any
process of a classroom is on it. "Start a new board" is a message on the class's channel, so every teacher tab of the
class starts from the same moment.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from ui.cache import catalog, class_channel
from ui.class_map import MAX_NAME, clean_name
from ui.state import choose, open_page
from ui.teacher import enabled, is_teacher

BOARD = "board"
ANY = "any size"


def name_box() -> None:
    """On the Train form while a teacher passcode is set: who is training, for the board (optional)."""
    if enabled():
        st.text_input("Your first name (optional)", key="tr_who", max_chars=MAX_NAME,
                      help="Shown with your model on the teacher's class board; leave it empty to stay anonymous.")


def trainer_name() -> str:
    """The name typed in `name_box`, cleaned ("" when none): what the job saves as `trained_by`."""
    return clean_name(str(st.session_state.get("tr_who", "")))


def class_models(since: float) -> list:
    """The class's loadable models saved after `since` (unix time)."""
    return [e for e in catalog() if e.source == "yours" and not e.error and e.stamp / 1e9 >= since]


def board_since() -> float:
    msg = class_channel().latest(BOARD)
    return float(msg.body.get("since", 0.0)) if msg else 0.0


def board_table(since: float, latent: int | str = ANY) -> pd.DataFrame:
    """The class's models saved after `since` (unix time), best test MSE first, for the challenge's latent size."""
    rows = [e for e in class_models(since) if e.mse is not None and (latent == ANY or e.latent_dim == latent)]
    rows.sort(key=lambda e: (e.mse, e.stamp))
    return pd.DataFrame([{
        "rank": i, "model": e.name, "who": e.trained_by or "anonymous", "test MSE": e.mse,
        "latent size": e.latent_dim, "variant": e.variant, "training s": e.train_seconds,
        "saved": time.strftime("%H:%M", time.localtime(e.stamp / 1e9)), "key": e.key,
    } for i, e in enumerate(rows, 1)], columns=["rank", "model", "who", "test MSE", "latent size", "variant",
                                                 "training s", "saved", "key"])


def _new_board() -> None:
    class_channel().publish(BOARD, {"since": time.time()})


def _open(key: str, dataset: str) -> None:
    choose(dataset=dataset, model=key)
    open_page("reconstructions")


def teacher_board() -> None:
    """At the top of the teacher's Train page."""
    if not is_teacher():
        return
    since = board_since()
    with st.expander("The class board", icon=":material/leaderboard:", expanded=True):
        sizes = sorted({e.latent_dim for e in class_models(since)})
        c1, c2 = st.columns([3, 1])
        latent = c1.selectbox("Challenge: lowest test MSE at latent size", [ANY, *sizes], key="board_latent",
                              help="Each student trains on the Train page; the board ranks what they saved.")
        c2.button("Start a new board", key="board_new", icon=":material/restart_alt:", on_click=_new_board,
                  width="stretch", help="From now on, only models saved after this moment are on the board.")
        table = board_table(since, latent)
        started = time.strftime("%H:%M", time.localtime(since)) if since else "the start"
        if table.empty:
            st.info(f"No model of the class matches yet (since {started}). Students train on this page; their "
                    "models appear here when they are saved.", icon=":material/hourglass_empty:")
            return
        st.caption(f"{len(table)} model{'s' if len(table) != 1 else ''} saved since {started}; the leader is "
                   f"**{table['model'][0]}** by **{table['who'][0]}** at test MSE {table['test MSE'][0]:.4f}.")
        st.dataframe(table.drop(columns=["key"]), hide_index=True, key="board_table",
                     column_config={"test MSE": st.column_config.NumberColumn(format="%.4f"),
                                    "training s": st.column_config.NumberColumn(format="%.1f")})
        keys = table["key"].tolist()
        entries = {e.key: e for e in catalog()}
        o1, o2 = st.columns([3, 1])
        pick = o1.selectbox("Open on the projector", keys, key="board_pick",
                            format_func=lambda k: f"{entries[k].name} ({entries[k].trained_by or 'anonymous'})")
        o2.button("Open it", key="board_go", icon=":material/open_in_new:", width="stretch", on_click=_open,
                  args=(pick, entries[pick].dataset))
