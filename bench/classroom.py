"""A classroom against one `streamlit run` server: N simulated browser tabs that open a page and move its main slider
every 1-2 s for S seconds, optionally with K tabs training a model at the same time. It prints rerun latency, errors,
disconnects and the server's CPU and memory, so a change to the app or to the deployment can be judged by what a
class of students would feel.

    .venv/bin/python bench/classroom.py                                   # 30 tabs, 60 s, a server of its own
    .venv/bin/python bench/classroom.py --sessions 3 --seconds 20
    .venv/bin/python bench/classroom.py --sessions 1 --seconds 15 --pages latent_space
    .venv/bin/python bench/classroom.py --sessions 12 --trainers 2 --train-epochs 4
    .venv/bin/python bench/classroom.py --url http://127.0.0.1:8501 --server-pid 1234 --json out.json

How: no browser. Each tab speaks Streamlit's own websocket protocol, as the frontend in streamlit/static does:
- it GETs `/`, `/_stcore/health` and `/_stcore/host-config` with its own cookie jar (the health route sets the
  `_streamlit_xsrf` cookie; a sticky proxy may set its own), then opens `/_stcore/stream` with those cookies, an
  Origin header and the subprotocols ["streamlit", <xsrf token>];
- every rerun is a BackMsg `rerun_script` carrying the page hash, browser context and the state of EVERY widget it
  has seen (built from the widget protos, then kept as the frontend keeps it), plus the hashes of the ForwardMsgs
  it has cached, so the server may send a `ref_hash` instead of a message the tab already holds; the cache ages
  entries per script run like the frontend's ForwardMessageCache;
- a slider inside an `st.fragment` (its delta carries `fragment_id`) is rerun with that `fragment_id`, so only the
  fragment runs, as in the browser; an `auto_rerun` message (`st.fragment(run_every=...)`) starts a timer that
  reruns that fragment every `interval` seconds with `is_auto_rerun`, cleared by `stop_auto_rerun` or a full run;
- after each run it fetches the run's new `/media/...` images over HTTP with the same cookies, once per URL and tab
  (a browser does not refetch an <img> whose src did not change); a `data:` image came inside the message and is
  counted in the latency.

Latency is the time from sending the widget change to receiving the `script_finished` ForwardMsg of the run it
caused (status FINISHED_SUCCESSFULLY, or FINISHED_FRAGMENT_RUN_SUCCESSFULLY naming the fragment). That is the
server's share of what a student waits for: the script run plus queueing behind other sessions and the GIL, and the
transfer of every delta. It leaves out the browser's rendering and the image downloads, which follow the run and
are reported apart (media p50/p95); they are not in the latency. A tab moves again 1-2 s (jittered, `--seed`)
after its previous move was sent, but never before that move's run has finished: a student waits for the picture.
Errors are exception elements in deltas, compile errors, page-not-found, ref_hash cache misses, reruns without a
`script_finished` within `--rerun-timeout`, and failed media fetches. Runs still going when the time is up get a
short grace, then are reported as cut off, not as errors.

Server CPU is the CPU time (user + system) of the server process and all its descendants (psutil, reaped children
included) over the measured window, divided by the window: cores used on average; per rerun it is that CPU time over
the slider reruns, so it includes page loads, trainers and anything else the server did meanwhile. RSS is summed over
the process tree (shared pages of forked children count twice) and sampled every 0.5 s; the maximum is reported.
The bench's own CPU and event-loop lag are printed too: on a small machine the clients compete with the server.

When it starts the server itself it runs `python -m ui.serve` (what `make run` runs: `streamlit run app.py`) on
127.0.0.1 with LATENT_LAB_MODELS in a fresh temporary folder (removed afterwards) and LATENT_LAB_NO_WARMUP unset,
waits for `/_stcore/health`, visits every page once (and moves its slider once) to fill the caches, waits for the
server's process tree to go quiet (under 0.2 cores: the Dask workers compile UMAP's code at start), and kills
the server's process group at the end, also on Ctrl-C. It only ever connects to 127.0.0.1. Exit status: 0, or 1
when any error was counted, 2 when the server did not come up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.cookiejar
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import psutil
import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # ae.run.processes stops the server
SLIDER_KEYS = {"generate": "gen_t", "denoise": "dn_level", "latent_space": "map_probe_x"}
LOCAL_HOSTS = ("127.0.0.1", "localhost")
HTTP_TIMEOUT = 30.0
GRACE = 10.0  # seconds a run still going at the end may take before it is cut off
OK, COMPILE_ERROR, EARLY, FRAGMENT_OK = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
                                         ForwardMsg.FINISHED_EARLY_FOR_RERUN,
                                         ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)


# ---------------------------------------------------------------- results


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def fmt_ms(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


@dataclass
class PageStats:
    """What the slider tabs of one page measured."""

    latencies: list[float] = field(default_factory=list)
    ws_bytes: int = 0
    messages: int = 0
    deltas: int = 0
    media_files: int = 0
    media_bytes: int = 0
    key: str = ""
    load_bytes: list[int] = field(default_factory=list)


@dataclass
class TrainerResult:
    name: str
    started: float | None = None  # seconds since the bench began, when Start was sent
    saved_after: float | None = None  # seconds from Start to the "saved after" message
    queued: bool = False
    last_text: str = ""
    problem: str = ""


@dataclass
class Stats:
    """Everything the tabs report; one event loop, so no locks."""

    pages: dict[str, PageStats] = field(default_factory=lambda: defaultdict(PageStats))
    errors: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    disconnects: int = 0
    cut_off: int = 0
    loads: list[float] = field(default_factory=list)
    media_times: list[float] = field(default_factory=list)
    media_failed: int = 0
    ref_hits: int = 0
    auto_latencies: list[float] = field(default_factory=list)
    trainers: list[TrainerResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def error(self, kind: str, detail: str = "") -> None:
        self.errors[kind] += 1
        if detail and len(self.error_samples) < 5:
            self.error_samples.append(f"{kind}: {detail[:200]}")


# ---------------------------------------------------------------- widget states, as the frontend keeps them


def _opt(proto: Any, name: str) -> Any:
    """The field's value, or None where an optional field is unset."""
    f = proto.DESCRIPTOR.fields_by_name[name]
    if f.has_presence and not proto.HasField(name):
        return None
    return getattr(proto, name)


