"""Share a view by link: the URL carries the dataset, the model and the page's main widget values
(`st.query_params`), so a teacher pastes one link and every student opens the same view.

A link is read once, at a session's first run. Its dataset and model are checked against what this server has; a
widget's value against that widget's options or range, when the page draws it (`linked`). Anything that does not
fit is dropped with a message (above the page, or where the widget is), never an error. After every run the URL is
rewritten to say what is on screen now, so copying the address bar shares the current view.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import Any

import streamlit as st

from ui.shell import switch_to

PENDING = "_link_pending"  # the link's widget values not yet claimed by a widget
MAX_PARAMS, MAX_VALUE, MAX_LINK = 40, 200, 4000  # what a link may carry (a page's settings are a few hundred bytes)
NOTES = "_link_notes"  # what the link asked for that is not here, shown once
RUN_KEYS = "_link_keys"  # the widgets this run put in the URL
FULL_RUN = "_link_full_run"  # a page's full run is going (its RUN_KEYS are still being collected)
GLOBAL = ("dataset", "model")
LOCKED = "_class_paused"  # set for each run by ui/follow.py: the teacher paused the class, the widgets are locked


def take_link(datasets: Sequence[str], models: Sequence[str]) -> None:
    """At a session's first run: the link's dataset and model become the session's choices when this server has
    them; the rest waits for the widgets that claim it."""
    if PENDING in st.session_state:
        return
    params = st.query_params.to_dict()
    size = sum(len(k) + len(v) for k, v in params.items())
    if len(params) > MAX_PARAMS or size > MAX_LINK or any(len(v) > MAX_VALUE for v in params.values()):
        st.session_state[PENDING] = {}  # bounded before anything is parsed: nothing of it is read
        st.session_state[NOTES] = [f"The link carries {len(params)} settings in {size:,} characters, more than any "
                                   "view needs; it was ignored and the default view opened."]
        return
    adopt(params, datasets, models)


def adopt(params: dict[str, str], datasets: Sequence[str], models: Sequence[str], source: str = "The link") -> None:
    """Make a view this session's (a link's, or the teacher's when the class follows): its dataset and model now,
    when this server has them, its widget values as each widget is drawn. Before the sidebar is drawn."""
    from ui.state import choose

    params, notes = dict(params), []
    for key, known in (("dataset", datasets), ("model", models)):
        value = params.pop(key, None)
        if value is None:
            continue
        if value in known:
            choose(**{key: value})
        else:
            missing, instead = (("this server does not have", "the default") if source == "The link" else
                                ("is not open in this tab", "yours"))
            notes.append(f"{source} names the {key} **{value}**, which {missing}; showing {instead} instead.")
    st.session_state[PENDING] = params
    st.session_state[NOTES] = notes


def open_view(page: str, params: dict[str, str], current: str, datasets: Sequence[str], models: Sequence[str],
              source: str) -> None:
    """`adopt` a view and open its page (a lesson step, the teacher's view when the class follows)."""
    adopt(params, datasets, models, source=source)
    switch_to(page, current)


def show_notes() -> None:
    for note in st.session_state.pop(NOTES, []):
        st.info(note, icon=":material/link_off:")


def _parse(raw: str, options: Sequence[Any] | None, kind: type) -> Any:
    if kind is list:  # a multiselect: its choices, comma-separated (no option's text holds a comma), each an option
        return [_parse(p, options or (), str) for p in dict.fromkeys(raw.split(",")) if p]
    if options is not None:
        by_text = {_text(o): o for o in options}
        if raw not in by_text:
            raise ValueError(f"one of {', '.join(by_text)}")
        return by_text[raw]
    if kind is bool:
        if raw not in ("true", "false"):
            raise ValueError("true or false")
        return raw == "true"
    value = kind(raw)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a finite number")
    return value


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "all" if value is None else str(value)


def linked(key: str, options: Sequence[Any] | None = None, lo: float | None = None, hi: float | None = None,
           kind: type = str) -> None:
    """Call just before drawing widget `key`: it takes its value from the link when the value fits (one of
    `options`, or a `kind` within [lo, hi]), and its value goes into the URL from now on."""
    keys = st.session_state.setdefault(RUN_KEYS, [])
    if key not in keys:  # a fragment reruns its widgets without the page's reset
        keys.append(key)
    pending = st.session_state.get(PENDING) or {}
    if key not in pending:
        _mirror(key)
        return
    raw = pending.pop(key)
    try:
        value = _parse(raw, options, kind)
        if lo is not None and hi is not None and not lo <= value <= hi:
            raise ValueError(f"between {lo} and {hi}")
    except ValueError as e:
        shown = (e.args[0] if e.args else "") or "another value"
        st.info(f"The link sets **{key}** to {raw!r}, which does not fit here (expected {shown}); kept the default.",
                icon=":material/link_off:")
        return
    st.session_state[key] = value
    _mirror(key)


def _mirror(key: str) -> None:
    """The widget's current value into the URL now: a fragment's rerun (Denoise's noise and level) never reaches
    `write_link`."""
    if key in st.session_state:
        text = _text(st.session_state[key])
        if st.query_params.get(key) != text:
            st.query_params[key] = text
            if not st.session_state.get(FULL_RUN):  # a fragment's rerun: no write_link will follow
                _lead()


def view_params() -> dict[str, str]:
    """The view as a link's parameters: the sidebar's choices and the values of the widgets the page links (those of
    the last run, before this run has drawn its own), as they are now."""
    ss = st.session_state
    params = {k: str(ss[k]) for k in GLOBAL if ss.get(k) is not None}
    for key in dict.fromkeys(ss.get(RUN_KEYS, [])):
        if key in ss:
            params[key] = _text(ss[key])
    return params


def write_link() -> None:
    """The URL after this run: the sidebar's choices and the page's linked widgets, as they are now. (After st.stop()
    Streamlit drops this write: the URL then holds what `shared_view` and `_mirror` wrote during the run.)"""
    _lead()  # first: after st.stop() the URL write below may end the run
    from ui.projector import link_params

    params = link_params(view_params())  # the teacher's own tab keeps projector=1; the class is not sent it
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)


