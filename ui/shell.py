"""Make sure a page always runs inside app.py's shell (navigation, sidebar, warm-up)."""

from __future__ import annotations

import streamlit as st


def ensure_shell() -> None:
    """A fresh server whose first visitor opens a page's own URL (say /latent_space) runs that pages/ file alone,
    in Streamlit's older folder-based multipage mode, until some run of app.py calls st.navigation. Switch that mode
    off and rerun, so the visitor gets the real shell with the same page. (PagesManager.uses_pages_directory is the
    flag st.navigation itself clears.)"""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
