"""Training jobs on a Dask cluster: a fair first-come queue shared by every app process, live progress, Stop.

Why this shape:
- Training never runs in the web process: each job is one Dask task (`run_job`) on a worker offering the `train`
  resource, so students' pages keep their cores.
- The queue is global and first come, first served: it lives in the scheduler (its metadata store, under a Dask Lock),
  and each app process hands its own jobs to Dask only when they reach the head and a worker is free. Dask alone
  would assign a restricted task to a worker at submission and let it wait there, behind a long job, while another
  worker idles. An app process that disappears stops refreshing its heartbeat and its queued jobs are dropped.
- Progress comes back as Dask worker events (epoch, losses, preview reconstructions); Stop is a Dask Event the worker
  watches, checked after every batch. The worker writes the model into a temporary folder and returns the files'
  bytes; the app writes them into its models folder atomically, so a worker on another machine needs no shared disk
  and a job that dies leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ae import settings
from ae.config import ModelConfig, TrainConfig
from ae.data.sources import Dataset
from ae.files import atomic_write
from ae.store.checkpoints import check_name, name_taken, reserve_name

if TYPE_CHECKING:
    from ae.run.pipeline import Plan

TOPIC = "latent-lab-jobs"
KEY_PREFIX = "latent-lab-train-"
WARMUP_PREFIX = "latent-lab-warmup-"  # UMAP compile tasks: they hold a worker's train slot while they run
ANALYSIS_WARMUP_PREFIX = "latent-lab-analysis-warm-up-"  # the same on the analysis worker (not a train slot)
WARM_UP_DELAY_S = 90.0  # after a start, the class's first minute gets the CPU; the compile (~7 s) waits till then
QUEUE_KEY = ["latent-lab", "queue"]
QUEUE_LOCK = "latent-lab-queue-lock"
HEARTBEAT_S = 90.0  # a process silent this long has stopped; its queued jobs are dropped (> the lock's 30 s lease)
PREVIEW = 8
FIRST, LAST = ".safetensors", ".json"  # weights first, the JSON last: it makes the model visible


class QueueFull(ValueError):
    """A browser session may have one running and one queued job."""


@dataclass(frozen=True)
class JobSpec:
    """What to train, small and picklable: it travels to the worker."""

    id: str
    owner: str
    name: str
    dataset: str
    plan: Plan  # what passed preflight in the app process; the worker trains it as it is
    submitted: float
    by: str = ""  # a first name for the class board, or nothing


@dataclass
class JobState:
    status: str = "queued"  # queued | starting | training | saving | done | stopped | failed | cancelled
    epoch: int = 0
    epochs: int = 0
    started: float = 0.0
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    preview: np.ndarray | None = None  # reconstructions of the fixed preview images, latest epoch
    frames: list[np.ndarray] = field(default_factory=list)  # the training recording so far: one [n, 2] map an epoch
    frame_index: np.ndarray | None = None  # which test images the frames show
    message: str = ""
    saved_path: str = ""
    metrics: dict = field(default_factory=dict)
    device: str = ""
    position: int = 0  # 1-based place in the global queue while queued
    wait_s: float | None = None  # estimated seconds until it starts (None: nothing measured yet)

    @property
    def finished(self) -> bool:
        return self.status in ("done", "stopped", "failed", "cancelled")

    @property
    def running(self) -> bool:
        return self.status in ("starting", "training", "saving")

    def eta_seconds(self) -> float | None:
        if self.epoch == 0 or not self.started:
            return None
        return (time.time() - self.started) / self.epoch * (self.epochs - self.epoch)


def preview_indices(data: Dataset, n: int = PREVIEW) -> list[int]:
    """One test image per class where there are labels (the test split may be sorted by class), else the first n."""
    if data.y_test is None:
        return list(range(min(n, len(data.x_test))))
    firsts = [int((data.y_test == c).nonzero()[0]) for c in data.y_test.unique().tolist()]
    return sorted(firsts)[:n] or list(range(min(n, len(data.x_test))))


# ---------------------------------------------------------------- worker side


@functools.lru_cache(maxsize=4)
def builtin_dataset(name: str) -> Dataset:
    """A built-in dataset, loaded once per worker process."""
    from ae.data.sources import load_dataset

    return load_dataset(name)


def run_job(spec: JobSpec, data: Dataset | None = None) -> dict[str, Any]:
    """The Dask task: train through the one pipeline into a temporary folder and return the files' bytes."""
    import torch
    from distributed import Event, get_worker

    from ae.explore.learning import MapRecorder
    from ae.run.pipeline import train_and_save
    from ae.train import Callback

    worker = get_worker()
    torch.set_num_threads(settings.torch_threads())
    started = Event(f"{spec.id}-started")
    if started.is_set():  # Dask retried us after our worker died: fail loudly rather than train twice unseen
        raise RuntimeError("the worker training this job stopped (killed or out of memory); nothing was saved")
    started.set()
    data = data if data is not None else builtin_dataset(spec.dataset)
    stop_flag = threading.Event()
    done = threading.Event()

    def watch_stop() -> None:  # a blocking wait on the scheduler, mirrored into a flag read after every batch
        ev = Event(f"{spec.id}-stop")
        while not done.is_set():
            try:
                if ev.wait(timeout=0.5):
                    stop_flag.set()
                    return
            except Exception:  # the worker is shutting down; the task ends with it
                return

    threading.Thread(target=watch_stop, name=f"stop-{spec.id}", daemon=True).start()
    preview_x = data.test_x(preview_indices(data))
    recorder = MapRecorder.for_data(data)  # the Train page shows its frames live

    def emit(**msg: Any) -> None:
        worker.log_event(TOPIC, {"id": spec.id, "t": time.time(), **msg})

    class Progress(Callback):
        def on_epoch_end(self, history: pd.DataFrame) -> None:
            rec = None
            if self.model is not None and data.kind == "image":
                with torch.no_grad():
                    self.model.eval()
                    dev = next(self.model.parameters()).device
                    rec = self.model.reconstruct(preview_x.to(dev)).cpu().numpy()
                    self.model.train()
            frame = recorder.frames[-1].astype(np.float16) if recorder.frames else None  # it runs before us
            emit(kind="epoch", epoch=len(history), history=history.to_dict(orient="records"),
                 preview=None if rec is None else (rec.astype(np.float16).tobytes(), list(rec.shape)),
                 frame=None if frame is None else (frame.tobytes(), list(frame.shape)),
                 frame_index=recorder.index.tobytes() if frame is not None else None)


    progress = Progress()
    from ae.device import describe_device, pick_device

    try:  # every failure from here ends the job "failed" with its reason (the app reads the task's exception)
        train_cfg = spec.plan.train_cfg
        device = f"{describe_device(pick_device(train_cfg.device))} ({socket.gethostname()})"
        emit(kind="start", device=device, worker=worker.address, epochs=train_cfg.epochs)
        with tempfile.TemporaryDirectory(prefix="latent-lab-job-") as tmp:
            r = train_and_save(data, spec.plan, tmp, spec.name, callbacks=[progress], recorder=recorder,
                               should_stop=stop_flag.is_set, log=lambda text: emit(kind="saving", text=text),
                               credit=spec.by)
            files = {str(p.relative_to(tmp)): p.read_bytes() for p in sorted(Path(tmp).rglob("*")) if p.is_file()}
    finally:
        done.set()
        emit(kind="saved")  # also on failure: other app processes stop counting this job as running
    return {"files": files, "metrics": r.metrics, "stopped": r.stopped, "epochs": int(len(r.history)),
            "device": r.meta["train_device"], "history": r.meta["history"]}