def initial_state(kind: str, el: Any) -> WidgetState | None:
    """The WidgetState a browser holds for a widget just drawn: its `value` when the server set one, else its
    default. None for kinds whose state the bench does not model (buttons are triggers; uploaders, chart
    selections); the server then keeps their previous value, which is what the browser would send anyway."""
    s = WidgetState(id=el.id)
    if kind == "slider":
        if el.type == Slider.SELECT_SLIDER:
            return None
        s.double_array_value.data.extend(el.value if el.set_value else el.default)
    elif kind == "number_input":
        v = _opt(el, "value") if el.set_value else _opt(el, "default")
        if v is None:
            return None
        if el.data_type == NumberInput.INT:
            s.int_value = int(v)
        else:
            s.double_value = v
    elif kind in ("text_input", "text_area"):
        v = _opt(el, "value") if el.set_value else _opt(el, "default")
        if v is None:
            return None
        s.string_value = v
    elif kind == "checkbox":
        s.bool_value = el.value if el.set_value else el.default
    elif kind == "selectbox":
        i = _opt(el, "default")
        v = _opt(el, "raw_value") if el.set_value else (el.options[i] if i is not None and i < len(el.options)
                                                        else None)
        if v is None:
            return None
        s.string_value = v
    elif kind == "button_group":
        s.string_array_value.data.extend(el.raw_values if el.set_value else [el.options[i].content for i in el.default])
    elif kind == "multiselect":
        s.string_array_value.data.extend(el.raw_values if el.set_value else [el.options[i] for i in el.default])
    else:
        return None
    return s


# ---------------------------------------------------------------- one browser tab


class Disconnected(Exception):
    """The websocket closed while the tab was waiting for a run."""


@dataclass
class Run:
    """One rerun the tab asked for and waits on."""

    fragment_id: str
    sent: float
    done: asyncio.Future
    status: int | None = None
    finished: float = 0.0
    ws_bytes: int = 0
    messages: int = 0
    deltas: int = 0
    timed_out: bool = False

    @property
    def latency(self) -> float:
        return self.finished - self.sent


