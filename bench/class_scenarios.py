"""The teacher-led scenarios of bench/classroom.py (issue 20), on the same simulated tabs (`Tab`).

    .venv/bin/python bench/classroom.py --scenario follow                 # 30 students, a server of its own
    .venv/bin/python bench/classroom.py --scenario follow --url http://127.0.0.1:8501 --passcode owl-42 \
        --server-pid PID                                                  # e.g. `make classroom TEACHER=owl-42`

follow: one teacher tab unlocks the teacher controls with the passcode and turns "The class follows me" on; N student
tabs open Home and are carried to the teacher's page (Reconstructions) by their follow fragment. Then every 2-3 s
(jittered, --seed) the teacher moves the page's main slider (`rec_n`) to a new value. A student has followed a move
when its tab receives the page's slider showing the new value (the browser draws it then); the latency is from the
teacher's widget change being sent to that moment: the teacher's run up to its sidebar (where the view is published),
the message through the Dask scheduler, the student's next look (its fragment's timer), and the student's run up to
the slider, queued behind the other 29. A student that has not followed within 10 s has missed the move (an error).
It prints `follow p95 N ms` last.

collect: the teacher's tab unlocks and opens Draw; N student tabs open Draw and each draws a new stroke every 2-4 s
(the canvas component's state, as the browser sends it). For the first half of --seconds the teacher does not
collect, for the second half "Collect drawings" is on and each stroke's name box says who and which stroke (s07-3).
It times each student's own stroke rerun in both halves (collecting must not slow the students), and each collected
stroke from being sent to the teacher's map (its 1 s fragment) showing its name. A student's last drawing that never
reaches the map is an error. It prints `collect p95 N ms` last.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import time
from typing import Any

import psutil
from classroom import Disconnected, ServerProbe, Stats, Tab, next_value, open_page, percentile, slider_state
from streamlit.proto.WidgetStates_pb2 import WidgetState

PAGE, KEY = "reconstructions", "rec_n"
PAGES = {"follow": PAGE, "collect": "draw"}  # the page each scenario's warm-up visits
MISSED_S = 10.0


class Window:
    """The measured part of a scenario: its seconds, the server's cores (its process tree) and the bench's own."""

    def __init__(self, probe: ServerProbe | None) -> None:
        self.probe, self.me = probe, psutil.Process()
        self.cpu0 = probe.cpu_seconds() if probe else (0.0, 0.0)
        self.me0, self.t0 = sum(self.me.cpu_times()[:2]), time.perf_counter()

    def close(self) -> dict:
        wall = time.perf_counter() - self.t0
        cpu = tuple(b - a for a, b in zip(self.cpu0, self.probe.cpu_seconds())) if self.probe else None
        return {"seconds": wall, "server_cpu_cores": cpu[1] / wall if cpu else None,
                "client_cpu_cores": (sum(self.me.cpu_times()[:2]) - self.me0) / wall}


def outcome(stats: Stats) -> dict:
    return {"errors": sum(stats.errors.values()), "error_samples": stats.error_samples}


def cpu_text(r: dict) -> str:
    server = f"{r['server_cpu_cores']:.2f} cores" if r["server_cpu_cores"] is not None else "n/a"
    return f"server CPU {server}, the bench's own {r['client_cpu_cores']:.2f} cores"


class Student(Tab):
    """A tab that notes when its `key` slider arrives showing a value: the moment the student's screen shows it (the
    frontend draws each delta as it comes; the run's script_finished may come later, or, under load, not at all when
    Streamlit clears the queue for the next fragment run)."""

    def __init__(self, *a: Any, key: str, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.key = key
        self.shown: list[tuple[float, float]] = []

    def _on_delta(self, msg: Any) -> None:
        super()._on_delta(msg)
        el = msg.delta.new_element if msg.delta.WhichOneof("type") == "new_element" else None
        if el is not None and el.WhichOneof("type") == "slider" and el.slider.id.endswith(f"-{self.key}"):
            state = self.values.get(el.slider.id)
            if state is not None:
                self.shown.append((time.perf_counter(), state.double_array_value.data[0]))

    def followed(self, value: float, since: float) -> float | None:
        return next((t for t, v in self.shown if t >= since and v == value), None)


async def unlock(teacher: Tab, passcode: str, timeout: float) -> None:
    """The teacher's first clicks: the passcode, then Unlock."""
    code, button = teacher.find("teacher_code"), teacher.find("teacher_unlock")
    if code is None or button is None:
        raise RuntimeError("no Teacher box: start the server with a passcode (make run TEACHER=...)")
    await teacher.rerun(timeout, overrides={code: WidgetState(id=code, string_value=passcode)}, triggers=[button])
    if teacher.find("teacher_follow") is None:
        raise RuntimeError("the passcode was refused (pass the server's with --passcode)")


