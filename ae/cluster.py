"""Where training runs: a Dask distributed cluster, never the web process.

By default each app process starts a local cluster of worker processes (one per GPU, else one per two CPU cores),
each running one training at a time. With LATENT_LAB_SCHEDULER=tcp://host:8786 the app joins an existing cluster
instead: a lab of GPU machines running `dask worker tcp://host:8786 --nthreads 1 --resources train=1`.
"""

from __future__ import annotations

import logging
import os

import dask
from distributed import Client, LocalCluster

SCHEDULER_ENV = "LATENT_LAB_SCHEDULER"
THREADS_ENV = "LATENT_LAB_TORCH_THREADS"
RESOURCE = "train"  # each worker offers one; each job asks for one, so a worker trains one model at a time


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


def connect(address: str | None = None, timeout: float = 5.0) -> Client:
    """A client of the cluster named by `address` or $LATENT_LAB_SCHEDULER, else of a new local cluster."""
    address = address or os.environ.get(SCHEDULER_ENV) or None
    if address:
        try:
            return Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise ClusterUnavailable(
                f"the training cluster at {address} cannot be reached ({e.__class__.__name__}: {e}). "
                f"Check that `dask scheduler` runs there, or unset {SCHEDULER_ENV} to train on this machine."
            ) from e
    workers, threads = local_plan()
    # A worker killed mid-run fails its job (the page says so) instead of silently training it again elsewhere.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, resources={RESOURCE: 1},
            dashboard_address=":0", silence_logs=logging.ERROR,
            env={THREADS_ENV: str(threads), "OMP_NUM_THREADS": str(threads)},
        )
    return Client(cluster, set_as_default=False)
