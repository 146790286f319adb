"""A real browser against `streamlit run`: Debian's Chromium driven by Playwright.

Skips, saying why, where /usr/bin/chromium is missing (CI installs it in .ci/run).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
    "--force-prefers-reduced-motion",  # Streamlit's spinners and shimmer stop repainting: less CPU, the same elements
]


AXE = ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"  # npm's axe-core, installed by `make test`
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Serious or critical findings in markup Streamlit draws, which the app cannot change; each with where it is reported.
# Empty since the navigation became a flat list (its sections put the links' <li>s outside the <ul>: `list`,
# `listitem`); add an entry only with a comment saying which Streamlit element and why it cannot be fixed here.
STREAMLIT_OWNED: dict[str, str] = {}  # rule id -> CSS selector of the Streamlit element it is allowed on


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_or_skip() -> None:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install -y chromium)")


def start_server(models: str, **env: str) -> tuple[subprocess.Popen, str]:
    """A real server as `make run` starts it (ui.serve), on loopback, saving models in `models`; its analyses run on
    its own Dask analysis worker (the AppTest suites' in-process shortcut is not passed on)."""
    from ae import settings
    from ae.run.processes import start

    port = free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", settings.MODELS: models, **env}
    env.pop(settings.ANALYSIS_INLINE, None)
    log = Path(tempfile.mkdtemp(prefix="latent-lab-test-server-")) / "server.log"
    # its own process group, and it dies with this test process: a killed test run leaves no server behind
    proc = start([sys.executable, "-m", "ui.serve", "--server.headless", "true", "--server.port", str(port),
                  "--server.address", "127.0.0.1"], log, env, inherit=False)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {log.read_text(errors='replace')[-2000:]}")
    stop_server(proc)
    raise RuntimeError("streamlit did not become healthy in 90 s")


def stop_server(proc: subprocess.Popen) -> None:
    """The server and the Dask processes it started (its process group)."""
    from ae.run.processes import stop

    stop({"server": proc})


@pytest.fixture(scope="session")
def streamlit_url():
    chromium_or_skip()
    # models trained by the browser tests go to a temporary folder, never the user's models/
    models = tempfile.mkdtemp(prefix="latent-lab-browser-models-")
    os.environ["LATENT_LAB_MODELS"] = models
    proc, url = start_server(models)
    yield url
    stop_server(proc)


@pytest.fixture(scope="session")
def browser(streamlit_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def shared_context(browser):
    """One browser context for the tests that are one student each: a tab per test is a new Streamlit session, and
    the context's cache keeps Streamlit's compiled JavaScript (a fresh context per test parsed it again: 82 s of
    Chromium's CPU over test_browser.py, 71 s this way). Tests about two students open contexts of their own."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield ctx
    ctx.close()


@pytest.fixture
def page(shared_context):
    p = shared_context.new_page()
    yield p
    p.close()


def wait_idle(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished the current run (its status widget says 'Running' while busy)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    # attached, not visible: in projector mode the sidebar is drawn but hidden
    page.wait_for_selector('[data-testid="stSidebar"] [data-testid="stSelectbox"]', state="attached", timeout=timeout)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=timeout,
    )
    page.wait_for_timeout(300)


def accessibility_violations(page) -> list[str]:
    """axe-core's serious and critical WCAG 2.0/2.1 A and AA violations on the page as it is now, one line per element
    (rule, impact, element, why), leaving out STREAMLIT_OWNED."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing ({AXE}): `make test` installs it with npm")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async ([tags, owned]) => {
            // WCAG 1.4.3 exempts the text of an inactive component: the label of a disabled widget (a paused
            // student's sliders) is greyed out on purpose. axe sees the label, not that its widget is disabled.
            const inactive = (el) => {
                const box = el && el.closest('[data-testid="stElementContainer"], .stElementContainer');
                return !!box && !!box.querySelector(':disabled, [aria-disabled="true"]')
                    && !!el.closest('[data-testid="stWidgetLabel"]');
            };
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').flatMap(v =>
                v.nodes.filter(n => !(owned[v.id] && document.querySelector(n.target[0])?.closest(owned[v.id])))
                       .filter(n => !(v.id === 'color-contrast' && inactive(document.querySelector(n.target[0]))))
                       .map(n => `${v.id} (${v.impact}): ${n.html.slice(0, 120)} :: ${n.failureSummary}`));
        }""", [WCAG_AA, STREAMLIT_OWNED])
    return found


def assert_accessible(page) -> None:
    found = accessibility_violations(page)
    assert not found, "\n".join(found[:20])


def assert_no_exception(page) -> None:
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, boxes.first.inner_text()


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    # Streamlit scrolls inside its own container, so grow the viewport to the content for a whole-page picture
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], section')]"
        ".map(e => e.scrollHeight), 800)"
    )
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 6000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path