async def switch(teacher: Tab, key: str, on: bool, timeout: float) -> None:
    """One of the Teacher box's toggles (teacher_follow, teacher_collect, ...)."""
    wid = teacher.find(key)
    if wid is not None:
        await teacher.rerun(timeout, overrides={wid: WidgetState(id=wid, bool_value=on)})


async def go_to(tab: Tab, page: str, timeout: float) -> None:
    tab.page, tab.page_hash = page, ""  # a click in the page list: the next run names the page
    await tab.rerun(timeout, first=True)


async def unlock_and_lead(teacher: Tab, passcode: str, timeout: float) -> None:
    """Unlock, "The class follows me", then open the page to teach."""
    await unlock(teacher, passcode, timeout)
    await switch(teacher, "teacher_follow", True, timeout)
    await go_to(teacher, PAGE, timeout)


async def follow(args: Any, base: str, probe: ServerProbe | None, pool: Any) -> dict:
    rng = random.Random(args.seed)
    stats = Stats()
    teacher = Tab(base, "", stats, pool, False)
    students = [Student(base, "", stats, pool, not args.no_media, key=KEY) for _ in range(args.sessions)]
    latencies: list[float] = []
    teacher_s: list[float] = []  # the teacher's own runs
    missed = 0
    try:
        await open_page(teacher, args.rerun_timeout)
        for s in students:  # the class arrives over --ramp seconds
            await open_page(s, args.rerun_timeout)
            await asyncio.sleep(args.ramp / max(1, len(students)))
        await unlock_and_lead(teacher, args.passcode, args.rerun_timeout)
        wid = teacher.find(KEY, "slider")
        if wid is None:
            raise RuntimeError(f"the teacher's {PAGE} page has no {KEY} slider")
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline and not all(s.shown for s in students):
            await asyncio.sleep(0.2)
        arrived = sum(1 for s in students if s.shown)
        window = Window(probe)
        moves = 0
        end = window.t0 + args.seconds
        while time.perf_counter() < end:
            _, el, frag = teacher.widgets[wid]
            value = next_value(el, teacher.values[wid].double_array_value.data[0], rng)
            run = await teacher.rerun(args.rerun_timeout, fragment_id=frag, overrides={wid: slider_state(wid, value)})
            moves += 1
            sent = run.sent
            teacher_s.append(run.latency)
            while time.perf_counter() < sent + MISSED_S and not all(s.followed(value, sent) for s in students):
                await asyncio.sleep(0.05)
            for s in students:
                t = s.followed(value, sent)
                if t is None:
                    missed += 1
                    last = [(round(t - sent, 2), v) for t, v in s.shown[-3:]]
                    stats.error("missed", f"a student did not show {KEY}={value} within {MISSED_S:.0f} s "
                                          f"(what it showed last: {last}, seconds after the move and value)")
                else:
                    latencies.append(t - sent)
            await asyncio.sleep(rng.uniform(2, 3))
        measured = window.close()
    except (Disconnected, ConnectionError, OSError) as e:
        stats.error("connect", str(e))
        return {"scenario": "follow", **outcome(stats)}
    finally:
        if teacher.ws is not None:  # the class is free again for whoever comes next
            with contextlib.suppress(Exception):
                await switch(teacher, "teacher_follow", False, args.rerun_timeout)
        for t in [teacher, *students]:
            await t.close()
    return {
        "scenario": "follow", "students": len(students), "arrived": arrived, "moves": moves, "missed": missed,
        "follow_p50_ms": percentile(latencies, 0.5) * 1000, "follow_p95_ms": percentile(latencies, 0.95) * 1000,
        "follow_max_ms": max(latencies, default=float("nan")) * 1000,
        "teacher_run_p50_ms": percentile(teacher_s, 0.5) * 1000,
        "auto_reruns": len(stats.auto_latencies), "auto_p95_ms": percentile(stats.auto_latencies, 0.95) * 1000,
        **measured, **outcome(stats),
    }


