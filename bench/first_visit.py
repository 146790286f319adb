"""First and second visit of every page on a fresh server, as a new user feels them: a real `streamlit run`, Debian's
Chromium (Playwright), seconds from typing the address until the page stops changing. Optionally on full-size data
(70,000 MNIST digits written as IDX files from the shipped ones, a model trained by the CLI on them), and a cold class
(30 websocket sessions opening the app 5 s after the server starts, then moving sliders for a minute).

    .venv/bin/python bench/first_visit.py                          # mnist-5k, the shipped conv-ae-16
    .venv/bin/python bench/first_visit.py --full                   # + full MNIST and a CLI-trained conv VAE
    .venv/bin/python bench/first_visit.py --cold-class 30          # + 30 sessions 5 s after a fresh start
    .venv/bin/python bench/first_visit.py --pages anomalies,compress --json out.json

How a visit is timed: each pass over the pages is one fresh browser context (a student's browser: the first page loads
Streamlit's scripts, later pages find them in its cache, as they would), which opens `/<page>?dataset=..&model=..`
in a new tab for every page. The server appends a line to $LATENT_LAB_RUN_LOG at the end of every run of a page
(ui/runlog.py); every 100 ms the bench reads that log and a signature of the main area (its text, how many images,
charts, canvases and tables, stale elements). "ready" is when the signature last changed, once a run of the page has
finished, no spinner or progress bar is left, and nothing has changed for 1.5 s; "first progress" is when a spinner
or progress bar first showed in the main area; "blank" is the longest time the main area showed at most the page's
title and no progress (from the moment the address was typed). A page still busy after --timeout seconds is
reported as such.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

PAGES = ["", "reconstructions", "latent_space", "draw", "generate", "denoise", "anomalies", "compare", "compress",
         "features", "train"]
STILL_S = 1.5

SIGNATURE = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main) return {sig: 'none', blank: true, progress: false, running: true};
  const q = s => main.querySelectorAll(s).length;
  const progress = q('[data-testid="stSpinner"], [data-testid="stProgress"], [role="progressbar"]') > 0;
  const blocks = [...main.querySelectorAll('[data-testid="stElementContainer"]')]
      .filter(e => e.offsetHeight > 0 && !e.querySelector('h1'));
  const text = main.innerText;
  return {sig: [text.length, text.slice(-200), q('img'), q('.js-plotly-plot'), q('canvas'),
                q('[data-testid="stDataFrame"]'), q('[data-stale="true"]'), q('[data-testid="stSkeleton"]')].join('|'),
          blank: blocks.length === 0, progress};
}"""


@dataclass
class Visit:
    page: str
    visit: int
    ready_s: float | None  # None: still changing at the timeout
    first_progress_s: float | None
    blank_s: float
    exception: bool
    run_done_s: float | None = None  # when the server had finished the page's first run (from the address typed)
    script_s: float | None = None  # how long that run took on the server


def runs_of(log: Path, start: int, page: str) -> list[float]:
    """The script seconds of each run of `page` the server finished since byte `start` of its run log."""
    try:
        with open(log) as f:
            f.seek(start)
            return [float(line.split("\t")[1]) for line in f if line.split("\t")[0] == (page or "home")]
    except FileNotFoundError:
        return []


TITLES = {"": "Home", "reconstructions": "Reconstructions", "latent_space": "Latent space", "draw": "Draw",
          "generate": "Generate", "denoise": "Denoise", "anomalies": "Anomalies", "compare": "Compare",
          "compress": "Compress", "features": "Features", "train": "Train"}


def time_visit(ctx, tab, url: str, page: str, visit: int, timeout: float, log: Path) -> tuple[Visit, object]:
    """Open `page`: by its address in a new tab (`tab` None: a shared link), or by its link in the sidebar of the
    open `tab` (a student moving between pages). Returns the visit and the tab."""
    start = log.stat().st_size if log.exists() else 0
    t0 = time.perf_counter()
    if tab is None:
        tab = ctx.new_page()
        tab.goto(url, wait_until="commit")
    else:
        link = tab.locator('[data-testid="stSidebarNav"] a', has_text=re.compile(rf"{TITLES[page]}$")).first
        link.click()
    last_sig, last_change = None, 0.0
    first_progress = None
    blank_since, blank_max = 0.0, 0.0
    ready = run_done = script = None
    while True:
        now = time.perf_counter() - t0
        runs = runs_of(log, start, page)
        if runs and run_done is None:
            run_done, script = now, runs[0]
        try:
            s = tab.evaluate(SIGNATURE)
        except Exception:  # the page is navigating
            s = {"sig": "loading", "blank": True, "progress": False}
        if s["progress"] and first_progress is None:
            first_progress = now
        if s["blank"] and not s["progress"]:
            if blank_since is None:
                blank_since = now
            blank_max = max(blank_max, now - blank_since)
        else:
            blank_since = None
        if s["sig"] != last_sig or s["progress"]:
            last_sig, last_change = s["sig"], now
        elif now - last_change >= STILL_S and runs:
            ready = last_change
            break
        if now > timeout:
            break
        time.sleep(0.1)
    exception = tab.locator('[data-testid="stException"]').count() > 0
    return Visit(page or "home", visit, ready, first_progress, blank_max, exception, run_done, script), tab


