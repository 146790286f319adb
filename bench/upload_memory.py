"""The Streamlit server's peak memory for the worst upload of each kind (dataset, model zip, picture), measured the
way users upload: a real `streamlit run` server and a real browser (Debian's Chromium driven by Playwright).
Target: no upload takes the server more than 1 GB (1024 MB) over its idle RSS.

    .venv/bin/python bench/upload_memory.py                      # every case, on a server of its own (~6 min)
    .venv/bin/python bench/upload_memory.py --list               # the cases
    .venv/bin/python bench/upload_memory.py --only picture-bomb valid-model-conv-ae-16 --json rows.json
    .venv/bin/python bench/upload_memory.py --url http://127.0.0.1:8501 --server-pid 12345   # a running server

It starts the app as `make run` does (models go to a fresh temporary LATENT_LAB_MODELS folder), opens it in
Chromium, renders Home, Train and Reconstructions once and waits until the server is quiet: the web process's RSS
then is the idle baseline (the Dask scheduler and workers are separate processes; their total is shown for
information only). Each case then uploads one file in a fresh browser context through the page's own uploader
(`data_upload`, `io_model_upload`, `rec_upload`) while a thread samples the web process's RSS every 20 ms; on Linux
the kernel's exact high-water mark (VmHWM, reset through /proc/PID/clear_refs) is read as well and the larger of the
two is reported. A case ends when the page shows its outcome below the uploader (an alert, a traceback, or the
reconstruction's metrics) or after 120 s ("timeout", itself a finding).

The cases: the corpus's hostile files that aim at memory (tests/corpus.py) and the largest valid upload of each
kind, which is the real worst case for a file the server accepts. Streamlit keeps a closed tab's session (and the
dataset it uploaded) for `server.disconnectedSessionTTL` (120 s by default, so a student whose network blinks gets
the session back); the server started here uses 10 s and the bench waits 15 s after each case, so every case starts
near idle. "rise" is the peak above the RSS at the case's start, "after" what stayed once its session expired.
`--only ID` on a fresh server measures one case alone.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import psutil
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ae.limits import MAX_IMAGE_PIXELS, MAX_IMAGE_UPLOAD, MAX_UPLOAD_FILE, MiB  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port, wait_idle  # noqa: E402
from tests.corpus import CASES, DATASET, MODEL, PICTURE, png  # noqa: E402

BUDGET_MB = 1024
TIMEOUT_S = 120
SAMPLE_S = 0.02

# where each kind of file is uploaded: (URL path, tab to open or "", the uploader's widget key)
WHERE = {
    DATASET: ("train", "Your data", "data_upload"),
    MODEL: ("train", "Import and export", "io_model_upload"),
    PICTURE: ("reconstructions", "", "rec_upload"),
}

# the first outcome shown below the uploader (in its tab): an alert, a traceback, or a reconstruction's metrics
OUTCOME_JS = """
(key) => {
  const up = document.querySelector('.st-key-' + key);
  if (!up) return null;
  const scope = up.closest('[role="tabpanel"]') || document;
  const found = scope.querySelectorAll(
    '[data-testid="stAlert"], [data-testid="stException"], [data-testid="stMetric"]');
  for (const el of found) {
    const pos = up.compareDocumentPosition(el);
    if ((pos & Node.DOCUMENT_POSITION_FOLLOWING) && !(pos & Node.DOCUMENT_POSITION_CONTAINED_BY)) {
      const error = el.querySelector('[data-testid="stAlertContentError"]') !== null;
      return {testid: el.dataset.testid, error: error, text: el.innerText};
    }
  }
  return null;
}
"""


# ------------------------------------------------------------------ the cases


@dataclass(frozen=True)
class BenchCase:
    id: str
    kind: str  # DATASET, MODEL or PICTURE
    write: Callable[[Path], Path]  # writes the file into a folder, returns its path
    label_column: str = ""  # typed into the Train page's "Label column" box before a CSV upload


def _written(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _corpus(case_id: str) -> Callable[[Path], Path]:
    """A hostile file from tests/corpus.py, under its own name."""
    case = next(c for c in CASES if c.id == case_id)

    def write(folder: Path) -> Path:
        return _written(folder, *case.make())

    return write


def valid_npz(folder: Path, n: int = 80_000) -> Path:
    """n uint8 28x28 'digits' and labels, uncompressed: 63 MB of file, 251 MB once decoded to float32."""
    rng = np.random.default_rng(0)
    path = folder / "digits80k.npz"
    np.savez(path, x=rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), y=(np.arange(n) % 10).astype(np.uint8))
    return path


def valid_png_zip(folder: Path, n: int = 60_000) -> Path:
    """n 28x28 grey PNGs in 10 class folders (one small picture per class, reused), stored uncompressed."""
    rng = np.random.default_rng(0)
    pictures = [png(rng.integers(0, 256, (28, 28), dtype=np.uint8)) for _ in range(10)]
    path = folder / "digits60k.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i in range(n):
            z.writestr(f"digits/{i % 10}/{i:05d}.png", pictures[i % 10])
    return path


def valid_csv(folder: Path, rows: int = 100_000, cols: int = 100) -> Path:
    """rows x cols normal values with 4 decimals and a label column (~75 MB): 5,000 distinct rows, repeated."""
    rng = np.random.default_rng(0)
    block = 5_000
    buf = io.StringIO()
    np.savetxt(buf, rng.normal(size=(block, cols)), fmt="%.4f", delimiter=",")
    lines = [f"{line},{i % 10}" for i, line in enumerate(buf.getvalue().splitlines())]
    text = ",".join(f"f{j}" for j in range(cols)) + ",label\n" + ("\n".join(lines) + "\n") * (rows // block)
    return _written(folder, "table100k.csv", text.encode())


def valid_model_zip(folder: Path) -> Path:
    """The shipped conv-ae-16 under a fresh name, as Latent Lab exports a model."""
    name = f"bench-conv-ae-16-{os.getpid()}-{int(time.time())}"
    doc = json.loads((ROOT / "pretrained" / "conv-ae-16.json").read_text())
    doc["name"] = name
    path = folder / f"{name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{name}.json", json.dumps(doc))
        z.write(ROOT / "pretrained" / "conv-ae-16.safetensors", f"{name}.safetensors")
    return path


def valid_picture(folder: Path) -> Path:
    """A photo-like JPEG with as many pixels as a picture may have (just under MAX_IMAGE_PIXELS) and as many bytes
    (just under MAX_IMAGE_UPLOAD): smooth colour fields plus grain, the grain tuned to the file limit."""
    side = int(MAX_IMAGE_PIXELS**0.5) - 8
    rng = np.random.default_rng(0)
    coarse = Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).resize((side, side), Image.BICUBIC)
    base = np.asarray(coarse, dtype=np.int16)
    grain = rng.normal(size=(side, side, 1)).astype(np.float32)
    best = b""
    lo, hi = 0.0, 16.0
    for _ in range(5):  # bisect the grain's amplitude so the file lands just under the limit
        amp = (lo + hi) / 2
        arr = np.clip(base + grain * amp, 0, 255).astype(np.uint8)
        out = io.BytesIO()
        Image.fromarray(arr).save(out, format="JPEG", quality=90)
        if out.tell() <= MAX_IMAGE_UPLOAD - 64 * 1024:
            lo, best = amp, out.getvalue()
        else:
            hi = amp
    return _written(folder, f"photo{side}.jpg", best)


BENCH_CASES: list[BenchCase] = [
    BenchCase("npz-zero-bomb", DATASET, _corpus("npz-zero-bomb")),
    BenchCase("npz-header-1e12", DATASET, _corpus("npz-header-1e12")),
    BenchCase("zip-3000-pngs", DATASET, _corpus("zip-3000-pngs")),
    BenchCase("csv-1e39", DATASET, _corpus("csv-1e39")),
    BenchCase("valid-npz-80000x28x28", DATASET, valid_npz),
    BenchCase("valid-zip-60000-pngs", DATASET, valid_png_zip),
    BenchCase("valid-csv-100000x100", DATASET, valid_csv, label_column="label"),
    BenchCase("model-huge-hidden", MODEL, _corpus("model-huge-hidden")),
    BenchCase("valid-model-conv-ae-16", MODEL, valid_model_zip),
    BenchCase("picture-bomb", PICTURE, _corpus("picture-bomb")),
    BenchCase("valid-picture-40mpx", PICTURE, valid_picture),
]


# ------------------------------------------------------------------ memory


def tree_rss(pid: int) -> int:
    """RSS of a process and all its descendants (shared pages counted in each: an upper bound)."""
    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return total


class ServerFailed(RuntimeError):
    """The server did not start (or the given one does not answer): nothing to measure."""


class PeakSampler:
    """Samples one process's RSS every `every` seconds in a thread; on Linux also resets and reads the kernel's
    high-water mark, which catches a spike between two samples."""

    def __init__(self, pid: int, every: float = SAMPLE_S) -> None:
        self.proc = psutil.Process(pid)
        self.every = every
        self.peak = 0
        self.samples = 0
        self.hwm: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.peak = max(self.peak, self.proc.memory_info().rss)
                self.samples += 1
            self._stop.wait(self.every)

    def _reset_hwm(self) -> None:
        with contextlib.suppress(OSError):
            Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")  # 5: reset the peak RSS to the current RSS

    def _read_hwm(self) -> int | None:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return None

    def __enter__(self) -> PeakSampler:
        self._reset_hwm()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.hwm = self._read_hwm()
        if self.hwm is not None:
            self.peak = max(self.peak, self.hwm)


def wait_quiet(pid: int, least: float = 10.0, most: float = 240.0) -> bool:
    """Wait at least `least` seconds, then until the process uses under 5% of a core and its RSS moves under 2 MB
    over 3 s (UMAP's numba warm-up runs for a while after start). False if it never settled within `most`."""
    proc = psutil.Process(pid)
    time.sleep(least)
    deadline = time.time() + most - least
    while time.time() < deadline:
        rss0 = proc.memory_info().rss
        cpu = proc.cpu_percent(interval=3.0)
        if cpu < 5.0 and abs(proc.memory_info().rss - rss0) < 2 * MiB:
            return True
    return False


# ------------------------------------------------------------------ the server


SESSION_TTL_S = 10  # server.disconnectedSessionTTL of the server started here


def start_server(port: int, models: Path, log: Path) -> subprocess.Popen:
    """`streamlit run app.py` as `make run` starts it, on loopback, in a session of its own (killed as a group)."""
    env = {**os.environ, "LATENT_LAB_MODELS": str(models), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
             str(port), "--server.address", "127.0.0.1", "--server.disconnectedSessionTTL", str(SESSION_TTL_S)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )


def wait_healthy(url: str, proc: subprocess.Popen | None, timeout: float = 120.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with contextlib.suppress(OSError):
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.3)
    return False


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group, then whatever it started in sessions of their own (Dask)."""
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    from ae.run.processes import stop

    stop({"server": proc}, timeout=15)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=10)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()


@contextlib.contextmanager
def own_server(workdir: Path) -> Iterator[tuple[str, int, Path]]:
    port = free_port()
    models = workdir / "models"
    models.mkdir()
    log = workdir / "server.log"
    proc = start_server(port, models, log)
    try:
        url = f"http://127.0.0.1:{port}"
        if not wait_healthy(url, proc):
            raise ServerFailed(f"streamlit did not become healthy:\n{log.read_text(errors='replace')[-3000:]}")
        yield url, proc.pid, log
    finally:
        stop_server(proc)


@contextlib.contextmanager
def given_server(url: str, pid: int) -> Iterator[tuple[str, int, None]]:
    """A server someone else started: checked, measured, left running."""
    if not psutil.pid_exists(pid) or not wait_healthy(url, None, timeout=10):
        raise ServerFailed(f"no healthy server at {url} with PID {pid}")
    yield url, pid, None


# ------------------------------------------------------------------ one upload


@dataclass
class Row:
    case: str
    kind: str
    file_mb: float
    seconds: float
    peak_mb: float  # peak RSS of the web process above the idle baseline
    rise_mb: float  # the same peak above the RSS at the case's start (what this upload alone added)
    after_mb: float  # RSS 3 s after the case's tab closed, above the idle baseline
    outcome: str  # accepted / refused / traceback / timeout / server died
    message: str  # the outcome's first 100 characters
    samples: int


def open_uploader(page: Page, url: str, kind: str, label_column: str) -> tuple[Locator, str]:
    """Go to the page (and tab) of this kind's uploader; returns its file input and its widget key."""
    path, tab, key = WHERE[kind]
    page.goto(f"{url}/{path}")
    wait_idle(page, 120_000)
    if tab:
        page.get_by_role("tab", name=tab, exact=True).click()
    if label_column:
        box = page.locator(".st-key-data_label input")
        box.fill(label_column)
        box.press("Enter")
        wait_idle(page, 120_000)
    field = page.locator(f".st-key-{key} input[type=file]")
    field.wait_for(state="attached", timeout=30_000)
    return field, key


def upload(page: Page, field: Locator, key: str, file: Path, pid: int) -> tuple[float, str, str]:
    """Upload the file and wait for its outcome: (seconds, outcome, message)."""
    t0 = time.perf_counter()
    field.set_input_files(str(file))
    try:
        found = page.wait_for_function(OUTCOME_JS, arg=key, polling=100, timeout=TIMEOUT_S * 1000).json_value()
    except PlaywrightError as e:  # a timeout, or the page or the server gone
        seconds = time.perf_counter() - t0
        if not psutil.pid_exists(pid):
            return seconds, "server died", str(e).splitlines()[0][:100]
        return seconds, "timeout", ""
    seconds = time.perf_counter() - t0
    if found["testid"] == "stException":
        outcome = "traceback"
    elif found["testid"] == "stMetric" or not found["error"]:
        outcome = "accepted"
    else:
        outcome = "refused"
    with contextlib.suppress(PlaywrightError):  # let the rest of the run (previews, tiles) finish, still measured
        wait_idle(page, max(1.0, TIMEOUT_S - seconds) * 1000)
    return seconds, outcome, " ".join(found["text"].split())[:100]


def run_case(browser: Browser, url: str, pid: int, idle: int, case: BenchCase, file: Path) -> Row:
    """One upload in a fresh browser context, the server's RSS sampled throughout."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    peak, samples, start = 0, 0, idle
    try:
        page = ctx.new_page()
        field, key = open_uploader(page, url, case.kind, case.label_column)
        start = psutil.Process(pid).memory_info().rss
        with PeakSampler(pid) as sampler:
            seconds, outcome, message = upload(page, field, key, file, pid)
        peak, samples = sampler.peak, sampler.samples
    except PlaywrightError as e:  # the uploader never showed: the harness's problem, or the page's
        seconds, outcome, message = 0.0, "no uploader", str(e).splitlines()[0][:100]
    finally:
        ctx.close()
    time.sleep(SESSION_TTL_S + 5)  # the closed tab's session (and its upload) expires before the next case
    after = psutil.Process(pid).memory_info().rss if psutil.pid_exists(pid) else idle
    return Row(case.id, case.kind, file.stat().st_size / MiB, seconds, (max(peak, idle) - idle) / MiB,
               (max(peak, start) - start) / MiB, (after - idle) / MiB, outcome, message, samples)


# ------------------------------------------------------------------ the report


def print_table(rows: list[Row]) -> None:
    print(f"{'case':<26}{'kind':<9}{'file MB':>8}{'s':>7}{'peak MB':>9}{'rise MB':>9}{'after MB':>9}  outcome")
    for r in rows:
        print(f"{r.case:<26}{r.kind:<9}{r.file_mb:>8.1f}{r.seconds:>7.1f}{r.peak_mb:>9.0f}{r.rise_mb:>9.0f}"
              f"{r.after_mb:>9.0f}  {r.outcome}: {r.message}")
    print("peak: the web process's highest RSS during the upload above idle; rise: the same above its RSS when the "
          "case began;\nafter: its RSS above idle once the case's session had expired")


def print_summary(rows: list[Row]) -> None:
    for kind in (DATASET, MODEL, PICTURE):
        mine = [r for r in rows if r.kind == kind]
        if mine:
            w = max(mine, key=lambda r: r.peak_mb)
            print(f"worst {kind}: {w.case}, {w.peak_mb:.0f} MB above idle")
    worst = max(r.peak_mb for r in rows)
    print(f"worst: {worst:.0f} MB above idle (budget {BUDGET_MB} MB): {'OK' if worst <= BUDGET_MB else 'OVER'}")


def server_errors(log: Path) -> list[str]:
    """The last line of each traceback in the server's log (the exception), and any other line naming an error."""
    lines = log.read_text(errors="replace").splitlines()
    found, in_tb = [], False
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            in_tb = True
        elif in_tb and line and not line[0].isspace():
            found.append(line)
            in_tb = False
        elif not in_tb and any(w in line for w in ("Error", "error", "Killed")) and (i == 0 or lines[i - 1].strip()):
            found.append(line)
    return found


def page_exceptions(page: Page) -> list[str]:
    """The first line of each traceback box the page shows."""
    boxes = page.locator('[data-testid="stException"]')
    return [boxes.nth(i).inner_text().strip().splitlines()[0] for i in range(boxes.count())]


def measure(url: str, pid: int, cases: list[BenchCase], files: dict[str, Path]) -> tuple[list[Row], dict]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = ctx.new_page()
            page.goto(url)
            wait_idle(page, 180_000)
            for e in page_exceptions(page):
                print(f"warning: Home shows a traceback: {e}")
            quiet = wait_quiet(pid)
            fresh, fresh_tree = psutil.Process(pid).memory_info().rss, tree_rss(pid)
            for path in ("train", "reconstructions"):  # render the pages once: their first-visit caches are not uploads
                page.goto(f"{url}/{path}")
                wait_idle(page, 180_000)
                for e in page_exceptions(page):
                    print(f"warning: {path} shows a traceback: {e}")
            ctx.close()
            quiet = wait_quiet(pid, least=5.0) and quiet
            idle, idle_tree = psutil.Process(pid).memory_info().rss, tree_rss(pid)
            info = {"idle_rss_mb": idle / MiB, "idle_tree_rss_mb": idle_tree / MiB, "fresh_rss_mb": fresh / MiB,
                    "fresh_tree_rss_mb": fresh_tree / MiB, "settled": quiet, "budget_mb": BUDGET_MB}
            print(f"idle server: {fresh / MiB:.0f} MB after Home rendered, {idle / MiB:.0f} MB after Train and "
                  f"Reconstructions too (the baseline); with its Dask scheduler and workers {idle_tree / MiB:.0f} MB"
                  + ("" if quiet else " (it never went quiet: the baseline may be low)"))
            rows = []
            for case in cases:
                row = run_case(browser, url, pid, idle, case, files[case.id])
                rows.append(row)
                print(f"  {row.case}: {row.outcome} in {row.seconds:.1f} s, peak {row.peak_mb:.0f} MB above idle "
                      f"({row.rise_mb:.0f} MB above its start)", flush=True)
                if row.outcome == "server died":
                    print("the server died; the remaining cases are skipped")
                    break
            info["tree_rss_mb_at_end"] = tree_rss(pid) / MiB if psutil.pid_exists(pid) else None
        finally:
            browser.close()
    return rows, info


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", nargs="+", metavar="ID", help="run these cases only (see --list)")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.add_argument("--url", help="measure this running server instead of starting one (needs --server-pid)")
    p.add_argument("--server-pid", type=int, help="the PID of the `streamlit run` process behind --url")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the rows to PATH")
    p.add_argument("--server-log", type=Path, metavar="PATH", help="keep the started server's output in PATH")
    a = p.parse_args()
    if a.list:
        for c in BENCH_CASES:
            print(f"{c.id:<26}{c.kind}")
        return 0
    if bool(a.url) != bool(a.server_pid):
        p.error("--url and --server-pid go together")
    unknown = set(a.only or []) - {c.id for c in BENCH_CASES}
    if unknown:
        p.error(f"unknown case(s) {', '.join(sorted(unknown))}; --list shows them")
    cases = [c for c in BENCH_CASES if not a.only or c.id in a.only]

    signal.signal(signal.SIGTERM, interrupted)  # clean up (the server above all) as on Ctrl-C
    with tempfile.TemporaryDirectory(prefix="latent-lab-upload-bench-") as tmp:
        work = Path(tmp)
        (work / "files").mkdir()
        files = {}
        for c in cases:
            folder = work / "files" / c.id
            folder.mkdir()
            t0 = time.perf_counter()
            files[c.id] = c.write(folder)
            size = files[c.id].stat().st_size
            assert size <= MAX_UPLOAD_FILE, f"{c.id}: {size / MiB:.0f} MB is over the upload limit"
            print(f"wrote {files[c.id].name} ({size / MiB:.1f} MB) in {time.perf_counter() - t0:.1f} s", flush=True)
        if a.url:
            server = given_server(a.url.rstrip("/"), a.server_pid)
        else:
            server = own_server(work)
        try:
            with server as (url, pid, log):
                rows, info = measure(url, pid, cases, files)
                errors = server_errors(log) if log else []
                if log and a.server_log:
                    a.server_log.write_bytes(log.read_bytes())
        except ServerFailed as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    print()
    print_table(rows)
    if rows:
        print_summary(rows)
    if errors:
        print(f"server log: {len(errors)} error(s)" + (f", kept at {a.server_log}" if a.server_log else "") + ":")
        for line in errors[:10]:
            print(f"  {line[:200]}")
    if a.json:
        a.json.write_text(json.dumps({**info, "rows": [asdict(r) for r in rows]}, indent=2))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the server and the browser are gone by now (see own_server and measure)
        sys.exit(130)
