"""A focus ring every keyboard user can see (WCAG 2.4.7, issue 22). Streamlit's own indicator on the sidebar's page
links is a 15% grey background, the same as the current page's, and a slider's thumb only changes its shadow; this
draws a 3px outline in the theme's primary colour (.streamlit/config.toml: 6.2:1 on white) around whatever the
keyboard has focused, and nothing for the mouse (`:focus-visible`)."""

from __future__ import annotations

import streamlit as st

STYLE = """<style>
:is(a, button, input, select, textarea, [role="slider"], [role="option"], [role="tab"], [tabindex]):focus-visible {{
  outline: 3px solid {colour} !important; outline-offset: 2px !important; }}
</style>"""


def ring() -> None:
    """Every run, before the page (st.html of a style alone takes no room on the page)."""
    st.html(STYLE.format(colour=st.get_option("theme.primaryColor") or "currentColor"))