class Tab:
    """One simulated browser tab: a cookie jar, a websocket, the widget states and ForwardMsg cache the frontend
    would keep, auto-rerun timers, and media fetches. `page` is the URL path (`generate`), as in the address bar."""

    def __init__(self, base: str, page: str, stats: Stats, pool: ThreadPoolExecutor, media: bool) -> None:
        self.base, self.page, self.stats, self.pool, self.media = base.rstrip("/"), page, stats, pool, media
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.ws: Any = None
        self.reader: asyncio.Task | None = None
        self.closing = False
        self.page_hash = ""
        self.widgets: dict[str, tuple[str, Any, str]] = {}  # id -> (kind, proto, fragment id)
        self.values: dict[str, WidgetState] = {}
        self.cache: dict[str, list] = {}  # hash -> [raw bytes, script run count at last use, fragment id]
        self.run_count = 0
        self.max_age = 2
        self.had_new_session = False
        self.seen_this_run: set[str] = set()
        self.media_this_run: list[str] = []
        self.fetched: set[str] = set()
        self.media_tasks: set[asyncio.Task] = set()
        self.runs: list[Run] = []
        self.auto_timers: dict[str, tuple[float, asyncio.Task]] = {}
        self.auto_sent: dict[str, deque] = defaultdict(deque)
        self.on_text: Callable[[str, str], None] | None = None
        self.media_stats: PageStats | None = None

    # -------- HTTP

    def _get(self, path: str) -> tuple[int, bytes]:
        url = urljoin(self.base + "/", path.lstrip("/"))
        host = urlsplit(url).hostname
        if host not in LOCAL_HOSTS:
            raise ValueError(f"refusing to fetch {url}: not 127.0.0.1")
        req = urllib.request.Request(url, headers={"User-Agent": "latent-lab-classroom-bench"})
        try:
            with self.opener.open(req, timeout=HTTP_TIMEOUT) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, b""

    async def get(self, path: str) -> tuple[int, bytes]:
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._get, path)

    # -------- connection

    async def connect(self) -> None:
        """What the frontend does before its websocket: load the page, ping health and host-config (the health
        route sets the XSRF cookie), then open the stream with the cookies and the XSRF token as a subprotocol."""
        await self.get("/")
        status, body = await self.get("/_stcore/health")
        if status != 200:
            raise ConnectionError(f"/_stcore/health said {status} {body[:80]!r}")
        await self.get("/_stcore/host-config")
        cookies = {c.name: c.value for c in self.jar}
        protocols = ["streamlit", cookies.get("_streamlit_xsrf", "PLACEHOLDER_AUTH_TOKEN")]
        parts = urlsplit(self.base)
        ws_url = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        self.ws = await websockets.connect(
            ws_url, subprotocols=protocols, additional_headers=headers, origin=f"{parts.scheme}://{parts.netloc}",
            user_agent_header="latent-lab-classroom-bench", max_size=None, open_timeout=HTTP_TIMEOUT)
        self.closing = False
        self.reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        self.closing = True
        self._stop_auto()
        for t in list(self.media_tasks):
            t.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader

    # -------- sending

    def _back_msg(self, fragment_id: str, overrides: dict[str, WidgetState], triggers: list[str],
                  first: bool, auto: bool) -> bytes:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = ""
        if first or not self.page_hash:
            cs.page_name = self.page  # the first load names the page by its URL path, as the address bar does
        else:
            cs.page_script_hash = self.page_hash
        cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        cs.cached_message_hashes.extend(self.cache)
        ci = cs.context_info
        ci.timezone, ci.timezone_offset, ci.locale = "UTC", 0, "en-US"
        ci.url, ci.is_embedded, ci.color_scheme = f"{self.base}/{self.page}", False, "light"
        self.values.update(overrides)
        cs.widget_states.widgets.extend(self.values.values())
        for wid in triggers:
            cs.widget_states.widgets.append(WidgetState(id=wid, trigger_value=True))
        return msg.SerializeToString()

    async def rerun(self, timeout: float, fragment_id: str = "", overrides: dict[str, WidgetState] | None = None,
                    triggers: list[str] | None = None, first: bool = False) -> Run:
        """Send one rerun and wait for the `script_finished` it causes (or the timeout)."""
        loop = asyncio.get_running_loop()
        run = Run(fragment_id=fragment_id, sent=time.perf_counter(), done=loop.create_future())
        self.runs.append(run)
        try:
            await self.ws.send(self._back_msg(fragment_id, overrides or {}, triggers or [], first, False))
            await asyncio.wait_for(asyncio.shield(run.done), timeout)
        except TimeoutError:
            run.timed_out = True
        except websockets.ConnectionClosed as e:
            raise Disconnected(str(e)) from e
        finally:
            self.runs.remove(run)
        return run

    async def _auto_rerun(self, fragment_id: str, interval: float) -> None:
        """The frontend's setInterval for `st.fragment(run_every=...)`: it does not wait for the previous run."""
        while not self.closing:
            await asyncio.sleep(interval)
            self.auto_sent[fragment_id].append(time.perf_counter())
            try:
                await self.ws.send(self._back_msg(fragment_id, {}, [], False, True))
            except websockets.ConnectionClosed:
                return

    def _stop_auto(self, fragment_ids: list[str] | None = None) -> None:
        for fid in list(self.auto_timers) if fragment_ids is None else fragment_ids:
            entry = self.auto_timers.pop(fid, None)
            if entry is not None:
                entry[1].cancel()
            self.auto_sent.pop(fid, None)

    # -------- receiving

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                if isinstance(raw, bytes):
                    try:
                        self._handle(raw)
                    except Exception as e:  # noqa: BLE001 - a message the bench cannot digest is an error, not a crash
                        self.stats.error("client", f"{type(e).__name__}: {e}")
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.closing:
                self.stats.disconnects += 1
            for run in self.runs:
                if not run.done.done():
                    run.done.set_exception(Disconnected("websocket closed"))
                    run.done.exception()  # mark retrieved: nobody may be awaiting it any more
            self._stop_auto()

    def _handle(self, raw: bytes) -> None:
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        for run in self.runs:
            run.ws_bytes += len(raw)
            run.messages += 1
        if msg.WhichOneof("type") == "ref_hash":
            entry = self.cache.get(msg.ref_hash)
            if entry is None:
                self.stats.error("cache miss", msg.ref_hash)
                return
            entry[1] = self.run_count
            full = ForwardMsg()
            full.ParseFromString(entry[0])
            full.metadata.CopyFrom(msg.metadata)
            msg = full
            self.stats.ref_hits += 1
        elif msg.metadata.cacheable and msg.hash and msg.hash not in self.cache:
            self.cache[msg.hash] = [raw, self.run_count, msg.delta.fragment_id if msg.HasField("delta") else ""]
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self._on_new_session(msg)
        elif kind == "navigation":
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "delta":
            self._on_delta(msg)
        elif kind == "script_finished":
            self._on_finished(msg)
        elif kind == "auto_rerun":
            fid, interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            if fid and interval > 0 and self.auto_timers.get(fid, (None,))[0] != interval:
                self._stop_auto([fid])
                self.auto_timers[fid] = (interval, asyncio.create_task(self._auto_rerun(fid, interval)))
        elif kind == "stop_auto_rerun":
            self._stop_auto(list(msg.stop_auto_rerun.fragment_ids))
        elif kind == "page_not_found":
            self.stats.error("page not found", msg.page_not_found.page_name)
        elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
            self.stats.error("compile error", msg.session_event.script_compilation_exception.message)

    def _on_new_session(self, msg: ForwardMsg) -> None:
        ns = msg.new_session
        if ns.HasField("config") and ns.config.max_cached_message_age:
            self.max_age = ns.config.max_cached_message_age
        if ns.page_script_hash:
            self.page_hash = ns.page_script_hash
        self.had_new_session = True
        self.media_this_run = []
        if not msg.metadata.run.fragment_ids:  # a full run: the frontend drops its auto-rerun timers
            self._stop_auto()
            self.seen_this_run = set()

    def _on_delta(self, msg: ForwardMsg) -> None:
        for run in self.runs:
            run.deltas += 1
        d = msg.delta
        if d.WhichOneof("type") != "new_element":
            return
        el = d.new_element
        kind = el.WhichOneof("type")
        sub = getattr(el, kind)
        if kind == "exception":
            self.stats.error("exception", f"{self.page}: {sub.type}: {sub.message}")
            return
        if kind == "imgs":
            self.media_this_run.extend(i.url for i in sub.imgs if i.url and not i.url.startswith("data:"))
        wid = getattr(sub, "id", "")  # widgets and charts have one; text and images do not
        if wid:
            self.seen_this_run.add(wid)
            self.widgets[wid] = (kind, sub, d.fragment_id)
            if wid not in self.values or getattr(sub, "set_value", False):
                state = initial_state(kind, sub)
                if state is not None:
                    self.values[wid] = state
        if self.on_text is not None and kind in ("alert", "markdown", "text", "heading", "progress"):
            error = kind == "alert" and sub.format == Alert.ERROR
            self.on_text("error" if error else kind, sub.text if kind == "progress" else sub.body)

    def _on_finished(self, msg: ForwardMsg) -> None:
        status = msg.script_finished
        fids = list(msg.metadata.run.fragment_ids)
        now = time.perf_counter()
        if status == COMPILE_ERROR:
            self.stats.error("compile error", self.page)
        if status in (OK, COMPILE_ERROR, FRAGMENT_OK):
            for run in self.runs:
                if not run.done.done() and (status != FRAGMENT_OK or run.fragment_id in fids):
                    run.status, run.finished = status, now
                    run.done.set_result(status)
                    break
            for fid in fids if status == FRAGMENT_OK else []:
                sent = self.auto_sent.get(fid)
                while sent:
                    self.stats.auto_latencies.append(now - sent.popleft())
            if status == OK:  # the frontend forgets the widgets a full run did not draw
                for wid in [w for w in self.values if w not in self.seen_this_run]:
                    del self.values[wid]
                for wid in [w for w in self.widgets if w not in self.seen_this_run]:
                    del self.widgets[wid]
            self._fetch_media()
        if status != EARLY and self.had_new_session:  # the frontend's ForwardMessageCache ageing
            self.run_count += 1
            for h, (_, used, fid) in list(self.cache.items()):
                if fids and (not fid or fid not in fids):
                    continue
                if self.run_count - used > self.max_age:
                    del self.cache[h]

    # -------- media

    def _fetch_media(self) -> None:
        new = [u for u in dict.fromkeys(self.media_this_run) if u not in self.fetched]
        self.media_this_run = []
        if not self.media or not new:
            return
        self.fetched.update(new)
        task = asyncio.create_task(self._fetch(new))
        self.media_tasks.add(task)
        task.add_done_callback(self.media_tasks.discard)

    async def _fetch(self, urls: list[str]) -> None:
        async def one(url: str) -> None:
            t0 = time.perf_counter()
            try:
                status, body = await self.get(url)
            except Exception as e:  # noqa: BLE001 - any failure of a fetch is an error to count, not to raise
                status, body = 0, str(e).encode()
            if status != 200:
                self.stats.media_failed += 1
                self.stats.error("media", f"{url} -> {status} {body[:80]!r}")
                return
            self.stats.media_times.append(time.perf_counter() - t0)
            if self.media_stats is not None:
                self.media_stats.media_files += 1
                self.media_stats.media_bytes += len(body)

        await asyncio.gather(*(one(u) for u in urls))

    async def media_done(self, timeout: float) -> None:
        if self.media_tasks:
            await asyncio.wait(list(self.media_tasks), timeout=timeout)

    # -------- helpers

    def find(self, key: str, kind: str | None = None) -> str | None:
        """The element id of the widget with this user key (Streamlit 1.67 forms ids as `$$ID-<hash>-<key>`)."""
        for wid, (k, _, _) in self.widgets.items():
            if wid.endswith(f"-{key}") and (kind is None or k == kind):
                return wid
        return None


