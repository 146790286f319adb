"""Helpers the AppTest suites share: open the app on a page with some session state, find a caption."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def app(page: str | None = None, **state) -> AppTest:
    """The app after its first run (and a switch to `page`), with no exception on the way."""
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def caption_matching(at: AppTest, pattern: str) -> str:
    for c in at.caption:
        if re.search(pattern, c.value):
            return c.value
    raise AssertionError(f"no caption matches {pattern!r}: {[c.value for c in at.caption]}")