def print_follow(r: dict) -> None:
    if "follow_p95_ms" not in r:
        print(f"follow: failed ({'; '.join(r['error_samples'])})")
        return
    print(f"{r['students']} students ({r['arrived']} carried to the teacher's page), {r['moves']} moves of the "
          f"teacher's slider over {r['seconds']:.0f} s, {r['missed']} missed; {cpu_text(r)}; students' look-outs "
          f"{r['auto_reruns']} fragment runs (p95 {r['auto_p95_ms']:.0f} ms)")
    print(f"the teacher's own run p50 {r['teacher_run_p50_ms']:.0f} ms")
    for s in r["error_samples"]:
        print(f"  e.g. {s}")
    print(f"follow p50 {r['follow_p50_ms']:.0f} ms, max {r['follow_max_ms']:.0f} ms")
    print(f"follow p95 {r['follow_p95_ms']:.0f} ms")


# ---------------------------------------------------------------- collect

NAMES = re.compile(r'"(s\d\d-\d+)"')


class Board(Tab):
    """The teacher's tab on Draw: when each student-and-stroke name first shows on its class map."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.seen: dict[str, float] = {}

    def _on_delta(self, msg: Any) -> None:
        super()._on_delta(msg)
        el = msg.delta.new_element if msg.delta.WhichOneof("type") == "new_element" else None
        if el is not None and el.WhichOneof("type") == "plotly_chart":
            now = time.perf_counter()
            for name in NAMES.findall(el.plotly_chart.spec):
                self.seen.setdefault(name, now)


def strokes(i: int, k: int) -> str:
    """The canvas component's state after student i's k-th stroke (a digit-like scribble, new at every stroke)."""
    from tests.helpers import canvas_state, drawn

    rng = random.Random(i * 1000 + k)
    lines = [[(rng.uniform(60, 220), rng.uniform(40, 240)) for _ in range(4)] for _ in range(1 + k % 3)]
    return json.dumps(canvas_state(drawn(lines)))


async def drawer(i: int, tab: Tab, phase: dict, out: dict, args: Any, rng: random.Random) -> None:
    """A student drawing: a new stroke every 2-4 s; with the teacher collecting, the name box carries the student and
    the stroke's number (s07-3), which the teacher's map then shows."""
    canvas = tab.find("dr_canvas")
    k = 0
    while not phase["done"]:
        await asyncio.sleep(rng.uniform(2, 4))
        if phase["done"]:
            return
        k += 1
        collecting = phase["collect"]
        overrides = {canvas: WidgetState(id=canvas, json_value=strokes(i, k))}
        name_box = tab.find("class_map_name")
        label = f"s{i:02d}-{k}"
        if collecting and name_box is not None:
            overrides[name_box] = WidgetState(id=name_box, string_value=label)
        run = await tab.rerun(args.rerun_timeout, overrides=overrides)
        if run.timed_out:
            tab.stats.error("timeout", f"a stroke of student {i}")
            continue
        out["strokes_on" if collecting else "strokes_off"].append(run.latency)
        if collecting and name_box is not None:
            out["sent"][label] = run.sent


async def collect(args: Any, base: str, probe: ServerProbe | None, pool: Any) -> dict:
    """Half the time the class draws with the teacher not collecting, half with: each student's stroke latency in
    both halves, and from a stroke to the teacher's map showing it."""
    stats = Stats()
    teacher = Board(base, "", stats, pool, False)
    students = [Tab(base, "draw", stats, pool, not args.no_media) for _ in range(args.sessions)]
    out: dict[str, Any] = {"strokes_off": [], "strokes_on": [], "sent": {}}
    phase = {"collect": False, "done": False}
    try:
        await open_page(teacher, args.rerun_timeout)
        await unlock(teacher, args.passcode, args.rerun_timeout)
        await go_to(teacher, "draw", args.rerun_timeout)
        for s in students:
            await open_page(s, args.rerun_timeout)
            if s.find("dr_canvas") is None:
                raise RuntimeError("the Draw page has no dr_canvas")
            await asyncio.sleep(args.ramp / max(1, len(students)))
        window = Window(probe)
        tasks = [asyncio.create_task(drawer(i, s, phase, out, args, random.Random(args.seed * 7919 + i)))
                 for i, s in enumerate(students)]
        await asyncio.sleep(args.seconds / 2)
        await switch(teacher, "teacher_collect", True, args.rerun_timeout)
        phase["collect"] = True
        await asyncio.sleep(args.seconds / 2)
        phase["done"] = True
        await asyncio.wait(tasks, timeout=args.rerun_timeout)
        await asyncio.sleep(MISSED_S / 2)  # the last strokes' way to the board
        measured = window.close()
    except (Disconnected, ConnectionError, OSError) as e:
        stats.error("connect", str(e))
        return {"scenario": "collect", **outcome(stats)}
    finally:
        phase["done"] = True
        if teacher.ws is not None:
            with contextlib.suppress(Exception):
                await switch(teacher, "teacher_collect", False, args.rerun_timeout)
        for t in [teacher, *students]:
            await t.close()
    # a stroke overtaken by the same student's next one before the board looked is shown as that next one: the board
    # shows each student's latest drawing, so only a student's last stroke must reach it
    last = {}
    for label, sent in out["sent"].items():
        who = label.split("-")[0]
        if who not in last or sent > out["sent"][last[who]]:
            last[who] = label
    board = [teacher.seen[label] - sent for label, sent in out["sent"].items() if label in teacher.seen]
    lost = [label for label in last.values() if label not in teacher.seen]
    for label in lost:
        stats.error("missed", f"{label} (a student's last drawing) never reached the teacher's map")
    return {
        "scenario": "collect", "students": len(students), "strokes_sent": len(out["sent"]), "on_board": len(board),
        "collect_p50_ms": percentile(board, 0.5) * 1000, "collect_p95_ms": percentile(board, 0.95) * 1000,
        "stroke_off_p50_ms": percentile(out["strokes_off"], 0.5) * 1000,
        "stroke_off_p95_ms": percentile(out["strokes_off"], 0.95) * 1000,
        "stroke_on_p50_ms": percentile(out["strokes_on"], 0.5) * 1000,
        "stroke_on_p95_ms": percentile(out["strokes_on"], 0.95) * 1000,
        "strokes_off": len(out["strokes_off"]), "strokes_on": len(out["strokes_on"]),
        **measured, **outcome(stats),
    }


def print_collect(r: dict) -> None:
    if "collect_p95_ms" not in r:
        print(f"collect: failed ({'; '.join(r['error_samples'])})")
        return
    print(f"{r['students']} students drawing; {cpu_text(r)}")
    print(f"a student's stroke (their own rerun): teacher not collecting p50 {r['stroke_off_p50_ms']:.0f} ms, p95 "
          f"{r['stroke_off_p95_ms']:.0f} ms ({r['strokes_off']} strokes); collecting p50 {r['stroke_on_p50_ms']:.0f} "
          f"ms, p95 {r['stroke_on_p95_ms']:.0f} ms ({r['strokes_on']} strokes)")
    print(f"{r['on_board']} of {r['strokes_sent']} collected strokes shown on the teacher's map (the others were "
          "replaced by the same student's next stroke before the map looked)")
    for s in r["error_samples"]:
        print(f"  e.g. {s}")
    print(f"collect p50 {r['collect_p50_ms']:.0f} ms")
    print(f"collect p95 {r['collect_p95_ms']:.0f} ms")
