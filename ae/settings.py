"""Every LATENT_LAB_* environment variable, named and read here and nowhere else.

A process started by another (an app by `make classroom`, a Dask worker by the app, a server by a test or a bench)
hears its settings through these; each name is spelled once, below, and read through one function, so what a
setting means cannot drift between the module that sets it and the one that reads it. Importing this module
loads nothing heavy (the classroom launcher imports it without torch).
"""

from __future__ import annotations

import os
from pathlib import Path

DATA = "LATENT_LAB_DATA"  # folder of the built-in datasets' files (default: the user's cache)
OFFLINE = "LATENT_LAB_OFFLINE"  # set: never download a dataset; say how to place its files instead
MODELS = "LATENT_LAB_MODELS"  # the users' models folder (default: models/ beside the app)
SCHEDULER = "LATENT_LAB_SCHEDULER"  # a Dask scheduler to join (default: start local workers)
TORCH_THREADS = "LATENT_LAB_TORCH_THREADS"  # torch threads in a worker (set by whoever starts the worker)
NO_WARMUP = "LATENT_LAB_NO_WARMUP"  # set: workers skip the UMAP compile warm-up (tests and benches)
ANALYSIS_INLINE = "LATENT_LAB_ANALYSIS_INLINE"  # set: analyses run in a thread of the app, not on Dask (AppTest)
RUN_LOG = "LATENT_LAB_RUN_LOG"  # a file: each page run appends its server time (benches)
TEACHER_PASSCODE = "LATENT_LAB_TEACHER_PASSCODE"  # set: a tab that types it gets the teacher controls (ui/teacher.py)


def _text(name: str) -> str | None:
    return os.environ.get(name) or None


def data_dir() -> Path | None:
    value = _text(DATA)
    return Path(value).expanduser() if value else None


def offline() -> bool:
    return _text(OFFLINE) is not None


def models_dir() -> Path | None:
    value = _text(MODELS)
    return Path(value) if value else None


def scheduler() -> str | None:
    return _text(SCHEDULER)


def teacher_passcode() -> str | None:
    return _text(TEACHER_PASSCODE)


def torch_threads() -> int:
    return int(_text(TORCH_THREADS) or 1)


def warm_up() -> bool:
    return _text(NO_WARMUP) is None


def analysis_inline() -> bool:
    return _text(ANALYSIS_INLINE) is not None


def run_log() -> str | None:
    return _text(RUN_LOG)