# ---------------------------------------------------------------- app side


def written_order(files: dict[str, bytes], name: str) -> list[str]:
    """The job's files in the order they are written: the weights, then the recording and analyses, the JSON last
    (a model is listed once its JSON exists, and everything it needs is there by then)."""
    first, last = f"{name}{FIRST}", f"{name}{LAST}"
    if first not in files or last not in files:
        raise ValueError(f"the worker returned no {first} or no {last}")
    return [first, *sorted(k for k in files if k not in (first, last)), last]


def estimate_wait(ahead: list[float], running_left: list[float], slots: int) -> float:
    """Seconds until a job starts when `ahead` (durations of the queued jobs before it) must start first and the
    running jobs free their workers after `running_left`: each job takes the first free worker."""
    free = sorted(running_left + [0.0] * max(0, slots - len(running_left)))[: max(slots, 1)] or [0.0]
    for d in ahead:
        free.sort()
        free[0] += d
    return min(free)


class Job:
    """One submitted job as this app process sees it."""

    def __init__(self, spec: JobSpec, folder: Path, data: Dataset | None, preview_input: np.ndarray | None,
                 reservation: Path) -> None:
        self.spec, self.folder, self.data, self.preview_input = spec, folder, data, preview_input
        self.reservation = reservation
        self.future = None
        self.lock = threading.Lock()
        self._state = JobState(epochs=spec.plan.train_cfg.epochs)

    @property
    def name(self) -> str:
        return self.spec.name

    def state(self) -> JobState:
        with self.lock:
            return replace(self._state, history=self._state.history.copy(), metrics=dict(self._state.metrics),
                           frames=list(self._state.frames))

    def update(self, **kw: Any) -> None:
        with self.lock:
            for k, v in kw.items():
                setattr(self._state, k, v)

    def transition(self, old: str, new: str) -> bool:
        """Move from `old` to `new` only if still in `old` (Stop and the dispatcher may race for a queued job)."""
        with self.lock:
            if self._state.status != old:
                return False
            self._state.status = new
            return True