# ---------------------------------------------------------------- what the tabs do


def slider_state(wid: str, value: float) -> WidgetState:
    s = WidgetState(id=wid)
    s.double_array_value.data.append(value)
    return s


def next_value(el: Any, current: float, rng: random.Random) -> float:
    """A value on the slider's grid (min + k * step, within max) other than the current one."""
    step = el.step or (el.max - el.min) / 100 or 1.0
    n = max(1, int((el.max - el.min) / step + 1e-9))
    for _ in range(100):
        value = round(el.min + rng.randint(0, n) * step, 10)
        if abs(value - current) > step / 2:
            return value
    return el.min


def pick_slider(tab: Tab, page: str, stats: Stats, keys: dict[str, str]) -> str | None:
    key = keys.get(page, "")
    wid = tab.find(key, "slider") if key else None
    if wid is None:
        sliders = [w for w, (k, el, _) in tab.widgets.items() if k == "slider" and el.type != Slider.SELECT_SLIDER]
        sliders.sort(key=lambda w: not tab.widgets[w][2])  # prefer one inside a fragment
        wid = sliders[0] if sliders else None
        note = f"{page}: slider {key or '(none named)'} not found; moving {wid.split('-')[-1] if wid else 'nothing'}"
        if note not in stats.notes:
            stats.notes.append(note)
    return wid


async def open_page(tab: Tab, timeout: float) -> Run:
    await tab.connect()
    run = await tab.rerun(timeout, first=True)
    if run.timed_out:
        tab.stats.error("timeout", f"loading {tab.page}")
    return run


async def slider_session(i: int, base: str, page: str, stats: Stats, pool: ThreadPoolExecutor, args: Any,
                         start: float, end: float) -> None:
    """Open the page, then move its slider every 1-2 s until `end`; reconnect like a browser after a drop."""
    rng = random.Random(args.seed * 100_003 + i)
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    ps = stats.pages[page]
    while time.perf_counter() < end:
        tab = Tab(base, page, stats, pool, not args.no_media)
        tab.media_stats = ps
        try:
            t0 = time.perf_counter()
            run = await open_page(tab, args.rerun_timeout)
            if not run.timed_out:
                stats.loads.append(time.perf_counter() - t0)
                ps.load_bytes.append(run.ws_bytes)
            await tab.media_done(HTTP_TIMEOUT)
            wid = pick_slider(tab, page, stats, args.slider_keys)
            if wid is None:
                return
            ps.key = wid.split("-")[-1]
            next_at = time.perf_counter() + rng.uniform(1, 2)
            while True:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                if time.perf_counter() >= end or wid not in tab.widgets:
                    break
                _, el, frag = tab.widgets[wid]
                current = tab.values[wid].double_array_value.data[0] if wid in tab.values else el.default[0]
                value = next_value(el, current, rng)
                run = await tab.rerun(args.rerun_timeout, fragment_id=frag, overrides={wid: slider_state(wid, value)})
                next_at = run.sent + rng.uniform(1, 2)
                if run.timed_out:  # reload, as a student would; a late script_finished must not end the next run
                    stats.error("timeout", f"{page}: no script_finished after {args.rerun_timeout:.0f} s")
                    break
                ps.latencies.append(run.latency)
                ps.ws_bytes += run.ws_bytes
                ps.messages += run.messages
                ps.deltas += run.deltas
                await tab.media_done(HTTP_TIMEOUT)
            if wid not in tab.widgets:
                stats.notes.append(f"{page}: the slider disappeared from the page; tab {i} stopped")
                return
            if time.perf_counter() >= end:
                return
        except (Disconnected, ConnectionError, OSError, websockets.InvalidHandshake) as e:
            if isinstance(e, (ConnectionError, OSError, websockets.InvalidHandshake)):
                stats.error("connect", f"{page}: {e}")
            await asyncio.sleep(1.0)  # the frontend retries after a pause
        finally:
            await tab.close()


