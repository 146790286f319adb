"""First and second visit of every page on a fresh server, as a new user feels them: a real `streamlit run`, Debian's
Chromium (Playwright), seconds from typing the address until the page stops changing. Optionally on full-size data
(70,000 MNIST digits written as IDX files from the shipped ones, a model trained by the CLI on them), and a cold class
(30 websocket sessions opening the app 5 s after the server starts, then moving sliders for a minute).

    .venv/bin/python bench/first_visit.py                          # mnist-5k, the shipped conv-ae-16
    .venv/bin/python bench/first_visit.py --full                   # + full MNIST and a CLI-trained conv VAE
    .venv/bin/python bench/first_visit.py --cold-class 30          # + 30 sessions 5 s after a fresh start
    .venv/bin/python bench/first_visit.py --pages anomalies,compress --json out.json

How a visit is timed: each visit is a fresh browser context (a new student) that opens
`/<page>?dataset=..&model=..`. The server appends a line to $LATENT_LAB_RUN_LOG at the end of every run of a page
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


def runs_of(log: Path, start: int, page: str) -> int:
    """How many runs of `page` the server finished since byte `start` of its run log."""
    try:
        with open(log) as f:
            f.seek(start)
            return sum(1 for line in f if line.split("\t")[0] == (page or "home"))
    except FileNotFoundError:
        return 0


def time_visit(browser, url: str, page: str, visit: int, timeout: float, log: Path) -> Visit:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = ctx.new_page()
    start = log.stat().st_size if log.exists() else 0
    t0 = time.perf_counter()
    tab.goto(url, wait_until="commit")
    last_sig, last_change = None, 0.0
    first_progress = None
    blank_since, blank_max = 0.0, 0.0
    ready = None
    while True:
        now = time.perf_counter() - t0
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
        elif now - last_change >= STILL_S and runs_of(log, start, page):
            ready = last_change
            break
        if now > timeout:
            break
        time.sleep(0.1)
    exception = tab.locator('[data-testid="stException"]').count() > 0
    ctx.close()
    return Visit(page or "home", visit, ready, first_progress, blank_max, exception)


def start_server(env: dict, log: Path) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
           str(port), "--server.address", "127.0.0.1"]
    t0 = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}", t0


def stop(proc: subprocess.Popen) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from classroom import stop_server

    stop_server(proc)


def visit_all(env: dict, query: str, pages: list[str], timeout: float, log: Path, label: str) -> list[Visit]:
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
                for page in pages:
                    v = time_visit(browser, f"{base}/{page}?{query}", page, visit, timeout, runs)
                    print(f"[{label}] {v.page:<16} visit {visit}: ready {fmt(v.ready_s)}, first progress "
                          f"{fmt(v.first_progress_s)}, blank {v.blank_s:.1f} s"
                          + (" EXCEPTION" if v.exception else ""), file=sys.stderr)
                    out.append(v)
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


def table(visits: list[Visit]) -> str:
    by = {}
    for v in visits:
        by.setdefault(v.page, {})[v.visit] = v
    lines = ["| page | first visit | second visit | first progress | longest blank |", "|---|---|---|---|---|"]
    for page, vs in by.items():
        a, b = vs.get(1), vs.get(2)
        lines.append(f"| {page} | {fmt(a.ready_s if a else None)} | {fmt(b.ready_s if b else None)} | "
                     f"{fmt(a.first_progress_s if a else None)} | {a.blank_s:.1f} s |")
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
            visits = visit_all(env, f"dataset=mnist-5k&model={a.model}", pages, a.timeout, work / "small.log",
                               "mnist-5k")
            results["mnist-5k"] = [asdict(v) for v in visits]
            print(f"\nmnist-5k, {a.model}, fresh server\n{table(visits)}")
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
            visits = visit_all(env, "dataset=mnist&model=yours/full-vae-16", pages, a.timeout, work / "full.log",
                               "full MNIST")
            results["mnist"] = [asdict(v) for v in visits]
            print(f"\nfull MNIST (60,000 / 10,000), full-vae-16 trained by the CLI, fresh server\n{table(visits)}")
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
