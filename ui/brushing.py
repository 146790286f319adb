"""Brushing across linked charts: a selection in one chart names test images (each point's customdata), and every
linked chart rings the same images. The chart selected in last wins; clearing it clears the brush."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

SEEN, ACTIVE = "_brush_seen", "_brush_active"  # each chart's last selection, and the chart selected in last


def picked(event) -> tuple[int, ...]:
    """The test images a chart's selection event names (each point's customdata), in order."""
    points = ((event or {}).get("selection") or {}).get("points") or []
    return tuple(sorted({int(p["customdata"]) for p in points if p.get("customdata") is not None}))


def brushed_points(keys: Sequence[str]) -> np.ndarray | None:
    """The test images selected in the linked charts `keys` (their st.plotly_chart keys), read before they are
    drawn; None when nothing is selected."""
    ss = st.session_state
    seen = ss.get(SEEN, {})
    now = {k: picked(ss.get(k)) for k in keys}
    changed = [k for k in keys if now[k] != seen.get(k, ())]
    ss[SEEN] = now
    if changed:
        ss[ACTIVE] = changed[-1]
    chosen = now.get(ss.get(ACTIVE, ""), ())
    return np.array(chosen, dtype=np.int64) if chosen else None