async def trainer_session(base: str, name: str, stats: Stats, pool: ThreadPoolExecutor, args: Any,
                          start: float, end: float, t_zero: float) -> None:
    """Open Train, set epochs and a unique name, click Start, then watch the progress fragment (its auto reruns)
    until the page says "saved after" or the time is up."""
    result = TrainerResult(name=name)
    stats.trainers.append(result)
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    tab = Tab(base, "train", stats, pool, not args.no_media)
    clicked: list[float] = []

    def on_text(kind: str, text: str) -> None:
        if kind == "error" and not result.problem:  # "Cannot start: ...", "Training ... failed", "unavailable"
            result.problem = text
        if not clicked:
            return
        if "saved after" in text and result.saved_after is None:
            result.saved_after = time.perf_counter() - clicked[0]
        if kind in ("alert", "error") and "queue" in text.lower():  # the queued job's notice, not the form's caption
            result.queued = True
        if kind == "progress" or "saved after" in text:
            result.last_text = text

    tab.on_text = on_text
    try:
        run = await open_page(tab, args.rerun_timeout)
        ids = {key: tab.find(key) for key in ("tr_epochs", "tr_name", "train_start")}
        missing = [key for key, wid in ids.items() if wid is None]
        if run.timed_out or missing:
            result.problem = f"Train page lacks {', '.join(missing)}" if missing else "Train page did not load"
            return
        epochs, text = WidgetState(id=ids["tr_epochs"]), WidgetState(id=ids["tr_name"])
        if tab.widgets[ids["tr_epochs"]][1].data_type == NumberInput.INT:
            epochs.int_value = args.train_epochs
        else:
            epochs.double_value = float(args.train_epochs)
        text.string_value = name
        clicked.append(time.perf_counter())
        result.started = clicked[0] - t_zero
        run = await tab.rerun(args.rerun_timeout, overrides={ids["tr_epochs"]: epochs, ids["tr_name"]: text},
                              triggers=[ids["train_start"]])
        if run.timed_out:
            stats.error("timeout", "train: Start click")
        while time.perf_counter() < end and result.saved_after is None and tab.reader and not tab.reader.done():
            await asyncio.sleep(0.25)
        if tab.reader is not None and tab.reader.done() and result.saved_after is None:
            result.problem = result.problem or "disconnected"
        while time.perf_counter() < end and tab.reader and not tab.reader.done():
            await asyncio.sleep(0.25)  # a finished trainer stays on its page, as a student would
    except (Disconnected, ConnectionError, OSError, websockets.InvalidHandshake) as e:
        result.problem = f"{type(e).__name__}: {e}"
    finally:
        await tab.close()


async def warm_up(base: str, pages: list[str], pool: ThreadPoolExecutor, args: Any) -> list[str]:
    """One uncounted visit per page, with one slider move, so the first measured visits do not fill the caches."""
    notes = []
    for page in pages:
        stats = Stats()
        tab = Tab(base, page, stats, pool, not args.no_media)
        t0 = time.perf_counter()
        try:
            await open_page(tab, max(args.rerun_timeout, 180))
            wid = pick_slider(tab, page, stats, args.slider_keys) if page != "train" else None
            if wid is not None:
                _, el, frag = tab.widgets[wid]
                value = next_value(el, el.default[0] if el.default else el.min, random.Random(0))
                await tab.rerun(max(args.rerun_timeout, 180), fragment_id=frag,
                                overrides={wid: slider_state(wid, value)})
            await tab.media_done(HTTP_TIMEOUT)
        except (Disconnected, ConnectionError, OSError, websockets.InvalidHandshake) as e:
            notes.append(f"warm-up of {page} failed: {e}")
        finally:
            await tab.close()
        errs = ", ".join(stats.error_samples)
        notes.append(f"warm-up {page}: {time.perf_counter() - t0:.1f} s" + (f" ({errs})" if errs else ""))
    return notes


# ---------------------------------------------------------------- the server


