"""Projector mode (issue 22): a page that reads from the back of a room on a 1280x720 projector. The sidebar is hidden,
type and widgets grow (Streamlit sizes them in rem, so the root font size scales them all), and images, chart text and
markers grow by SCALE (images by the style, charts where they are drawn: ui.describe). A tab's own choice: the
sidebar's toggle or the link's `projector=1`, which the address bar keeps, so the teacher's copied link opens the
projector in it; a class following the teacher is not switched into it (the view the teacher sends leaves it out)."""

from __future__ import annotations

import streamlit as st

KEY = "projector"
SCALE = 1.5  # images, chart fonts and markers; type follows ROOT_FONT
ROOT_FONT = "150%"
STYLE = f"""<style>
html {{ font-size: {ROOT_FONT}; }}
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"] {{
  display: none !important; }}
[data-testid="stMainBlockContainer"] {{ max-width: 100%; padding: 0.75rem 1.5rem 2rem 1.5rem; }}
[data-testid="stMain"] [data-testid="stImage"] img {{ zoom: {SCALE}; max-width: calc(100% / {SCALE}); }}
</style>"""


def on() -> bool:
    return bool(st.session_state.get(KEY))


def take_link() -> None:
    """At a session's first run: the link's projector=1 turns it on (a later link value is the toggle's own)."""
    if f"_{KEY}_read" not in st.session_state:
        st.session_state[f"_{KEY}_read"] = True
        st.session_state[KEY] = st.query_params.get(KEY) in ("1", "true")


def toggle() -> None:
    """The sidebar's switch (the sidebar is hidden while it is on: `apply` draws the way back)."""
    st.toggle("Projector mode", key=KEY, help="hides this sidebar and enlarges type, images and charts, to read from "
                                               "the back of a room; the link (projector=1) opens it that way")


def apply() -> None:
    """Before the page: the style, and a way out at the top of the page, while it is on."""
    if not on():
        return
    st.html(STYLE)
    st.button("Leave projector mode", key="projector_off", icon=":material/close_fullscreen:",
              on_click=st.session_state.__setitem__, args=(KEY, False))


def link_params(params: dict[str, str]) -> dict[str, str]:
    """The address bar's parameters: the view's, and projector=1 while it is on."""
    return {**params, KEY: "1"} if on() else params


def enlarged(fig):
    """A copy of the figure with larger text and markers in projector mode (the figure itself may be shared by
    every session: st.cache_resource); the figure as it is otherwise."""
    if not on():
        return fig
    import plotly.graph_objects as go

    fig = go.Figure(fig)
    fig.update_layout(font=dict(size=int(12 * SCALE)))
    for trace in fig.data:
        marker = getattr(trace, "marker", None)
        if marker is not None and isinstance(marker.size, int | float):
            marker.size = marker.size * SCALE
    return fig
