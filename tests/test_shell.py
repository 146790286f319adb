"""The shell through Streamlit's public API only: no private module or flag anywhere in the app, a page opened
outside the shell declares the navigation and reruns (the browser test
`test_a_page_url_opened_first_on_a_fresh_server_gets_the_full_app` checks it end to end), and a browser is known by
a cookie of our own."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def app_sources() -> list[Path]:
    return [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]


def test_the_app_uses_no_private_streamlit_api():
    private = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in app_sources()
               for m in re.finditer(r"streamlit\.runtime|streamlit\.web|_streamlit_xsrf|uses_pages_directory",
                                    p.read_text())]
    assert private == []


def test_every_page_starts_inside_the_shell_and_the_shell_lists_every_page():
    from ui.shell import PAGES

    listed = {path for path, _, _ in PAGES}
    files = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    assert listed == files
    for path in files:
        body = (ROOT / path).read_text()
        assert "ensure_shell()" in body.split("st.title", 1)[0], f"{path} must call ensure_shell() before anything"


def test_a_browser_keeps_one_id_from_its_own_cookie():
    from ui.state import BROWSER_COOKIE, TOKEN

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    html = [el for el in at.get("html") if BROWSER_COOKIE in str(el.proto)]
    assert html, "a browser without the cookie is given one"
    token = at.session_state["_browser_id"]
    assert TOKEN.fullmatch(token) and f"{BROWSER_COOKIE}={token}" in str(html[0].proto)