class ServerProbe:
    """CPU time and RSS of a process and all its descendants (psutil), sampled in the background."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.rss_max = 0
        self.rss_last = 0

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self.proc, *self.proc.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> tuple[float, float]:
        """(the server process's own user + system, the whole tree's): every live process in the tree plus what
        each has reaped from its children. The difference is the work of children (a Dask cluster, say)."""
        own = total = 0.0
        for p in self._tree():
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
                if p.pid == self.proc.pid:
                    own = t.user + t.system
        return own, total

    def sample_rss(self) -> int:
        rss = 0
        for p in self._tree():
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                rss += p.memory_info().rss
        self.rss_last = rss
        self.rss_max = max(self.rss_max, rss)
        return rss

    async def sample_forever(self, period: float = 0.5) -> None:
        while True:
            self.sample_rss()
            await asyncio.sleep(period)

    async def settle(self, limit: float, quiet: float = 0.2) -> tuple[float, float]:
        """Wait until the tree uses under `quiet` cores over 2 s (the UMAP warm-up is done), at most `limit` s.
        Returns (seconds waited, cores used over the last 2 s)."""
        t0, cores = time.perf_counter(), float("nan")
        while time.perf_counter() - t0 < limit:
            c0, w0 = self.cpu_seconds()[1], time.perf_counter()
            await asyncio.sleep(2.0)
            cores = (self.cpu_seconds()[1] - c0) / (time.perf_counter() - w0)
            if cores < quiet:
                break
        return time.perf_counter() - t0, cores


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, models: Path, log: Path, passcode: str = "") -> subprocess.Popen:
    """`streamlit run app.py` in its own process group, so the whole tree can be killed at the end."""
    env = dict(os.environ, LATENT_LAB_MODELS=str(models))
    if passcode:
        env["LATENT_LAB_TEACHER_PASSCODE"] = passcode
    env.pop("LATENT_LAB_NO_WARMUP", None)  # a real server warms UMAP
    cmd = [sys.executable, "-m", "ui.serve", "--server.headless", "true",  # what `make run` runs
           "--server.port", str(port), "--server.address", "127.0.0.1"]
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(base: str, proc: subprocess.Popen | None, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{base}/_stcore/health did not say ok within {limit:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group, SIGKILL after 10 s."""
    from ae.run.processes import stop

    stop({"server": proc})


# ---------------------------------------------------------------- the whole run


async def loop_lag(out: list[float], period: float = 0.05) -> None:
    """How late the bench's own event loop wakes up: large values mean the clients, not the server, are slow."""
    while True:
        t = time.perf_counter()
        await asyncio.sleep(period)
        out.append(time.perf_counter() - t - period)


async def bench(args: Any, base: str, server_pid: int | None) -> dict:
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="http")
    probe = ServerProbe(server_pid) if server_pid else None
    sampler = asyncio.create_task(probe.sample_forever()) if probe else None
    notes: list[str] = []
    idle = None
    try:
        if not args.no_warmup:
            notes += await warm_up(base, pages + (["train"] if args.trainers else []), pool, args)
            if probe is not None and args.settle > 0:
                waited, cores = await probe.settle(args.settle)
                idle = cores
                notes.append(f"waited {waited:.0f} s for the server to go quiet before measuring" if cores < 0.2 else
                             f"the server still used {cores:.2f} cores after {waited:.0f} s of waiting (warm-up "
                             "threads?); the numbers below include that background work")
        stats = Stats()
        stats.notes += notes
        n_slider = max(0, args.sessions - args.trainers)
        t_zero = time.perf_counter()
        end = t_zero + args.seconds
        run_id = f"{int(time.time()) % 1_000_000:06d}"
        me = psutil.Process()
        cpu0, me0 = (probe.cpu_seconds() if probe else (0.0, 0.0)), sum(me.cpu_times()[:2])
        lags: list[float] = []
        lag_task = asyncio.create_task(loop_lag(lags))
        tasks = []
        for i in range(args.sessions):
            start = t_zero + args.ramp * i / max(1, args.sessions)
            if i < args.trainers:
                tasks.append(asyncio.create_task(trainer_session(base, f"bench-{run_id}-{i}", stats, pool, args,
                                                                 start, end, t_zero)))
            else:
                page = pages[(i - args.trainers) % len(pages)]
                tasks.append(asyncio.create_task(slider_session(i, base, page, stats, pool, args, start, end)))
        done, pending = await asyncio.wait(tasks, timeout=end - time.perf_counter() + min(GRACE, args.rerun_timeout))
        stats.cut_off = len(pending)
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for t in done:
            if t.exception() is not None:
                stats.error("bench", f"{type(t.exception()).__name__}: {t.exception()}")
        wall = time.perf_counter() - t_zero
        cpu = tuple(b - a for a, b in zip(cpu0, probe.cpu_seconds())) if probe else None
        client_cpu = sum(me.cpu_times()[:2]) - me0
        lag_task.cancel()
        if probe:
            probe.sample_rss()
        result = report_dict(args, pages, n_slider, stats, wall, cpu, probe, client_cpu, lags)
        result["server_idle_cores_before"] = idle
        return result
    finally:
        if sampler:
            sampler.cancel()
        pool.shutdown(wait=False, cancel_futures=True)


