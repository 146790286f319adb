"""The app's shell: its pages (one list, here) and the guarantee that a page always runs inside it (navigation,
sidebar, warm-up), through Streamlit's public API only.

Why a page must check: with a `pages/` folder beside app.py, Streamlit starts every process in its older folder-based
multipage mode, and keeps it until some run declares the app's pages with `st.navigation`. A fresh server whose first
visitor opens a page's own address (say /latent_space) therefore runs that pages/ file alone, without app.py. The
folder's name is fixed by the project's design; so each page calls `ensure_shell()` first, which notices the shell did
not run, declares the navigation itself (the public call that ends the folder mode) and reruns: the visitor gets the
whole app, on the page they asked for.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[1]
SHELL_RAN = "_shell_ran"  # set by app.py in every run just before the page, taken (cleared) by the page

# One flat list, in the order a lesson goes: with sections, Streamlit 1.67 puts each section's header and links in a
# <div> straight inside the navigation's <ul>, so every link's <li> is outside a list (axe-core: 1 `list` and 11
# `listitem` violations, serious, on every page; issue 22). Without sections the <li>s are the list's own children.
PAGES = [
    ("pages/home.py", "Home", ":material/home:"),
    ("pages/reconstructions.py", "Reconstructions", ":material/compare:"),
    ("pages/latent_space.py", "Latent space", ":material/scatter_plot:"),
    ("pages/draw.py", "Draw", ":material/draw:"),
    ("pages/generate.py", "Generate", ":material/auto_awesome:"),
    ("pages/denoise.py", "Denoise", ":material/blur_off:"),
    ("pages/anomalies.py", "Anomalies", ":material/crisis_alert:"),
    ("pages/compare.py", "Compare", ":material/view_column:"),
    ("pages/compress.py", "Compress", ":material/compress:"),
    ("pages/features.py", "Features", ":material/category:"),
    ("pages/train.py", "Train", ":material/model_training:"),
]


HOME = "pages/home.py"


def navigation():
    """`st.navigation` over PAGES. Home is the default page, at the app's root address; /home (a page's own address,
    as every other page has one) is a hidden page that moves to it."""
    home = st.Page(ROOT / HOME, title="Home", icon=":material/home:", default=True, url_path="start")  # see below
    pages = [home if path == HOME else st.Page(ROOT / path, title=title, icon=icon) for path, title, icon in PAGES]
    # the default page's own name ("start") is never shown: it lives at the root; "home" is taken by this alias
    pages.append(st.Page(lambda: st.switch_page(home), title="Home", url_path="home", visibility="hidden"))
    return st.navigation(pages)


def enter() -> None:
    """Called by app.py in every run, just before it runs the page: the page is inside the shell."""
    st.session_state[SHELL_RAN] = True


def ensure_shell() -> None:
    """First line of every page: outside the shell (the folder mode above), declare the navigation and rerun. The mark
    is taken, so it tells about this run only (AppTest, for one, starts every run in the folder mode)."""
    if not st.session_state.pop(SHELL_RAN, False):
        navigation()
        st.rerun()


def page_file(url_path: str) -> Path | None:
    """The file of the page at `url_path` ("" is Home, as `st.navigation` names the default page), or None."""
    if url_path in ("", "home"):
        return ROOT / HOME
    files = [ROOT / path for path, _, _ in PAGES]
    return next((f for f in files if f.stem == url_path), None)


def switch_to(url_path: str | None, current: str) -> None:
    """Open the page at `url_path` when it is a page of this app and not the one running (`current`). Call it before
    the page runs: a switch asked for inside a page is lost when the run then rewrites the URL."""
    target = page_file(url_path) if url_path is not None else None
    if target is not None and url_path != current:
        st.switch_page(target)