class JobQueue:
    """This app process's door to the cluster: submit, watch, stop. Shared by every session of the process."""

    def __init__(self, connect=None, poll_s: float = 0.5, warm_up: bool = True) -> None:
        from ae.run.cluster import connect as default_connect

        self._connect = connect or default_connect
        self.poll_s, self.warm_up = poll_s, warm_up
        self.client = None
        self.error: str | None = None
        self.jobs: dict[str, Job] = {}
        self._lock = threading.RLock()
        self._ready = threading.Event()
        self._queue_view: list[dict] = []
        self._seen: dict[str, dict] = {}  # every job's latest progress, from any app process (for wait estimates)
        self._slots = 0
        self._closed = False
        self._qlock = None  # one distributed Lock for the life of the client (each new one starts a lease timer)
        self._thread = threading.Thread(target=self._loop, name="latent-lab-jobs", daemon=True)
        self._thread.start()

    # -- public
    def wait_ready(self, timeout: float = 60.0) -> bool:
        return self._ready.wait(timeout)

    def jobs_of(self, owner: str) -> list[Job]:
        with self._lock:
            return sorted((j for j in self.jobs.values() if j.spec.owner == owner), key=lambda j: j.spec.submitted)

    def submit(self, owner: str, name: str, data: Dataset, model_cfg: ModelConfig, train_cfg: TrainConfig,
               folder: str | Path, builtin: bool = True, by: str = "") -> Job:
        """Queue a job; raises QueueFull, FileExistsError or ValueError with a message for the page."""
        from ae.run.pipeline import preflight

        if not self.wait_ready(30) or self.client is None:
            raise RuntimeError(self.error or "the training cluster is still starting; try again in a few seconds")
        if self.error:
            raise RuntimeError(self.error)
        plan = preflight(model_cfg, train_cfg, data)
        name = check_name(name)
        with self._lock:
            mine = [j for j in self.jobs_of(owner) if not j.state().finished]
            if any(j.state().status == "queued" for j in mine) or len(mine) >= 2:
                raise QueueFull("you already have a job waiting in the queue; one running and one queued per "
                                "browser session")
            reservation = reserve_name(Path(folder), name)
            spec = JobSpec(id=uuid.uuid4().hex[:12], owner=owner, name=name, dataset=data.name, plan=plan,
                           submitted=time.time(), by=by)
            preview = data.test_x(preview_indices(data)).numpy() if data.kind == "image" else None
            job = Job(spec, Path(folder), None if builtin else data, preview, reservation)
            self.jobs[spec.id] = job
        try:
            self._queue_view = self._global(lambda q, _: q.append(self._entry(job)))
        except Exception as e:
            self._finish(job, "failed", f"the job could not be queued ({e.__class__.__name__}: {e})")
            raise RuntimeError(f"the job could not be queued: {e}") from e
        self._update_positions()
        return job

    def stop(self, job: Job) -> None:
        """Queued: leave the queue. Running: end after the current batch and save the best weights so far."""
        s = job.state()
        if s.status == "queued":
            self._global(lambda q, _: q.__setitem__(slice(None), [e for e in q if e["id"] != job.spec.id]))
            if job.transition("queued", "cancelled"):
                self._finish(job, "cancelled", "taken out of the queue")
                return
        from distributed import Event

        Event(f"{job.spec.id}-stop", client=self.client).set()
        job.update(message="stopping after the current batch")

    def forget(self, job: Job) -> None:
        with self._lock:
            if job.state().finished:
                self.jobs.pop(job.spec.id, None)

    def close(self) -> None:
        """Stop the loop and close the client (and the local cluster it started, if any)."""
        self._closed = True
        self._thread.join(timeout=5)
        if self.client is not None:
            from ae.run.cluster import close

            close(self.client)

    # -- the background loop: connect, then dispatch and refresh the queue view
    def _loop(self) -> None:
        try:
            self.client = self._connect()
            self.client.subscribe_topic(TOPIC, self._on_event)
        except Exception as e:
            self.error = str(e)
            self._ready.set()
            return
        self._ready.set()
        with contextlib.suppress(Exception):  # a cluster without workers yet still queues jobs
            self.client.wait_for_workers(1, timeout=60)
        warm_at = time.time() + WARM_UP_DELAY_S if self.warm_up else None
        while not self._closed:
            if warm_at is not None and time.time() >= warm_at:
                warm_at = None
                self._warm_up_workers()
            try:
                self._dispatch()
            except Exception as e:  # a scheduler that went away: say so, keep trying
                self.error = f"the training cluster stopped answering ({e.__class__.__name__}: {e})"
            else:
                self.error = None
            time.sleep(self.poll_s)

    def _warm_up_workers(self) -> None:
        """Compile UMAP's numba code once in each worker (a few seconds, at the workers' low priority), so the first
        maps of a new model do not wait for it. A training worker's warm-up holds its train slot meanwhile; the
        analysis worker's is queued like any analysis."""
        from distributed import fire_and_forget

        from ae.explore.embed import warm_up_umap

        try:
            for addr, w in self.client.scheduler_info(n_workers=-1)["workers"].items():
                resources = w.get("resources", {})
                kind = "train" if resources.get("train") else "analysis" if resources.get("analysis") else None
                if kind is None:
                    continue
                prefix = WARMUP_PREFIX if kind == "train" else ANALYSIS_WARMUP_PREFIX
                fire_and_forget(self.client.submit(warm_up_umap, key=f"{prefix}{addr}", workers=[addr], pure=False,
                                                   resources={kind: 1}, priority=-10))
        except Exception:
            pass

    def _global(self, change) -> list[dict]:
        """Apply `change(queue)` to the scheduler-wide queue (kept in the scheduler's metadata store) under a Dask
        Lock; returns the new queue. Every call also refreshes this process's heartbeat."""
        from distributed import Lock

        if self._qlock is None:
            self._qlock = Lock(QUEUE_LOCK, scheduler_rpc=self.client.scheduler, loop=self.client.loop)
        with self._qlock:
            state = self.client.get_metadata(QUEUE_KEY, default=None) or {}
            state.setdefault("queue", [])
            state.setdefault("alive", {})
            state.setdefault("starting", {})
            now = time.time()
            state["alive"][self.client.id] = now
            state["alive"] = {c: t for c, t in state["alive"].items() if now - t < HEARTBEAT_S}
            state["queue"] = [e for e in state["queue"] if e["client"] in state["alive"]]
            # handed to Dask but not yet seen running: they hold a worker too (for a minute at most)
            state["starting"] = {k: t for k, t in state["starting"].items() if now - t < 60}
            change(state["queue"], state["starting"])
            ids: set[str] = set()  # a job submitted while the dispatcher re-lists lost jobs must appear once
            state["queue"] = [e for e in state["queue"] if not (e["id"] in ids or ids.add(e["id"]))]
            self.client.set_metadata(QUEUE_KEY, state)
            return list(state["queue"])

    def _entry(self, job: Job) -> dict:
        return {"id": job.spec.id, "owner": job.spec.owner, "client": self.client.id,
                "epochs": job.state().epochs, "t": job.spec.submitted}

    def _dispatch(self) -> None:
        info = self.client.scheduler_info(n_workers=-1)
        slots = sum(int(w.get("resources", {}).get("train", 0)) for w in info["workers"].values())
        keys = [str(k) for ks in self.client.processing().values() for k in ks]  # one round trip, not two
        running = {k.removeprefix(KEY_PREFIX) for k in keys if k.startswith(KEY_PREFIX)}
        warming = sum(1 for k in keys if k.startswith(WARMUP_PREFIX))
        to_start: list[Job] = []

        def take(q: list[dict], starting: dict) -> None:
            listed = {e["id"] for e in q}
            with self._lock:  # our queued jobs the queue lost (a scheduler restart, a long pause): back in order
                lost = [j for j in self.jobs.values() if j.state().status == "queued" and j.spec.id not in listed]
            for job in sorted(lost, key=lambda j: j.spec.submitted):
                q.append(self._entry(job))
            q.sort(key=lambda e: e["t"])
            for k in list(starting):
                if k in running:
                    del starting[k]
            free = slots - len(running | set(starting)) - warming
            busy_owners = {j.spec.owner for j in self.jobs.values() if j.state().running}
            i = 0
            while i < len(q) and free > 0:
                e = q[i]
                if e["client"] != self.client.id:
                    break  # the head belongs to another app process: it starts it on its next pass
                if e.get("owner") in busy_owners:
                    i += 1  # one running job per browser: its next one waits without holding up the others
                    continue
                q.pop(i)
                job = self.jobs.get(e["id"])
                if job is not None and job.transition("queued", "starting"):
                    to_start.append(job)
                    starting[job.spec.id] = time.time()
                    busy_owners.add(job.spec.owner)
                    free -= 1

        self._queue_view = self._global(take)
        self._slots = slots
        for job in to_start:
            try:
                self._start(job)
            except Exception as e:  # never leave a job 'starting' with nothing behind it
                self._finish(job, "failed", f"the job could not be handed to the cluster ({e.__class__.__name__}: "
                                            f"{e})")
        self._update_positions()

    def _start(self, job: Job) -> None:
        job.update(message="starting on a worker", position=0, wait_s=None)
        args = [job.spec]
        if job.data is not None:
            args.append(self.client.scatter(job.data, direct=False))
        job.future = self.client.submit(run_job, *args, key=KEY_PREFIX + job.spec.id, pure=False,
                                        resources={"train": 1}, retries=0)
        job.future.add_done_callback(lambda f, job=job: self._on_done(job, f))

    def _update_positions(self) -> None:
        view = self._queue_view
        running_left = []
        seen = list(self._seen.values())  # filled by the client's thread meanwhile
        per_epoch = [s["per_epoch"] for s in seen if s.get("per_epoch")]
        saving = [s["saving_s"] for s in seen if s.get("saving_s") is not None]
        typical = float(np.median(per_epoch)) if per_epoch else None
        typical_save = float(np.median(saving)) if saving else 5.0
        for s in seen:
            if s.get("running") and s.get("per_epoch"):
                left = s["per_epoch"] * max(0, s["epochs"] - s["epoch"])
                if s.get("saving_since"):
                    left = max(0.0, typical_save - (time.time() - s["saving_since"]))
                running_left.append(left + (typical_save if not s.get("saving_since") else 0.0))
        for i, e in enumerate(view):
            job = self.jobs.get(e["id"])
            if job is None or job.state().status != "queued":
                continue
            wait = None
            if typical is not None:
                wait = estimate_wait([typical * a["epochs"] + typical_save for a in view[:i]], running_left,
                                     self._slots)
            job.update(position=i + 1, wait_s=wait)

    # -- callbacks from the Dask client's thread
    def _on_event(self, event) -> None:
        _, msg = event
        jid = msg.get("id")
        seen = self._seen.setdefault(jid, {"epoch": 0, "epochs": 0, "running": True, "t0": msg.get("t")})
        job = self.jobs.get(jid)
        if msg.get("kind") == "start":
            seen.update(t0=msg["t"], running=True, epochs=msg.get("epochs", 0))
            if job is not None:
                job.update(status="training", started=msg["t"], message="", device=msg.get("device", ""))
        elif msg.get("kind") == "epoch":
            history = pd.DataFrame(msg["history"])
            seen.update(epoch=msg["epoch"], per_epoch=(msg["t"] - seen["t0"]) / max(msg["epoch"], 1))
            if job is not None:
                preview = None
                if msg.get("preview"):
                    raw, shape = msg["preview"]
                    preview = np.frombuffer(raw, dtype=np.float16).reshape(shape).astype(np.float32)
                update: dict[str, Any] = dict(epoch=msg["epoch"], history=history, preview=preview, status="training")
                if msg.get("frame"):
                    raw, shape = msg["frame"]
                    frame = np.frombuffer(raw, dtype=np.float16).reshape(shape).astype(np.float32)
                    frames = [*job.state().frames[: msg["epoch"] - 1], frame]
                    update.update(frames=frames, frame_index=np.frombuffer(msg["frame_index"], dtype=np.int64))
                job.update(**update)
        elif msg.get("kind") == "saving":
            seen["saving_since"] = msg["t"]
        elif msg.get("kind") == "saved":
            seen.update(running=False, saving_s=msg["t"] - seen.get("saving_since", msg["t"]))
        if msg.get("kind") == "saving" and job is not None:
            text = str(msg.get("text", "")).removeprefix(f"{job.name}: ")
            job.update(status="saving", message=text or "measuring the model on the test split")
        if len(self._seen) > 200:  # keep the recent ones
            for k in list(self._seen)[:100]:
                self._seen.pop(k, None)

    def _on_done(self, job: Job, future) -> None:
        self._seen.get(job.spec.id, {}).update(running=False)
        try:
            result = future.result()
        except Exception as e:
            if future.cancelled():
                self._finish(job, "cancelled", "cancelled")
                return
            reason = str(e) or e.__class__.__name__
            if e.__class__.__name__ == "KilledWorker":
                reason = "the worker training it stopped (killed or out of memory); nothing was saved"
            elif e.__class__.__name__ == "TrainingDiverged":
                reason = str(e)
            else:
                reason = f"{e.__class__.__name__}: {reason}"
            self._finish(job, "failed", reason)
            return
        written: list[Path] = []
        try:
            job.folder.mkdir(parents=True, exist_ok=True)
            if name_taken(job.folder, job.name):  # reserved, so only a hand-copied model can be there
                raise FileExistsError(f"a model named {job.name} appeared while training")
            for rel in written_order(result["files"], job.name):
                blob, dest = result["files"][rel], job.folder / rel
                if dest.resolve().parent != job.folder.resolve() and \
                        dest.resolve().parent.parent != job.folder.resolve():
                    raise ValueError(f"the worker returned a file outside the model's folder: {rel}")
                dest.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(dest, lambda tmp, blob=blob: Path(tmp).write_bytes(blob))
                written.append(dest)
        except Exception as e:
            traceback.print_exc()
            for dest in reversed(written):  # JSON last in, first out: never a listed model without its weights
                dest.unlink(missing_ok=True)
            self._finish(job, "failed", f"the model could not be saved ({e.__class__.__name__}: {e})")
            return
        job.update(metrics=result["metrics"], epoch=result["epochs"], device=result["device"],
                   history=pd.DataFrame(result["history"]), saved_path=str(job.folder / f"{job.name}.json"))
        job.future = None  # let the worker forget the result's bytes
        self._finish(job, "stopped" if result["stopped"] else "done", f"saved as {job.name}")

    def _finish(self, job: Job, status: str, message: str) -> None:
        job.reservation.unlink(missing_ok=True)
        job.data = None  # an uploaded dataset is freed with its session, not kept by a finished job
        job.update(status=status, message=message, position=0, wait_s=None, frames=[])  # saved with the maps
        if self.client is not None:
            try:
                from distributed import Event

                for suffix in ("-started", "-stop"):
                    Event(f"{job.spec.id}{suffix}", client=self.client).clear()
            except Exception:
                pass