async def teacher_bench(args: Any, base: str, server_pid: int | None) -> dict:
    """A teacher-led scenario (follow, collect) after the usual warm-up of its page and a quiet server."""
    import class_scenarios

    pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="http")
    probe = ServerProbe(server_pid) if server_pid else None
    try:
        if not args.no_warmup:
            await warm_up(base, [class_scenarios.PAGES[args.scenario]], pool, args)
            if probe is not None and args.settle > 0:
                await probe.settle(args.settle)
        return await getattr(class_scenarios, args.scenario)(args, base, probe, pool)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def report_dict(args: Any, pages: list[str], n_slider: int, stats: Stats, wall: float, cpu: tuple | None,
                probe: ServerProbe | None, client_cpu: float, lags: list[float]) -> dict:
    all_lat = [x for p in stats.pages.values() for x in p.latencies]
    reruns = len(all_lat)
    per_page = {}
    for page in pages:
        ps = stats.pages.get(page, PageStats())
        n = len(ps.latencies)
        per_page[page] = {
            "sessions": sum(1 for i in range(n_slider) if pages[i % len(pages)] == page), "slider": ps.key,
            "reruns": n, "p50_ms": percentile(ps.latencies, 0.5) * 1000,
            "p95_ms": percentile(ps.latencies, 0.95) * 1000,
            "p99_ms": percentile(ps.latencies, 0.99) * 1000, "max_ms": max(ps.latencies, default=float("nan")) * 1000,
            "ws_bytes_per_rerun": ps.ws_bytes / n if n else None, "messages_per_rerun": ps.messages / n if n else None,
            "deltas_per_rerun": ps.deltas / n if n else None,
            "media_files_per_rerun": ps.media_files / n if n else None,
            "media_bytes_per_rerun": ps.media_bytes / n if n else None,
            "page_load_ws_bytes": sum(ps.load_bytes) / len(ps.load_bytes) if ps.load_bytes else None,
        }
    return {
        "sessions": args.sessions, "trainers": args.trainers, "seconds": args.seconds, "wall_s": wall,
        "reruns": reruns, "p50_ms": percentile(all_lat, 0.5) * 1000, "p95_ms": percentile(all_lat, 0.95) * 1000,
        "p99_ms": percentile(all_lat, 0.99) * 1000, "max_ms": max(all_lat, default=float("nan")) * 1000,
        "errors": sum(stats.errors.values()), "errors_by_kind": dict(stats.errors),
        "error_samples": stats.error_samples,
        "disconnects": stats.disconnects, "cut_off_sessions": stats.cut_off,
        "page_loads": len(stats.loads), "page_load_p50_ms": percentile(stats.loads, 0.5) * 1000,
        "page_load_p95_ms": percentile(stats.loads, 0.95) * 1000,
        "page_load_max_ms": max(stats.loads, default=float("nan")) * 1000,
        "server_cpu_cores": cpu[1] / wall if cpu is not None else None,
        "server_cpu_ms_per_rerun": cpu[1] / reruns * 1000 if cpu is not None and reruns else None,
        "server_web_process_cores": cpu[0] / wall if cpu is not None else None,
        "server_rss_max_mb": probe.rss_max / 2**20 if probe else None,
        "media_fetches": len(stats.media_times), "media_failed": stats.media_failed,
        "media_p50_ms": percentile(stats.media_times, 0.5) * 1000,
        "media_p95_ms": percentile(stats.media_times, 0.95) * 1000,
        "ref_hash_hits": stats.ref_hits,
        "auto_reruns": len(stats.auto_latencies), "auto_p50_ms": percentile(stats.auto_latencies, 0.5) * 1000,
        "auto_p95_ms": percentile(stats.auto_latencies, 0.95) * 1000,
        "client_cpu_cores": client_cpu / wall, "client_loop_lag_max_ms": max(lags, default=0.0) * 1000,
        "per_page": per_page,
        "trainers_detail": [vars(t) for t in stats.trainers],
        "notes": stats.notes,
    }


def _ms(v: float | None) -> str:
    return fmt_ms(v / 1000) if v is not None else "-"


