"""The class map (issue 20): with the teacher's "Collect drawings" on, every student's latest drawing on the Draw page
(and an optional first name) lands on one map on the teacher's Draw page within two seconds, placed like the test
points, with its thumbnail, its nearest class and its reconstruction error. The teacher can show one to everyone,
clear the board, and export the drawings (PNGs and a CSV of codes).

How: a drawing travels on the class's channel (ae/run/broadcast.py) as the model's input in uint8 (784 bytes for a
digit), one slot per browser, so a student's new stroke replaces their previous drawing. The teacher's tab reads the
slots from a fragment that reruns every second and runs each new drawing through the teacher's own model once: every
drawing is placed by the same model on the same map.
"""

from __future__ import annotations

import hashlib
import re
import time

import numpy as np
import pandas as pd
import streamlit as st
import torch

from ae.explore.drawing import majority, place_on_map
from ae.store.export import drawings_zip
from ui.cache import AXES, MAP_METHODS, class_channel, map_choices, read_drawing_on
from ui.describe import chart
from ui.follow import class_mode, is_student
from ui.images import png, show
from ui.plots import class_drawings_map
from ui.state import Selection, browser_id, map_of_test_split
from ui.teacher import enabled, is_teacher

DRAWING, CLEAR, SPOTLIGHT = "drawing:", "drawing-clear", "drawing-spotlight"
NAME = re.compile(r"[^\w '\-]")  # what a first name may hold: letters, digits, spaces, ' and -
MAX_NAME = 24
REFRESH_S = 1.0  # the teacher's map looks for new drawings this often
SENT, READ = "_class_map_sent", "_class_map_read"
BOARD = "_class_map_board"  # the teacher's board as last built, with what it was built from


def clean_name(raw: str) -> str:
    return NAME.sub("", raw).strip()[:MAX_NAME]


def collecting() -> bool:
    return class_mode()["collect"]


# ------------------------------------------------------------------ the student's side


def name_box() -> None:
    """Above a student's canvas while the teacher collects."""
    if is_student() and collecting():
        st.text_input("Your first name (optional)", key="class_map_name", max_chars=MAX_NAME,
                      help="Shown beside your drawing on the teacher's class map; leave it empty to stay anonymous.")
        st.caption(":material/co_present: Your drawing goes to the teacher's class map as you draw.")


def send(x) -> None:
    """A student's drawing (the model's input [1, C, H, W] in [0, 1]) to the class map, when it changed."""
    if not (is_student() and collecting()):
        return
    body = _body(np.asarray(x, dtype=np.float32)[0], clean_name(str(st.session_state.get("class_map_name", ""))))
    digest = hashlib.blake2b(body["pixels"] + body["name"].encode(), digest_size=8).hexdigest()
    if st.session_state.get(SENT) == digest:
        return
    st.session_state[SENT] = digest
    class_channel().publish(DRAWING + browser_id(), body)


def _body(image: np.ndarray, name: str) -> dict:
    """A drawing as it travels: [C, H, W] in [0, 1] as uint8 bytes (784 for a digit), its shape and a name."""
    pixels = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    return {"name": name, "shape": list(pixels.shape), "pixels": pixels.tobytes()}


def spotlight() -> None:
    """On every Draw page of the class: the drawing the teacher is showing."""
    if not (enabled() and collecting()):  # the teacher's projector tab shows it too
        return
    msg = class_channel().latest(SPOTLIGHT)
    if msg is None or not msg.body.get("pixels"):
        return
    image = _image(msg.body)
    if image is None:
        return
    who = clean_name(str(msg.body.get("name", ""))) or "a classmate"
    st.info(f"**The teacher is showing {who}'s drawing.**", icon=":material/co_present:")
    show(png(image, 6), f"{who}'s drawing", 168)


def _image(body: dict) -> np.ndarray | None:
    """A drawing's [C, H, W] image in [0, 1] (`_body` read back), or None when the message does not hold one."""
    try:
        shape = tuple(int(v) for v in body["shape"])
        pixels = np.frombuffer(body["pixels"], dtype=np.uint8)
        if len(shape) != 3 or not 0 < pixels.size <= 3 * 256 * 256 or pixels.size != int(np.prod(shape)):
            return None
        return pixels.reshape(shape).astype(np.float32) / 255
    except (KeyError, TypeError, ValueError):
        return None


# ------------------------------------------------------------------ the teacher's side


def drawings() -> list:
    """The class's drawings on the board now: each student's latest, said after the last Clear."""
    cleared = class_channel().latest(CLEAR)
    return class_channel().each(DRAWING, since=cleared.t if cleared else 0.0)