def _lead() -> None:
    """The URL is the view: when this tab is the teacher's and the class follows, the class gets it too."""
    from ui.follow import lead

    lead()


@contextlib.contextmanager
def shared_view() -> Iterator[None]:
    """Around a page's run: collect the widgets it links, then write the URL, also when the page stops early."""
    st.session_state[RUN_KEYS] = []
    st.session_state[FULL_RUN] = True
    for key in GLOBAL:  # now: a page that stops early (st.stop) never reaches write_link's URL
        value = st.session_state.get(key)
        if value is not None and st.query_params.get(key) != str(value):
            st.query_params[key] = str(value)
    try:
        yield
    finally:
        st.session_state[FULL_RUN] = False
        write_link()


# One call per shareable widget: its bounds or options, given once, are both the widget's and the link's check.
# `on` is where it is drawn (a column, the sidebar); every other keyword goes to the Streamlit widget. While the
# teacher has paused the class they are all disabled.


def _locked(kw: dict) -> dict:
    kw["disabled"] = kw.get("disabled", False) or bool(st.session_state.get(LOCKED))
    return kw


def slider(label: str, lo: float, hi: float, value: float, step: float | None = None, *, key: str, on: Any = st,
           **kw: Any) -> Any:
    linked(key, lo=lo, hi=hi, kind=type(value))
    return on.slider(label, lo, hi, value, step, key=key, **_locked(kw))


def number_input(label: str, lo: float, hi: float, value: float, *, key: str, on: Any = st, **kw: Any) -> Any:
    linked(key, lo=lo, hi=hi, kind=type(value))
    return on.number_input(label, lo, hi, value, key=key, **_locked(kw))


def select_slider(label: str, options: Sequence[Any], value: Any, *, key: str, on: Any = st, **kw: Any) -> Any:
    linked(key, list(options))
    return on.select_slider(label, options, value=value, key=key, **_locked(kw))


def selectbox(label: str, options: Sequence[Any], *, key: str, on: Any = st, **kw: Any) -> Any:
    linked(key, list(options))
    return on.selectbox(label, options, key=key, **_locked(kw))


def multiselect(label: str, options: Sequence[Any], default: Sequence[Any], *, key: str, on: Any = st,
                **kw: Any) -> list[Any]:
    """Its choices travel in the link comma-separated; the default only until the widget has a value."""
    linked(key, list(options), kind=list)
    first = {} if key in st.session_state else {"default": list(default)}
    return on.multiselect(label, options, key=key, **first, **_locked(kw))


def segmented_control(label: str, options: Sequence[Any], default: Any, *, key: str, on: Any = st, **kw: Any) -> Any:
    """Always one of `options` (required)."""
    linked(key, list(options))
    return on.segmented_control(label, options, default=default, key=key, required=True, **_locked(kw))


def toggle(label: str, value: bool, *, key: str, on: Any = st, **kw: Any) -> bool:
    linked(key, kind=bool)
    return on.toggle(label, value=value, key=key, **_locked(kw))
