"""Pages read analyses; they never compute them. `need` returns the stored analyses a page asks for, or shows a
progress bar for each one the analysis worker is computing (what, how far, about how long) and stops the page there;
the bar reruns the page once they are all written. Reads are cached per file (shared by every session, read-only).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import streamlit as st

from ae.data.sources import Dataset
from ae.explore.analyses import split
from ae.run.analyse import BACKGROUND_PRIORITY, PAGE_PRIORITY, Analysis, AnalysisQueue, candidates
from ae.store import analyses as store


@st.cache_resource(show_spinner=False)
def analysis_queue() -> AnalysisQueue:
    """This process's door to the analysis worker, through the cluster the job queue connects to."""
    from ui.cache import job_queue

    jobs = job_queue()
    return AnalysisQueue(lambda timeout: jobs.client if jobs.wait_ready(timeout) and not jobs.error else None,
                         lambda: jobs.error)


@st.cache_resource(max_entries=1024, show_spinner=False)
def _read(path: str, mtime: int, weights: str, fingerprint: str, version: int) -> Analysis | None:
    found = store.read(path, weights, fingerprint, version)
    if found is not None:
        for a in found.arrays.values():
            a.setflags(write=False)  # shared by every session
    return found


def stored(key: str, model: str | None, data: Dataset) -> Analysis | None:
    """The analysis of the model (its JSON path; None for the data alone) if it is stored and current, else None
    (nothing is started)."""
    for path, weights, version in candidates(key, model, data):
        try:
            mtime = Path(path).stat().st_mtime_ns
        except OSError:
            continue
        found = _read(str(path), mtime, weights, data.fingerprint, version)
        if found is not None:
            return found
    return None


def title(key: str, model: str | None, data: Dataset) -> str:
    kind, param = split(key)
    what = kind.title
    if kind.name == "oneclass":
        what = f"a one-class model of class {data.class_names[int(param)]}"
    elif kind.name == "pca":
        what = f"the PCA {param} baseline"
    return f"{what[0].upper()}{what[1:]}" + (f" of {Path(model).stem}" if model else "") + f" on {data.name}"


def request(key: str, model: str | None, data: Dataset, priority: int = PAGE_PRIORITY) -> str:
    """Ask the analysis worker for it (once per process however many ask); returns the task to follow."""
    return analysis_queue().request(key, model, data, title(key, model, data), priority=priority).task


def need(data: Dataset, *wanted: tuple[str, str | None]) -> list[Analysis]:
    """Each (key, model JSON path or None) analysis of `data`, in order. When any is not stored yet, the page shows
    what is being computed and stops here; it reruns by itself when everything is there."""
    found = need_some(data, *wanted)
    if any(a is None for a in found):
        st.stop()
    return found


def need_some(data: Dataset, *wanted: tuple[str, str | None], background: bool = False,
              together: str = "") -> list[Analysis | None]:
    """Like `need`, but the page goes on with what is there: the missing ones get a progress bar here and None
    (`background`: they may wait behind every page's own analyses; `together`: one bar for them all, so named)."""
    found = [stored(key, model, data) for key, model in wanted]
    priority = BACKGROUND_PRIORITY if background else PAGE_PRIORITY
    missing = [request(key, model, data, priority) for (key, model), a in zip(wanted, found) if a is None]
    if missing:
        waiting(missing, together, len(wanted))
    return found


def analyse_in_background(model: str) -> None:
    """Queue every analysis of a model on its own dataset, behind whatever a page is waiting for (an imported model:
    ready before anyone opens it). A dataset this server does not have is left to the pages that open the model."""
    from ae.explore.analyses import model_kinds
    from ae.store.checkpoints import CheckpointError, read_meta
    from ui.cache import open_dataset

    try:
        data = open_dataset(read_meta(model).get("dataset", {}).get("name", ""))
    except (CheckpointError, OSError, ValueError):
        return
    for key in model_kinds(data):
        analysis_queue().request(key, model, data, title(key, model, data), priority=BACKGROUND_PRIORITY)


@st.fragment(run_every=1.0)
def waiting(tasks: list[str], together: str = "", of: int = 0) -> None:
    """One progress bar per analysis being computed (or one for them all, `together`, out of `of` asked for),
    refreshed every second; the page reruns when all are done."""
    queue = analysis_queue()
    states = [queue.status(t) for t in tasks]
    if all(s is not None and s.state == "done" for s in states):
        st.rerun()
    for task, s in zip(tasks, states):
        if s is not None and s.state == "failed":
            st.error(f"**{s.title} could not be computed.** {s.error}", icon=":material/error:")
            st.button("Try again", key=f"retry_{task}", on_click=queue.forget, args=(task,))
    live = [s for s in states if s is not None and s.state != "failed"]
    if together:
        done = of - len(tasks) + sum(s.state == "done" for s in live)
        now = sum(s.fraction for s in live if s.state == "running")
        st.progress(min((done + now) / max(of, 1), 1.0),
                    text=f"{together}: {done} of {of} done, computed once on a worker in the background and kept "
                         "for everyone")
        return
    for s in live:
        st.progress(min(max(s.fraction, 0.0), 1.0), text=describe(s))


def describe(s) -> str:
    """"Computing X on a worker: what it does now · 40% · about 12 s left" (or why it has not started)."""
    if s.state == "waiting":
        now = "waiting for the analysis worker to start"
    elif s.state == "queued":
        now = f"queued for the analysis worker ({time.time() - s.asked:.0f} s)"
    else:
        eta = s.eta()
        now = (s.text or "starting") + f" · {s.fraction:.0%}" + (f" · about {eta:.0f} s left" if eta else "")
    return f"{s.title}: computed once on a worker and kept for everyone · {now}"


def floats(a: np.ndarray) -> np.ndarray:
    """A stored float16 array (codes, maps) as float32, the way pages use them."""
    return a.astype(np.float32) if a.dtype == np.float16 else a
