"""Nothing blank, in Chromium against a fresh `make run` server: every page of a model that has no analyses yet shows,
within a second of its title, either its content or a progress bar saying what the analysis worker computes; and the
page fills in by itself when the worker is done."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest

from ae.store.zoo import ZOO_DIR
from tests.browser import assert_no_exception, chromium_or_skip, screenshot, start_server, stop_server

pytestmark = pytest.mark.browser

# what each page shows once its analyses are there, as a CSS selector inside the main area
READY = {
    "": '[data-testid="stDataFrame"]', "reconstructions": '[data-testid="stMetric"]',
    "latent_space": '.st-key-map_chart [data-testid="stPlotlyChart"]', "draw": ".st-key-dr_canvas",
    "generate": '[data-testid="stTabs"]', "denoise": '[data-testid="stMetric"]',
    "anomalies": '[data-testid="stPlotlyChart"]', "compare": '[data-testid="stDataFrame"]',
    "compress": '[data-testid="stPlotlyChart"]', "features": '[data-testid="stPlotlyChart"]',
    "train": ".st-key-train_start, .st-key-io_model_zip",
}
STATE = """(ready) => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main) return {title: false, ready: false, progress: false, sig: ''};
  return {title: !!main.querySelector('h1'), ready: !!main.querySelector(ready),
          progress: !!main.querySelector('[data-testid="stProgress"], [data-testid="stSpinner"]'),
          drawing: !!main.querySelector('[data-testid="stElementContainer"] [data-testid="stSkeleton"]'),
          sig: main.querySelectorAll('[data-testid="stElementContainer"]').length + '|' + main.innerText.length,
          text: [...main.querySelectorAll('[data-testid="stProgress"]')].map(e => e.innerText).join(' | ')};
}"""


@pytest.fixture(scope="module")
def fresh_server():
    """A server started for this module alone, with a model whose analyses have never been computed."""
    chromium_or_skip()
    models = tempfile.mkdtemp(prefix="latent-lab-fresh-models-")
    for suffix in (".json", ".safetensors"):
        shutil.copy(ZOO_DIR / f"conv-vae-16{suffix}", f"{models}/fresh-vae{suffix}")
    runs = Path(models) / "runs.log"  # the server notes the end of every script run here (ui/runlog.py)
    proc, url = start_server(models, LATENT_LAB_RUN_LOG=str(runs))
    yield url, runs
    stop_server(proc)
    shutil.rmtree(models, ignore_errors=True)


def finished_runs(log: Path, since: int, page: str) -> int:
    """Runs of `page` the server finished after byte `since` of its run log."""
    if not log.exists():
        return 0
    with open(log) as f:
        f.seek(since)
        return sum(1 for line in f if line.split("\t")[0] == (page or "home"))


def test_every_page_shows_its_content_or_a_progress_bar_within_a_second(browser, fresh_server):
    url, log = fresh_server
    waited = {}
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        for path, ready in READY.items():
            tab = ctx.new_page()
            since = log.stat().st_size if log.exists() else 0
            tab.goto(f"{url}/{path}?model=yours/fresh-vae&dataset=mnist-5k")
            tab.locator('[data-testid="stMain"] h1').first.wait_for(timeout=60_000)
            # from its title on, while the server works on the page, the page is never silent for a second: it shows
            # its content, or a progress bar or spinner, or at least keeps adding to what it shows (once the server's
            # run is over, what is left is the browser drawing charts and tables). The clock stands still while an
            # element the server has sent waits for its code: Streamlit's browser side loads the code of progress
            # bars, spinners, tables and charts on first use and shows its shimmering placeholder (stSkeleton) in the
            # meantime; on a loaded machine that first load alone took over a second, with the bar already sent.
            quiet_since, sig, shown = time.perf_counter(), None, None
            while shown is None:
                s = tab.evaluate(STATE, ready)
                if s["ready"] or s["progress"] or finished_runs(log, since, path):
                    shown = s
                elif s["sig"] != sig or s["drawing"]:
                    sig, quiet_since = s["sig"], time.perf_counter()
                else:
                    silent = time.perf_counter() - quiet_since
                    assert silent < 1.0, f"/{path}: {silent:.2f} s after its title with no progress and no change"
                    time.sleep(0.05)
            # the bar follows the worker (or the gallery being drawn) and the page fills in by itself
            deadline = time.perf_counter() + 240
            while not (s["ready"] and not s["progress"]) and time.perf_counter() < deadline:
                if "computed once on a worker" in s["text"] and path not in waited:
                    waited[path] = s["text"]
                    if len(waited) == 1:
                        screenshot(tab, "progress_while_analysing")
                time.sleep(0.1)
                s = tab.evaluate(STATE, ready)
            assert s["ready"] and not s["progress"], f"/{path} did not fill in: {s}"
            assert_no_exception(tab)
            tab.close()
    finally:
        ctx.close()
    # the fresh model's own analyses were computed for the first pages that needed them
    assert {"reconstructions", "latent_space"} <= set(waited), waited
    assert all("fresh-vae" in text for text in waited.values()), waited
