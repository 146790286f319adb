"""Where heavy work runs: a Dask distributed cluster, never the web process.

By default each app process starts a local cluster: a scheduler, training workers (one per GPU, else one per two CPU
cores), each running one training at a time (resource `train`), and one analysis worker (resource `analysis`) that
computes what pages read (`ae.run.analyse`), so a page never waits behind a queue of trainings. Workers run at a
lower CPU priority (nice 10) than the web processes, so students' pages stay quick while models train. With
LATENT_LAB_SCHEDULER=tcp://host:8786 the app joins an existing cluster instead: a lab of GPU machines running
`dask worker tcp://host:8786 --nthreads 1 --resources train=1`, and one `--resources analysis=1`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from distributed import Client

from ae import settings
from ae.run import processes

RESOURCE = "train"  # each worker offers one; each job asks for one, so a worker trains one model at a time
ANALYSIS = "analysis"  # offered by the analysis worker alone
WORKER_NICE = 10
# Dask's housekeeping for a few processes on the app's own machine, with no dashboard to feed: with Dask's defaults
# an idle scheduler and two workers (nannies included) took 14% of a core (each worker's 10 ms profiler, a 20 ms
# event-loop tick, a 100 ms memory poll, work stealing every 100 ms); with these, 1.6%, left to the web pages.
DASK_ENV = {
    "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0",  # a worker killed mid-run fails that job, not reruns it
    "DASK_DISTRIBUTED__SCHEDULER__WORK_STEALING": "False",  # each task is pinned to its workers by its resource
    "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False",  # profiles are only ever read on the dashboard
    "DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL": "1s",  # it only measures how late the event loop runs
    "DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL": "2s",
    "DASK_DISTRIBUTED__WORKER__MEMORY__MONITOR_INTERVAL": "500ms",  # the nanny's check of the memory limit
}


def niced() -> list[str]:
    """The prefix that runs a cluster process at a lower CPU priority than the web processes (none where `nice` is
    missing): its start-up imports and its work then never slow a student's page."""
    import shutil

    return ["nice", "-n", str(WORKER_NICE)] if shutil.which("nice") else []


def scheduler_command(where: list[str]) -> tuple[list[str], dict[str, str]]:
    """(argv, extra environment) of a Dask scheduler on loopback; `where`: ["--port", N] or ["--port", "0",
    "--scheduler-file", path]."""
    return [*niced(), sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--no-dashboard",
            *where], dict(DASK_ENV)


def worker_command(scheduler: list[str], name: str, resource: str, threads: int,
                   gpu: str | None = None) -> tuple[list[str], dict[str, str]]:
    """(argv, extra environment) of a Dask worker process that runs one task at a time, offers one `resource`
    (train or analysis), uses `threads` torch threads and runs niced. `scheduler`: the address, or
    ["--scheduler-file", path]. Tasks import `ae`, hence the repository root on PYTHONPATH."""
    root = str(Path(__file__).resolve().parents[2])
    argv = [*niced(), sys.executable, "-m", "distributed.cli.dask_worker", *scheduler, "--name", name, "--nthreads",
            "1", "--nworkers", "1", "--resources", f"{resource}=1", "--host", "127.0.0.1", "--no-dashboard",
            "--death-timeout", "60"]
    env = {**DASK_ENV, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p),
           settings.TORCH_THREADS: str(threads), "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu
    return argv, env


def analysis_threads(cores: int | None = None) -> int:
    """Torch threads of the analysis worker: a quarter of the cores (this machine's by default), at least one."""
    return max(1, (cores or cpu_count()) // 4)


class ClusterUnavailable(RuntimeError):
    """Training cannot be submitted anywhere; the message says why and what to check."""


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def local_plan() -> tuple[int, int]:
    """(worker processes, torch threads per worker) for this machine. On a CPU half the cores train and the rest
    stay with the web server, so students' pages stay quick while models train."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.device_count(), 1
    workers = max(1, cpu_count() // 2)
    return workers, max(1, cpu_count() // (2 * workers))


class LocalProcesses:
    """A Dask scheduler and workers on this machine, each a `python -m distributed.cli.*` process.

    Why not LocalCluster: it starts workers with multiprocessing's spawn, which re-imports the parent's __main__;
    inside `streamlit run`, __main__ is the app script itself, so each worker would run app.py. Dask's own command
    line tools have a __main__ of their own."""

    def __init__(self, workers: int, threads: int, timeout: float = 60.0) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="latent-lab-dask-"))
        scheduler_file = self.folder / "scheduler.json"
        root = str(Path(__file__).resolve().parents[2])
        common = ["--scheduler-file", str(scheduler_file)]
        argv, env = scheduler_command(["--port", "0", *common])
        self.procs = [self._start(argv, {**os.environ, **env}, root, "scheduler")]
        deadline = time.time() + timeout
        while not scheduler_file.exists():
            if time.time() > deadline or self.procs[0].poll() is not None:
                self.close()
                raise ClusterUnavailable(f"the local Dask scheduler did not start (log: {self.folder})")
            time.sleep(0.1)
        plan = [(f"train{i}", RESOURCE, threads) for i in range(workers)] + [("analysis0", ANALYSIS,
                                                                             analysis_threads())]
        for name, resource, n in plan:
            argv, extra = worker_command(common, name, resource, n)
            self.procs.append(self._start(argv, {**os.environ, **extra}, root, name))
        self.scheduler_file = str(scheduler_file)

    def _start(self, argv: list[str], env: dict, cwd: str, name: str) -> subprocess.Popen:
        return processes.start(argv, self.folder / f"{name}.log", env, Path(cwd))

    def close(self) -> None:
        processes.stop({str(i): p for i, p in enumerate(reversed(self.procs))})


def connect(address: str | None = None, timeout: float = 5.0) -> Client:
    """A client of the cluster named by `address` or $LATENT_LAB_SCHEDULER, else of new local processes (closed
    with the client: see `close`)."""
    address = address or settings.scheduler()
    if address:
        try:
            return Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise ClusterUnavailable(
                f"the training cluster at {address} cannot be reached ({e.__class__.__name__}: {e}). "
                f"Check that `dask scheduler` runs there, or unset {settings.SCHEDULER} to train on this machine."
            ) from e
    local = LocalProcesses(*local_plan())
    try:
        client = Client(scheduler_file=local.scheduler_file, timeout=30, set_as_default=False)
    except (OSError, TimeoutError) as e:
        local.close()
        raise ClusterUnavailable(f"the local Dask cluster did not answer ({e}); logs in {local.folder}") from e
    client.latent_lab_local = local
    return client


def close(client: Client) -> None:
    """Close a client from `connect`, and the local processes it started."""
    local = getattr(client, "latent_lab_local", None)
    client.close()
    if local is not None:
        local.close()
