"""The sidebar every page shares (dataset, model, device) and the loaded selection the pages work on."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import streamlit as st

from ae.config import incompatibility
from ae.data.sources import DESCRIPTIONS, Dataset, DatasetUnavailable, dataset_names
from ae.errors import InputError
from ae.models.base import Autoencoder
from ae.store.catalog import ModelEntry
from ae.store.checkpoints import CheckpointError
from ui import projector
from ui.cache import catalog, device_name, forget_failed_datasets, load_model, loads, open_dataset
from ui.share import LOCKED, take_link
from ui.shell import switch_to
from ui.teacher import sidebar_box
from ui.uploads import my_uploads

DEFAULT_DATASET = "mnist-5k"
DEFAULT_MODEL = "pretrained/conv-ae-16"


def _keep(widget_key: str, state_key: str) -> None:
    st.session_state[state_key] = st.session_state[widget_key]


def choose(dataset: str | None = None, model: str | None = None) -> None:
    """Point the sidebar at a dataset and/or a model (a button's callback: it runs before the sidebar is drawn).
    A name the sidebar does not offer falls back to its default there."""
    for value, state_key, widget_key in ((dataset, "dataset", "dataset_picker"), (model, "model", "model_picker")):
        if value is not None:
            st.session_state[state_key] = st.session_state[widget_key] = value


OPEN_PAGE = "_open_page"


def open_page(url_path: str) -> None:
    """A button's callback: open this page next (switched to before the next run draws anything: a switch asked for
    from inside a page is lost when the run then rewrites the URL)."""
    st.session_state[OPEN_PAGE] = url_path


def render_sidebar(page: str) -> None:
    """Called by app.py on every run, with the page about to run (its url_path). The choices live in plain session
    keys ("dataset", "model") that the pickers copy into, so they survive page switches (Streamlit forgets a widget's
    own state when it is not drawn). A student following the teacher takes the teacher's view here."""
    from ui.follow import follow_teacher, teacher_controls, watch
    from ui.lesson_steps import go_to_step

    entries = {e.key: e for e in catalog()}
    mine = list(my_uploads())
    yours = set(mine)  # captured: AppTest calls format_func outside the session, where my_uploads() is empty
    names = dataset_names() + mine
    take_link(names, list(entries))
    projector.take_link()
    switch_to(st.session_state.pop(OPEN_PAGE, None), page)
    go_to_step(page, names, list(entries))
    follow_teacher(page, names, list(entries))
    if st.session_state.get("dataset") not in names:
        st.session_state["dataset"] = DEFAULT_DATASET
    if st.session_state.get("model") not in entries:
        st.session_state["model"] = DEFAULT_MODEL if DEFAULT_MODEL in entries else next(iter(entries), None)
    keys = list(entries)
    for widget, options in (("dataset_picker", names), ("model_picker", keys)):
        if widget in st.session_state and st.session_state[widget] not in options:
            del st.session_state[widget]  # e.g. a model file removed, or an upload gone after a restart
    locked = bool(st.session_state.get(LOCKED))
    with st.sidebar:
        watch()
        st.selectbox(
            "Dataset", names, index=names.index(st.session_state["dataset"]), key="dataset_picker",
            format_func=lambda k: f"{k} [yours]" if k in yours else k,
            on_change=_keep, args=("dataset_picker", "dataset"), disabled=locked,
            help="\n\n".join(f"**{k}**: {v}" for k, v in DESCRIPTIONS.items()),
        )
        st.selectbox(
            "Model", keys, index=keys.index(st.session_state["model"]) if keys else None, key="model_picker",
            on_change=_keep, args=("model_picker", "model"), format_func=lambda k: entries[k].label(), disabled=locked,
            help="Shipped models are trained on mnist-5k; models you train appear here too.",
        )
        entry = entries.get(st.session_state["model"])
        if entry is not None and entry.about:
            st.caption(entry.about)
        st.caption(f"Running on **{device_name()}**")
        projector.toggle()
        sidebar_box(browser_id(), controls=teacher_controls)
        remember_browser()


@dataclass
class Selection:
    data: Dataset
    entry: ModelEntry
    model: Autoencoder
    meta: dict