def class_table(sel: Selection, method: str, messages: list) -> tuple[pd.DataFrame, list[np.ndarray], np.ndarray,
                                                                      list]:
    """(one row per drawing of `messages` (from `drawings()`) that fits the teacher's model, their images, their
    [n, 2] places on the map, the test map (plane, coords)). Each drawing is read by the model once (kept by message
    id in this tab)."""
    entry, data = sel.entry, sel.data
    plane, coords, _ = map_of_test_split(sel, method)
    labels, names = (data.y_test.numpy() if data.y_test is not None else None), data.class_names
    seen = st.session_state.setdefault(READ, {})
    rows, images, places = [], [], []
    for msg in messages:
        image = _image(msg.body)
        if image is None or tuple(image.shape) != tuple(sel.model.cfg.input_shape):
            continue
        key = (msg.id, entry.path, entry.stamp)
        if key not in seen:
            seen[key] = read_drawing_on(entry.path, entry.stamp, data.name, torch.from_numpy(image[None]))
        report = seen[key]
        point, _ = place_on_map(report, coords, plane)
        top, votes = majority(labels[report.nearest]) if labels is not None else (None, 0)
        rows.append({"name": clean_name(str(msg.body.get("name", ""))) or "anonymous",
                     "sent": time.strftime("%H:%M:%S", time.localtime(msg.t)),
                     "nearest class": names[top] if top is not None else "", "votes": votes,
                     "error": report.error, "anomaly %": report.percentile,
                     "map x": float(point[0]), "map y": float(point[1]),
                     **{f"z{i}": float(v) for i, v in enumerate(report.code)}})
        images.append(image)
        places.append(point)
    live = {(m.id, entry.path, entry.stamp) for m in messages}
    for key in [k for k in seen if k not in live]:  # cleared or replaced drawings are forgotten
        del seen[key]
    return pd.DataFrame(rows), images, np.asarray(places, dtype=np.float32).reshape(-1, 2), [plane, coords]


def teacher_board(sel: Selection) -> None:
    """On the teacher's Draw page while collecting: the class map, refreshed every REFRESH_S seconds."""
    if not (is_teacher() and collecting()):
        return
    st.subheader("The class map")
    options, default = map_choices(sel.model.cfg.latent_dim)
    method_name = st.segmented_control("Map", options, default=default, key="class_map_method", required=True)
    _board(sel, MAP_METHODS[method_name], method_name)
    st.divider()


@st.fragment(run_every=REFRESH_S)
def _board(sel: Selection, method: str, method_name: str) -> None:
    data = sel.data
    labels = data.y_test.numpy() if data.y_test is not None else None
    messages = drawings()
    signature = (tuple(m.id for m in messages), sel.entry.path, sel.entry.stamp, method)
    kept = st.session_state.get(BOARD)
    if kept is None or kept[0] != signature:  # a new drawing: read it, and build the map once for every tick after
        table, images, places, (_, coords) = class_table(sel, method, messages)
        figure = class_drawings_map(coords, labels, data.class_names, AXES.get(method, ("z[0]", "z[1]")), places,
                                    images, table["name"].tolist()) if not table.empty else None
        kept = st.session_state[BOARD] = (signature, table, images, figure)
    _, table, images, figure = kept
    if table.empty:
        st.info("No drawings yet. Students on the Draw page appear here as they draw (ask them to open it, or lead "
                "the class there with “The class follows me”).", icon=":material/hourglass_empty:")
    else:
        st.caption(f"{len(table)} drawing{'s' if len(table) != 1 else ''} from the class, read by "
                   f"**{sel.entry.name}** and placed on its {method_name} map of the test digits (dots, by class).")
        chart(figure, "class_map_plot")
        show([png(im, 2) for im in images],
             [f"{r['name']} · {r['nearest class']} · MSE {r['error']:.3f}" for _, r in table.iterrows()], 56)
    c1, c2, c3 = st.columns([2, 1, 1])
    pick = c1.selectbox("Show a drawing to the class", range(len(table)), index=None, key="class_map_pick",
                        format_func=lambda i: f"{table['name'][i]} ({table['sent'][i]})",
                        placeholder="Pick a drawing", disabled=table.empty)
    c2.button("Show it", key="class_map_show", icon=":material/co_present:", disabled=pick is None,
              on_click=_show, args=(table["name"][pick] if pick is not None else "",
                                    images[pick] if pick is not None else None), width="stretch")
    c3.button("Clear the board", key="class_map_clear", icon=":material/delete_sweep:", disabled=table.empty,
              on_click=_clear, width="stretch")
    if not table.empty:
        st.download_button("Export the drawings (zip: PNGs and a CSV of codes)",
                           lambda: drawings_zip(table, images), "class-drawings.zip", "application/zip",
                           key="class_map_export", icon=":material/download:")


def _show(name: str, image: np.ndarray | None) -> None:
    if image is not None:
        class_channel().publish(SPOTLIGHT, _body(image, name))


def _clear() -> None:
    class_channel().publish(CLEAR, {})
    class_channel().publish(SPOTLIGHT, {})
