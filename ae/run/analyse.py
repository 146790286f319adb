"""Analyses computed once and stored (`ae.explore.analyses` says what each holds, `ae.store.analyses` where it
lives): in this process for the CLI, the training pipeline and the zoo builder; as Dask tasks on the cluster's
analysis worker for the app, whose web processes only read them.

Why this shape:
- A page's analysis never waits behind students' trainings: its task asks for the `analysis` resource, which only
  the analysis worker offers (training workers offer `train`), and a page's request outranks background work.
- The same analysis is computed once: the Dask key is the kind, the weights' SHA-256 and the data's fingerprint, so
  two sessions, or two app processes, asking for it share one task; once written, every process reads the file.
- The worker gets the weights' bytes and the model's JSON with the task (no shared disk) and returns the file's
  bytes; the app process writes it atomically, so a worker killed mid-analysis leaves nothing half-written.
- Progress comes back as Dask worker events, as for training jobs: what is being computed and how far it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ae import settings
from ae.data.sources import Dataset
from ae.errors import InputError
from ae.explore.analyses import Progress, compute, quiet, split
from ae.models.base import Autoencoder
from ae.store import analyses as store

TOPIC = "latent-lab-analysis"
KEY_PREFIX = "latent-lab-analysis-"
RESOURCE = "analysis"
PAGE_PRIORITY, BACKGROUND_PRIORITY = 10, 0


def dataset_roots() -> list[Path]:
    """Where dataset analyses are read from (the shipped ones first) and, the last, written to."""
    from ae.store.catalog import user_models_dir
    from ae.store.zoo import ZOO_DIR

    return [ZOO_DIR, user_models_dir()]


def weights_of(model_json: str | Path | None) -> str:
    return store.weights_sha256(model_json) if model_json is not None else ""


def path_for(key: str, model_json: str | Path | None, data: Dataset, root: Path | None = None) -> Path:
    """Where this analysis is (or will be) written."""
    if split(key)[0].per_model:
        return store.model_path(model_json, key, data.fingerprint)
    return store.dataset_path(root or dataset_roots()[-1], key, data.fingerprint)


def candidates(key: str, model_json: str | Path | None, data: Dataset,
               roots: list[Path] | None = None) -> list[tuple[Path, str, int]]:
    """(path, weights SHA-256, version) of every file that may hold this analysis, in the order to try them
    (`roots`: where to look for a dataset's own analyses; default `dataset_roots()`)."""
    kind, _ = split(key)
    if kind.per_model:
        return [(path_for(key, model_json, data), weights_of(model_json), kind.version)]
    return [(store.dataset_path(r, key, data.fingerprint), "", kind.version) for r in roots or dataset_roots()]


def find(key: str, model_json: str | Path | None, data: Dataset, roots: list[Path] | None = None) -> Analysis | None:
    """The stored analysis of this model (or of the data alone) on this data, if there is a current one."""
    for path, weights, version in candidates(key, model_json, data, roots):
        found = store.read(path, weights, data.fingerprint, version)
        if found is not None:
            return found
    return None


Analysis = store.Analysis


def analyse(key: str, model_json: str | Path | None, data: Dataset, model: Autoencoder | None = None,
            progress: Progress = quiet, root: Path | None = None) -> Analysis:
    """Compute one analysis here and store it (the CLI, the pipeline, the zoo builder). `model`: the loaded model
    when the caller has it."""
    kind, _ = split(key)
    if kind.per_model and model is None:
        from ae.store.checkpoints import load_model

        model, _ = load_model(model_json)
    result = compute(key, model if kind.per_model else None, data, progress)
    save(result, model_json, data, root)
    return result


def save(result: Analysis, model_json: str | Path | None, data: Dataset, root: Path | None = None) -> Path:
    """Store an analysis computed here, stamped with the weights, the data and its kind's version."""
    kind, _ = split(result.kind)
    blob = store.to_bytes(result, weights_of(model_json) if kind.per_model else "", data.fingerprint, data.name,
                          kind.version)
    return store.write(path_for(result.kind, model_json, data, root), blob)


def ensure(keys: list[str], model_json: str | Path | None, data: Dataset, model: Autoencoder | None = None,
           progress: Callable[[str, float, str], None] | None = None, root: Path | None = None) -> dict[str, Analysis]:
    """Each analysis in `keys`, read when stored, else computed here and stored. progress(key, fraction, text)."""
    out = {}
    for key in keys:
        found = find(key, model_json, data, [root] if root is not None else None)
        if found is None:
            report = (lambda f, t, k=key: progress(k, f, t)) if progress else quiet
            found = analyse(key, model_json, data, model, report, root)
        out[key] = found
    return out


# ---------------------------------------------------------------- worker side


def run_analysis(key: str, meta_json: str | None, weights: bytes | None, dataset: str | Dataset,
                 fingerprint: str) -> bytes:
    """The Dask task: the analysis file's bytes, computed on the worker that runs it."""
    from distributed import get_worker

    from ae.store.checkpoints import model_from_bytes

    worker = get_worker()
    data = worker_dataset(dataset, fingerprint)
    kind, _ = split(key)
    model = model_from_bytes(weights, json.loads(meta_json), key) if kind.per_model else None
    task = KEY_PREFIX + task_name(key, hashlib.sha256(weights).hexdigest() if weights else "", fingerprint)
    last = [0.0, ""]

    def progress(fraction: float, text: str) -> None:  # at most 4 events a second, but never a new stage dropped
        now = time.time()
        if now - last[0] >= 0.25 or fraction >= 1.0 or text != last[1]:
            last[0], last[1] = now, text
            worker.log_event(TOPIC, {"key": task, "fraction": float(fraction), "text": text, "t": now})

    result = compute(key, model, data, progress)
    return store.to_bytes(result, hashlib.sha256(weights).hexdigest() if weights else "", fingerprint, data.name,
                          kind.version)


def worker_dataset(dataset: str | Dataset, fingerprint: str) -> Dataset:
    """The app's dataset on this worker (a built-in one by name, read here; a user's sent whole), with the worker's
    threads set: checked to be the very data the app has."""
    import torch

    from ae.run.jobs import builtin_dataset

    torch.set_num_threads(settings.torch_threads())
    data = dataset if isinstance(dataset, Dataset) else builtin_dataset(dataset)
    if data.fingerprint != fingerprint:
        raise RuntimeError(f"the worker's copy of {data.name} differs from the app's (fingerprint "
                           f"{data.fingerprint[:8]} against {fingerprint[:8]}); give both the same data folder")
    return data


def run_call(fn: Callable, dataset: str | Dataset, fingerprint: str, kwargs: dict) -> object:
    """The Dask task of `AnalysisQueue.call`: fn(data=the dataset, **kwargs) on the analysis worker."""
    return fn(data=worker_dataset(dataset, fingerprint), **kwargs)


def task_name(key: str, weights: str, fingerprint: str) -> str:
    return f"{key}-{weights[:16] or 'data'}-{fingerprint[:16]}"


# ---------------------------------------------------------------- app side


@dataclass
class Pending:
    """One analysis this app process asked for, as its pages show it."""

    key: str
    task: str
    title: str
    path: Path
    state: str = "waiting"  # waiting (for the cluster) | queued | running | done | failed
    fraction: float = 0.0
    text: str = ""
    error: str = ""
    asked: float = field(default_factory=time.time)
    started: float | None = None  # the first progress event
    future: object = None

    def eta(self) -> float | None:
        """Seconds left, from the pace so far (none before 5% or a second of work)."""
        if self.started is None or self.fraction < 0.05:
            return None
        spent = time.time() - self.started
        return spent / self.fraction * (1 - self.fraction) if spent > 1 else None


class AnalysisQueue:
    """This app process's door to the analysis worker: `request` submits an analysis (once per process; Dask shares
    the task across processes), `status` says how it goes. Files are written here when a task ends.

    With $LATENT_LAB_ANALYSIS_INLINE set (the AppTest suites, which have no use for a cluster per page test) the
    same requests run in a background thread of this process instead; everything else is the same."""

    def __init__(self, client_of: Callable[[float], object], submit_error: Callable[[], str | None]) -> None:
        """client_of(timeout): the connected Dask client (or None); submit_error(): why the cluster is unusable."""
        self._client_of, self._cluster_error = client_of, submit_error
        self.inline = settings.analysis_inline()
        self._lock = threading.Lock()
        self.pending: dict[str, Pending] = {}
        self._todo: deque[tuple[Pending, tuple, int]] = deque()
        self._wake = threading.Event()
        self._subscribed = False
        self.computed = 0  # analyses this process wrote (tests count them)
        threading.Thread(target=self._loop, name="analysis-submit", daemon=True).start()

    def request(self, key: str, model_json: str | Path | None, data: Dataset, title: str,
                priority: int = PAGE_PRIORITY) -> Pending:
        kind, _ = split(key)
        weights = weights_of(model_json) if kind.per_model else ""
        task = task_name(key, weights, data.fingerprint)
        with self._lock:
            p = self.pending.get(task)
            if p is not None:  # running, done, or failed: a failure stays on the page until someone asks again
                return p
            p = Pending(key, task, title, path_for(key, model_json, data))
            self.pending[task] = p
        meta_json = weights_blob = None
        if kind.per_model:
            meta_json = Path(model_json).with_suffix(".json").read_text()
            weights_blob = Path(model_json).with_suffix(".safetensors").read_bytes()
        from ae.data.sources import dataset_names

        dataset = data.name if data.name in dataset_names() else data
        self._todo.append((p, (key, meta_json, weights_blob, dataset if not self.inline else data, data.fingerprint),
                           priority))
        self._wake.set()
        return p

    def call(self, fn: Callable, *, data: Dataset, timeout: float = 600, **kwargs) -> object:
        """fn(data=data, **kwargs) on the analysis worker, waited for (a one-off job a person is waiting on, such as
        measuring an imported model: not stored as an analysis). Its exceptions come back as raised there."""
        if self.inline:
            return fn(data=data, **kwargs)
        client = self._client_of(min(timeout, 120))
        if client is None:
            raise InputError(f"the analysis worker is not running: {self._cluster_error() or 'it has not started'}")
        from ae.data.sources import dataset_names

        dataset = data.name if data.name in dataset_names() else client.scatter(data, direct=False)
        future = client.submit(run_call, fn, dataset, data.fingerprint, kwargs, resources={RESOURCE: 1},
                               priority=PAGE_PRIORITY, pure=False, retries=0)
        return future.result(timeout=timeout)

    def status(self, task: str) -> Pending | None:
        return self.pending.get(task)

    def forget(self, task: str) -> None:
        """Drop a finished or failed request (a Retry asks again)."""
        with self._lock:
            p = self.pending.get(task)
            if p is not None and p.state in ("done", "failed"):
                del self.pending[task]

    def _loop(self) -> None:
        while True:
            self._wake.wait(1.0)
            self._wake.clear()
            if not self._todo:
                continue
            if self.inline:
                while self._todo:
                    p, args, _ = self._todo.popleft()
                    self._run_here(p, args)
                continue
            client = self._client_of(0.5)
            if client is None:
                error = self._cluster_error()
                if error:
                    while self._todo:
                        p, _, _ = self._todo.popleft()
                        self._fail(p, f"the analysis cannot run: {error}")
                continue
            if not self._subscribed:
                with contextlib.suppress(Exception):
                    client.subscribe_topic(TOPIC, self._on_event)
                    self._subscribed = True
            while self._todo:
                p, args, priority = self._todo.popleft()
                try:
                    self._submit(client, p, args, priority)
                except Exception as e:  # the cluster went away: say so on the page
                    self._fail(p, f"it could not be handed to the cluster ({e.__class__.__name__}: {e})")

    def _submit(self, client, p: Pending, args: tuple, priority: int) -> None:
        key, meta_json, weights, dataset, fingerprint = args
        if not isinstance(dataset, str):
            dataset = client.scatter(dataset, direct=False)
        p.state = "queued"
        p.future = client.submit(run_analysis, key, meta_json, weights, dataset, fingerprint, key=KEY_PREFIX + p.task,
                                 resources={RESOURCE: 1}, priority=priority, pure=False, retries=0)
        p.future.add_done_callback(lambda f, p=p: self._on_done(p, f))

    def _run_here(self, p: Pending, args: tuple) -> None:
        key, meta_json, weights, data, fingerprint = args
        kind, _ = split(key)
        from ae.store.checkpoints import model_from_bytes

        def progress(fraction: float, text: str) -> None:
            self._on_event((0, {"key": KEY_PREFIX + p.task, "fraction": fraction, "text": text, "t": time.time()}))

        class Done:
            def __init__(self, value=None, error=None):
                self.value, self.error = value, error

            def result(self):
                if self.error is not None:
                    raise self.error
                return self.value

            def cancelled(self) -> bool:
                return False

        try:
            model = model_from_bytes(weights, json.loads(meta_json), key) if kind.per_model else None
            result = compute(key, model, data, progress)
            done = Done(store.to_bytes(result, hashlib.sha256(weights).hexdigest() if weights else "", fingerprint,
                                       data.name, kind.version))
        except Exception as e:
            done = Done(error=e)
        self._on_done(p, done)

    def _on_event(self, event) -> None:
        _, msg = event
        p = self.pending.get(str(msg.get("key", "")).removeprefix(KEY_PREFIX))
        if p is None or p.state in ("done", "failed"):
            return
        if p.started is None:
            p.started = msg.get("t", time.time())
        p.state, p.fraction, p.text = "running", float(msg.get("fraction", 0.0)), str(msg.get("text", ""))

    def _on_done(self, p: Pending, future) -> None:
        try:
            blob = future.result()
        except Exception as e:
            if e.__class__.__name__ == "KilledWorker":
                reason = "the worker computing it stopped (killed or out of memory); nothing was saved"
            elif future.cancelled():
                reason = "it was cancelled"
            else:
                reason = f"{e.__class__.__name__}: {e}" if not isinstance(e, ValueError) else str(e)
            self._fail(p, reason)
            return
        finally:
            p.future = None
        try:
            store.write(p.path, blob)
        except OSError as e:
            self._fail(p, f"it could not be saved ({e.__class__.__name__}: {e})")
            return
        self.computed += 1
        p.state, p.fraction = "done", 1.0

    def _fail(self, p: Pending, reason: str) -> None:
        p.state, p.error, p.future = "failed", reason, None
