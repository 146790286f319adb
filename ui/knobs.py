"""The Train page's widgets for a variant's own knobs, generated from its Params class (ae.knobs): a new variant's
knobs appear here without an edit."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ae.knobs import Knob, knobs
from ae.registry import VARIANTS


def _key(variant: str, k: Knob) -> str:
    return f"tr_{variant}_{k.name}"


def _shown(variant: str, k: Knob) -> bool:
    """A knob with only=(other, value) is shown while the other knob holds that value."""
    if k.only is None:
        return True
    other = next((o for o in knobs(VARIANTS[variant].Params) if o.name == k.only[0]), None)
    current = st.session_state.get(_key(variant, other), other.default) if other else None
    return current == k.only[1]


def knob_widgets(variant: str, image: bool) -> None:
    """One widget per knob, three to a row: a select for choices, a slider where the knob has a step, else a
    number box. Values land in st.session_state under tr_<variant>_<knob>."""
    shown = [k for k in knobs(VARIANTS[variant].Params) if _shown(variant, k)]
    for row in range(0, len(shown), 3):
        for col, k in zip(st.columns(3), shown[row : row + 3]):
            _widget(col, variant, k, image)


def _widget(col: Any, variant: str, k: Knob, image: bool) -> None:
    key = _key(variant, k)
    if k.choices:
        options = list(k.options(image))
        col.selectbox(k.label, options, index=options.index(k.default) if k.default in options else 0, key=key,
                      help=k.help)
    elif k.kind is str:
        col.text_input(k.label, k.default, key=key, help=k.help)
    else:
        lo, hi = k.min, k.ui_max if k.ui_max is not None else k.max
        if k.step is not None and lo is not None and hi is not None:
            col.slider(k.label, k.kind(lo), k.kind(hi), k.default, k.kind(k.step), key=key, help=k.help)
        else:
            col.number_input(k.label, None if lo is None else k.kind(lo), None if hi is None else k.kind(hi),
                             k.default, key=key, help=k.help, **({"format": k.fmt} if k.fmt else {}))


def knob_values(variant: str) -> dict[str, Any]:
    """The chosen variant's knobs as its widgets hold them (defaults for any not drawn yet); hidden knobs are left
    out so the variant's own default applies."""
    out = {}
    for k in knobs(VARIANTS[variant].Params):
        if _shown(variant, k):
            value = st.session_state.get(_key(variant, k), k.default)
            out[k.name] = k.kind(value) if k.kind in (int, float) else value
    return out