def current_dataset() -> Dataset:
    """The chosen dataset, or a message saying what is missing and where to put it (and the page stops)."""
    name = st.session_state.get("dataset", DEFAULT_DATASET)
    try:
        return open_dataset(name)
    except (DatasetUnavailable, InputError) as e:
        st.error(f"**{name} is not available.** {e}", icon=":material/folder_off:")
        st.button("Retry", key="retry_dataset", on_click=forget_failed_datasets)
        st.stop()


def current_selection() -> Selection:
    """The sidebar's choices, loaded and checked; on any problem the page shows why and stops."""
    data = current_dataset()
    entries = {e.key: e for e in catalog()}
    entry = entries.get(st.session_state.get("model"))
    if entry is None:
        st.warning("No models found. Train one with `python -m ae train` or rebuild the zoo with "
                   "`python -m ae pretrain`.")
        st.stop()
    if entry.error:
        st.error(f"**{entry.name} cannot be loaded.** {entry.error}")
        st.stop()
    try:
        m, meta = load_model(entry.path, entry.stamp)
    except CheckpointError as e:
        st.error(f"**{entry.name} cannot be loaded.** {e}")
        st.stop()
    problem = incompatibility(m.cfg.input_shape, data.input_shape, data.name)
    if problem:
        st.warning(problem, icon=":material/block:")
        st.stop()
    return Selection(data=data, entry=entry, model=m, meta=meta)


BROWSER_COOKIE = "latent_lab_browser"
TOKEN = re.compile(r"[0-9a-f]{16}")


def browser_id() -> str:
    """Who this browser is, the same across reloads and tabs, so a reload finds its training job again: a random token
    of our own, kept in a cookie. A session whose browser has none yet makes one (in its state) and `remember_browser`
    writes it into the browser, so the next connection (a reload, a second tab) sends it back."""
    token = (st.context.cookies or {}).get(BROWSER_COOKIE, "")
    if TOKEN.fullmatch(token):
        return token
    return st.session_state.setdefault("_browser_id", uuid.uuid4().hex[:16])


def remember_browser() -> None:
    """While this browser has no token cookie: a line of our own script that sets it to this session's token (the
    token is ours, 16 hex digits: nothing from a user reaches the script). Streamlit reads cookies; it writes none."""
    if TOKEN.fullmatch((st.context.cookies or {}).get(BROWSER_COOKIE, "")):
        return
    token = browser_id()
    st.html(f"<script>document.cookie = '{BROWSER_COOKIE}={token}; path=/; max-age=31536000; SameSite=Lax';"
            "</script>", unsafe_allow_javascript=True)


def pick_models(data: Dataset, defaults: tuple[str, ...], key: str) -> tuple[tuple[str, str, int], ...]:
    """A multiselect of the models that read `data` (the shipped `defaults` preselected, else the sidebar's model);
    returns the loadable picks as (name, path, stamp), the plain values the cached computations are keyed by."""
    compatible = {e.key: e for e in catalog() if not e.error and tuple(e.input_shape) == tuple(data.input_shape)}
    default = [k for k in defaults if k in compatible] or [st.session_state.get("model")]
    picked = st.multiselect("Models", list(compatible), default=[k for k in default if k in compatible], key=key,
                            format_func=lambda k: compatible[k].name)
    return tuple((compatible[k].name, compatible[k].path, compatible[k].stamp) for k in picked
                 if loads(compatible[k].path, compatible[k].stamp))


def map_of_test_split(sel: Selection, method: str, i: int = 0, j: int = 1):
    """(plane or None, [N, 2] map of the test codes, where the map came from) for the Latent space and Draw pages,
    from the stored maps analysis (the page has `need`ed it). PCA and raw dims come with their plane (decodable,
    exact for new codes). A split too small for a map gets a message and the page stops."""
    from ui.cache import fit_plane, map_coords, map_origin

    entry, data = sel.entry, sel.data
    try:
        plane = fit_plane(entry.path, entry.stamp, data.name, method, i, j)[0] if method in ("pca", "raw") else None
        coords = map_coords(entry.path, entry.stamp, data.name, method, i, j)
    except (InputError, KeyError):  # KeyError: the stored maps have no UMAP or t-SNE (under 3 samples)
        st.info(f"**No map for {data.name}:** its test split has {len(data.x_test)} samples; a map needs at least 3.")
        st.stop()
    return plane, coords, map_origin(entry.path, data.name, method)
