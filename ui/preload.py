"""The libraries every page imports, imported once in the background when the server starts (`ui.serve`), and a way
for the first script run to wait for that instead of importing the same modules from a second thread: two threads
importing scikit-learn at once fail now and then with "partially initialized module 'sklearn.base'"."""

from __future__ import annotations

import importlib
import sys
import threading
import time

MODULES = ("torch", "numpy", "pandas", "pyarrow", "PIL.Image", "scipy.ndimage",
           "sklearn.decomposition", "sklearn.neighbors", "plotly.graph_objects", "safetensors.torch", "distributed",
           "ae.explore.analyses", "ae.explore.metrics", "ae.run.analyse", "ae.run.jobs", "ae.store.catalog",
           "ae.models")  # never streamlit-decorated modules: their caches belong to the runtime

_started = threading.Event()
_done = threading.Event()
seconds: float | None = None


def start() -> threading.Thread:
    """Import MODULES in a background thread (once)."""
    _started.set()
    thread = threading.Thread(target=_run, name="preload", daemon=True)
    thread.start()
    return thread


def _run() -> None:
    global seconds
    t0 = time.perf_counter()
    try:
        for name in MODULES:
            importlib.import_module(name)
    finally:
        seconds = time.perf_counter() - t0
        _done.set()
        print(f"Latent Lab: libraries imported in {seconds:.1f} s", file=sys.stderr, flush=True)


def pending() -> bool:
    """Whether a preload was started and has not finished (a plain `streamlit run` starts none)."""
    return _started.is_set() and not _done.is_set()


def wait(timeout: float = 120.0) -> None:
    if _started.is_set():
        _done.wait(timeout)