def print_report(r: dict) -> None:
    pp = r["per_page"]
    mix = ", ".join(f"{p} {v['sessions']}" for p, v in pp.items())
    print(f"sessions {r['sessions']} ({mix}), trainers {r['trainers']}, {r['seconds']:.0f} s")
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(r["errors_by_kind"].items()))
    print(f"reruns {r['reruns']:,}  p50 {_ms(r['p50_ms'])}  p95 {_ms(r['p95_ms'])}  p99 {_ms(r['p99_ms'])}  "
          f"max {_ms(r['max_ms'])}  errors {r['errors']}{f' ({kinds})' if kinds else ''}  "
          f"disconnects {r['disconnects']}")
    if r["server_cpu_cores"] is None:
        print("server: CPU n/a, RSS n/a (pass --server-pid)")
    else:
        per = f"{r['server_cpu_ms_per_rerun']:.0f} ms per rerun" if r["server_cpu_ms_per_rerun"] is not None else "-"
        web = r["server_web_process_cores"]
        idle = r.get("server_idle_cores_before")
        print(f"server: CPU {r['server_cpu_cores']:.2f} cores ({per}; the streamlit process {web:.2f}, its children "
              f"{r['server_cpu_cores'] - web:.2f}{f'; {idle:.2f} when idle before' if idle is not None else ''}), "
              f"RSS max {r['server_rss_max_mb']:,.0f} MB")
    print("per page:")
    for page, v in pp.items():
        sent = (f"{v['ws_bytes_per_rerun'] / 1024:.1f} KB in {v['messages_per_rerun']:.0f} msgs per rerun"
                if v["ws_bytes_per_rerun"] is not None else "no reruns")
        media = (f", media {v['media_files_per_rerun']:.1f} files {v['media_bytes_per_rerun'] / 1024:.1f} KB"
                 if v["media_files_per_rerun"] else "")
        print(f"  {page:<13} {v['slider'] or '?':<14} n {v['reruns']:<5} p50 {_ms(v['p50_ms']):>7}  "
              f"p95 {_ms(v['p95_ms']):>7}  p99 {_ms(v['p99_ms']):>7}  max {_ms(v['max_ms']):>7}  {sent}{media}")
    sizes = ", ".join(f"{p} {v['page_load_ws_bytes'] / 1024:.0f} KB" for p, v in pp.items() if v["page_load_ws_bytes"])
    print(f"page loads {r['page_loads']} (p50 {_ms(r['page_load_p50_ms'])}, max {_ms(r['page_load_max_ms'])}"
          f"{'; ' + sizes if sizes else ''}); "
          f"media {r['media_fetches']:,} fetches (p50 {_ms(r['media_p50_ms'])}, p95 {_ms(r['media_p95_ms'])}), "
          f"{r['media_failed']} failed; ref_hash hits {r['ref_hash_hits']}")
    if r["auto_reruns"]:
        print(f"auto reruns (progress fragments) {r['auto_reruns']}: p50 {_ms(r['auto_p50_ms'])}, "
              f"p95 {_ms(r['auto_p95_ms'])}")
    for t in r["trainers_detail"]:
        if t["saved_after"] is not None:
            state = f"saved after {t['saved_after']:.1f} s from Start (sent at +{t['started']:.1f} s)"
        elif t["started"] is not None:
            state = f"not finished (last: {t['last_text'][:70]!r})"
        else:
            state = "never started"
        extra = (" [was queued]" if t["queued"] else "") + (f" [{t['problem'][:90]}]" if t["problem"] else "")
        print(f"trainer {t['name']}: {state}{extra}")
    print(f"client: CPU {r['client_cpu_cores']:.2f} cores, event-loop lag max {r['client_loop_lag_max_ms']:.0f} ms; "
          f"sessions cut off at the end {r['cut_off_sessions']}")
    for s in r["error_samples"]:
        print(f"  e.g. {s}")
    for n in r["notes"]:
        print(f"  note: {n}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scenario", choices=("sliders", "follow", "collect"), default="sliders",
                   help="sliders: every tab moves its own slider (above); follow: a teacher moves a slider and the "
                        "other tabs follow it; collect: the tabs draw on Draw and the teacher's class map collects "
                        "the drawings (bench/class_scenarios.py) (default sliders)")
    p.add_argument("--passcode", default="",
                   help="with --url and --scenario follow: the server's teacher passcode (default: the bench starts "
                        "its own server with one)")
    p.add_argument("--sessions", type=int, default=30, help="browser tabs in all, trainers included (default 30)")
    p.add_argument("--seconds", type=float, default=60, help="how long the tabs keep moving sliders (default 60)")
    p.add_argument("--pages", default="generate,denoise,latent_space",
                   help="comma list of page URL paths; slider tabs are spread round-robin over them "
                        "(default generate,denoise,latent_space)")
    p.add_argument("--sliders", default="",
                   help="page=key pairs, comma separated, to move another slider than the default "
                        f"({', '.join(f'{p}={k}' for p, k in SLIDER_KEYS.items())}), e.g. latent_space=map_grid_steps")
    p.add_argument("--trainers", type=int, default=0, help="how many of the tabs train a model instead (default 0)")
    p.add_argument("--train-epochs", type=int, default=8, help="epochs each trainer asks for (default 8)")
    p.add_argument("--url", default=None,
                   help="attach to a running server or proxy, e.g. http://127.0.0.1:8501, instead of starting one; "
                        "models trainers make are then saved where that server saves them (default: start one)")
    p.add_argument("--server-pid", type=int, default=None,
                   help="with --url: the server's PID, for CPU and RSS; its children count too, so a launcher's "
                        "PID covers every app process and worker it started (default: none, they print n/a)")
    p.add_argument("--port", type=int, default=None, help="port for the server it starts (default: a free one)")
    p.add_argument("--seed", type=int, default=0, help="seed of the pace jitter and slider values (default 0)")
    p.add_argument("--json", default=None, help="also write the results to this JSON file (default: none)")
    p.add_argument("--ramp", type=float, default=5.0, help="seconds over which the tabs start (default 5)")
    p.add_argument("--rerun-timeout", type=float, default=60.0,
                   help="a rerun not finished after this many seconds is an error (default 60)")
    p.add_argument("--no-media", action="store_true", help="do not fetch /media images after runs (default: fetch)")
    p.add_argument("--no-warmup", action="store_true", help="skip the uncounted first visit of every page")
    p.add_argument("--settle", type=float, default=300.0,
                   help="at most this many seconds to wait for the server to go quiet after the warm-up (the "
                        "UMAP compile in the web process and the training worker: ~30 s on an idle machine, 3-4 min "
                        "on a busy 2-core one); 0 to skip; needs the server PID (default 300)")
    a = p.parse_args(argv)
    if a.sessions < 1 or a.trainers < 0 or a.trainers > a.sessions or a.seconds <= 0:
        p.error("need 1 <= sessions, 0 <= trainers <= sessions and seconds > 0")
    pages = [x.strip() for x in a.pages.split(",") if x.strip()]
    if not pages and a.sessions > a.trainers:
        p.error("--pages is empty")
    try:
        a.slider_keys = SLIDER_KEYS | dict(pair.split("=", 1) for pair in a.sliders.split(",") if pair.strip())
    except ValueError:
        p.error("--sliders takes page=key pairs")
    if a.scenario != "sliders" and a.url and not a.passcode:
        p.error(f"--scenario {a.scenario} with --url needs the server's --passcode")
    if a.url and urlsplit(a.url).hostname not in LOCAL_HOSTS:
        p.error("--url must point at 127.0.0.1 (or localhost): this bench only talks to this machine")
    return a


def _finite(v: Any) -> Any:
    """NaN (no data) as null, so the file is strict JSON."""
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # a killed bench still stops its server
    proc, tmp = None, None
    try:
        if args.url:
            base, pid = args.url.rstrip("/"), args.server_pid
            wait_healthy(base, None, 30)
        else:
            tmp = Path(tempfile.mkdtemp(prefix="classroom-"))
            (tmp / "models").mkdir()
            port = args.port or free_port()
            base = f"http://127.0.0.1:{port}"
            if args.scenario != "sliders":
                args.passcode = f"bench-{random.Random(args.seed).randrange(10**6):06d}"
            proc = start_server(port, tmp / "models", tmp / "server.log", args.passcode)
            pid = proc.pid
            t0 = time.perf_counter()
            wait_healthy(base, proc)
            print(f"server pid {pid} healthy on {base} after {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        if args.scenario != "sliders":
            import class_scenarios

            result = asyncio.run(teacher_bench(args, base, pid))
            getattr(class_scenarios, f"print_{args.scenario}")(result)
        else:
            result = asyncio.run(bench(args, base, pid))
            print_report(result)
        if args.json:
            Path(args.json).write_text(json.dumps(_finite(result), indent=2))
        return 1 if result["errors"] else 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except RuntimeError as e:
        if tmp is not None and (tmp / "server.log").exists():
            print((tmp / "server.log").read_text(errors="replace")[-3000:], file=sys.stderr)
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if proc is not None:
            stop_server(proc)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