def start_server(env: dict, log: Path) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    cmd = [sys.executable, "-m", "ui.serve", "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1"]  # what `make run` runs
    t0 = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}", t0


def stop(proc: subprocess.Popen) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from classroom import stop_server

    stop_server(proc)


def visit_all(env: dict, query: str, pages: list[str], timeout: float, log: Path, label: str,
              navigate: bool) -> list[Visit]:
    """Two passes over the pages on a fresh server, each in a fresh browser: by address (a new tab per page, as a
    shared link opens) or, with `navigate`, the first page by address and the others by the sidebar's links."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "bench"))
    from classroom import wait_healthy

    runs = log.with_suffix(".runs")
    runs.unlink(missing_ok=True)
    proc, base, t0 = start_server(dict(env, LATENT_LAB_RUN_LOG=str(runs)), log)
    try:
        wait_healthy(base, proc)
        print(f"[{label}] server healthy after {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        out = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for visit in (1, 2):
                ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
                tab = None
                for page in pages:
                    v, opened = time_visit(ctx, tab, f"{base}/{page}?{query}", page, visit, timeout, runs)
                    tab = opened if navigate else opened.close()
                    print(f"[{label}] {v.page:<16} visit {visit}: ready {fmt(v.ready_s)}, first progress "
                          f"{fmt(v.first_progress_s)}, blank {v.blank_s:.1f} s, server run done at "
                          f"{fmt(v.run_done_s)} (script {fmt(v.script_s)})"
                          + (" EXCEPTION" if v.exception else ""), file=sys.stderr)
                    out.append(v)
                ctx.close()
            browser.close()
        return out
    finally:
        stop(proc)


def fmt(s: float | None) -> str:
    return "-" if s is None else f"{s:.1f} s"


def train_full(env: dict, models: Path, epochs: int) -> dict:
    """The CLI on full MNIST: wall seconds, training seconds, what came after, peak memory of the process."""
    import psutil

    cmd = [sys.executable, "-m", "ae", "train", "--dataset", "mnist", "--arch", "conv", "--variant", "vae",
           "--latent", "16", "--epochs", str(epochs), "--out", str(models), "--name", "full-vae-16", "--overwrite"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ps, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            peak = max(peak, ps.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    output = proc.stdout.read()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"training failed:\n{output[-3000:]}")
    train_s = float(re.search(r"trained \d+ epochs in ([\d.]+) s", output).group(1))
    after = re.search(r"after training: ([\d.]+) s", output)
    print(output[-1500:], file=sys.stderr)
    return {"wall_s": wall, "train_s": train_s, "after_training_s": float(after.group(1)) if after else None,
            "peak_rss_mb": peak / 2**20}


def cold_class(env: dict, sessions: int, after: float, seconds: float, log: Path) -> dict:
    """`sessions` websocket tabs opening Generate, Denoise and Latent space `after` seconds after the server process
    started, then moving sliders (bench/classroom.py's tabs)."""
    import asyncio

    sys.path.insert(0, str(ROOT / "bench"))
    import classroom

    args = classroom.parse_args(["--sessions", str(sessions), "--seconds", str(seconds), "--no-warmup",
                                 "--settle", "0", "--rerun-timeout", "120"])
    proc, base, t0 = start_server(env, log)
    try:
        classroom.wait_healthy(base, proc)
        time.sleep(max(0.0, after - (time.perf_counter() - t0)))
        print(f"[cold class] {sessions} sessions from {time.perf_counter() - t0:.1f} s after start", file=sys.stderr)
        result = asyncio.run(classroom.bench(args, base, proc.pid))
        classroom.print_report(result)
        return result
    finally:
        stop(proc)


def table(links: list[Visit], navigation: list[Visit]) -> str:
    """First and second visits by link and by navigation, side by side, with the first link visit's server time."""
    by: dict[str, dict] = {}
    for mode, visits in (("link", links), ("nav", navigation)):
        for v in visits:
            by.setdefault(v.page, {})[(mode, v.visit)] = v
    lines = ["| page | first visit, link | first visit, sidebar | second visit, link | second, sidebar | server done "
             "(script), first link | first progress | longest blank |", "|---|---|---|---|---|---|---|---|"]
    for page, vs in by.items():
        first = vs.get(("link", 1))

        def ready(key: tuple[str, int], vs: dict = vs) -> str:
            v = vs.get(key)
            return fmt(v.ready_s) if v else "-"

        lines.append(f"| {page} | {ready(('link', 1))} | {ready(('nav', 1))} | {ready(('link', 2))} | "
                     f"{ready(('nav', 2))} | {fmt(first.run_done_s) if first else '-'} "
                     f"({fmt(first.script_s) if first else '-'}) | {fmt(first.first_progress_s) if first else '-'} | "
                     + (f"{max(v.blank_s for v in vs.values()):.1f} s |"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pages", default=",".join(PAGES), help="comma list of URL paths ('' is Home; default: all)")
    p.add_argument("--model", default="pretrained/conv-ae-16", help="the model for the mnist-5k visits")
    p.add_argument("--full", action="store_true", help="also full MNIST: write 70,000 digits, train on them, visit")
    p.add_argument("--skip-small", action="store_true", help="skip the mnist-5k visits")
    p.add_argument("--epochs", type=int, default=2, help="epochs of the CLI training on full MNIST (default 2)")
    p.add_argument("--cold-class", type=int, default=0, help="sessions of the cold class (default 0: none)")
    p.add_argument("--cold-after", type=float, default=5.0, help="seconds after start they open (default 5)")
    p.add_argument("--cold-seconds", type=float, default=60.0, help="seconds they move sliders (default 60)")
    p.add_argument("--timeout", type=float, default=300.0, help="give up on a page after this long (default 300)")
    p.add_argument("--keep", default=None, help="keep the full-size data and models in this folder (default: temp)")
    p.add_argument("--json", default=None, help="write the results to this file")
    a = p.parse_args(argv)
    pages = [x.strip() for x in a.pages.split(",")]
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="first-visit-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    base_env = {k: v for k, v in os.environ.items() if k != "LATENT_LAB_NO_WARMUP"}
    base_env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    try:
        if not a.skip_small:
            env = dict(base_env, LATENT_LAB_MODELS=str(work / "models-small"))
            query = f"dataset=mnist-5k&model={a.model}"
            links = visit_all(env, query, pages, a.timeout, work / "small.log", "mnist-5k, links", False)
            nav = visit_all(env, query, pages, a.timeout, work / "small-nav.log", "mnist-5k, sidebar", True)
            results["mnist-5k"] = {"link": [asdict(v) for v in links], "sidebar": [asdict(v) for v in nav]}
            print(f"\nmnist-5k, {a.model}, a fresh server for each mode\n{table(links, nav)}")
        if a.full:
            from tests.fullsize import write_mnist

            data, models = work / "data", work / "models-full"
            if not (data / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").exists():
                write_mnist(data)
            env = dict(base_env, LATENT_LAB_DATA=str(data), LATENT_LAB_MODELS=str(models), LATENT_LAB_OFFLINE="1")
            results["train"] = train_full(env, models, a.epochs)
            t = results["train"]
            print(f"\nfull MNIST, `python -m ae train --dataset mnist --arch conv --variant vae --latent 16 --epochs "
                  f"{a.epochs}`: {t['wall_s']:.0f} s in all, training {t['train_s']:.0f} s, after training "
                  f"{fmt(t['after_training_s'])}, peak memory {t['peak_rss_mb']:,.0f} MB")
            query = "dataset=mnist&model=yours/full-vae-16"
            links = visit_all(env, query, pages, a.timeout, work / "full.log", "full MNIST, links", False)
            nav = visit_all(env, query, pages, a.timeout, work / "full-nav.log", "full MNIST, sidebar", True)
            results["mnist"] = {"link": [asdict(v) for v in links], "sidebar": [asdict(v) for v in nav]}
            print(f"\nfull MNIST (60,000 / 10,000), full-vae-16 trained by the CLI, a fresh server for each mode\n"
                  f"{table(links, nav)}")
        if a.cold_class:
            env = dict(base_env, LATENT_LAB_MODELS=str(work / "models-cold"))
            r = classroom_result = cold_class(env, a.cold_class, a.cold_after, a.cold_seconds, work / "cold.log")
            results["cold_class"] = {k: classroom_result[k] for k in ("sessions", "reruns", "p50_ms", "p95_ms",
                                                                     "errors", "page_load_p50_ms", "page_load_p95_ms",
                                                                     "page_load_max_ms")}
            print(f"\ncold class: {r['sessions']} sessions {a.cold_after:.0f} s after start: open p50 "
                  f"{r['page_load_p50_ms'] / 1000:.1f} s, p95 {r['page_load_p95_ms'] / 1000:.1f} s; moves p50 "
                  f"{r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, errors {r['errors']}")
        if a.json:
            Path(a.json).write_text(json.dumps(results, indent=2))
        return 0
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
