"""ui/shell.ensure_shell flips one private Streamlit flag (a page URL opened first on a fresh server would run the
pages/ file alone, in the old folder-based multipage mode). These tests fail loudly when an upgrade of Streamlit
moves or renames what it relies on; the browser test `test_a_page_url_opened_first_on_a_fresh_server_gets_the_full_app`
checks the behaviour end to end."""

from __future__ import annotations

import inspect

import streamlit
from streamlit.commands import navigation
from streamlit.runtime import pages_manager
from streamlit.runtime.scriptrunner import script_runner


def test_the_flag_ensure_shell_flips_still_exists_and_still_decides_the_mode():
    assert hasattr(pages_manager.PagesManager, "uses_pages_directory"), (
        f"Streamlit {streamlit.__version__} has no PagesManager.uses_pages_directory: rework ui/shell.py"
    )
    assert "PagesManager.uses_pages_directory = False" in inspect.getsource(navigation), (
        "st.navigation no longer clears the folder-mode flag: ui/shell.py's workaround may be wrong"
    )
    assert "if PagesManager.uses_pages_directory:" in inspect.getsource(script_runner), (
        "the script runner no longer reads the folder-mode flag: ui/shell.py's workaround may be unneeded or wrong"
    )


def test_only_ui_shell_touches_the_private_flag():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    users = [p.relative_to(root).as_posix() for d in ("ae", "ui", "pages") for p in (root / d).rglob("*.py")
             if "uses_pages_directory" in p.read_text()] + (["app.py"] if "uses_pages_directory" in
                                                            (root / "app.py").read_text() else [])
    assert users == ["ui/shell.py"]
