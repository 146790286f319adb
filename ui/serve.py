"""`make run`: Streamlit's own command line (`streamlit run app.py`), in a process that imports the heavy libraries
while the server starts, so that the first visitor after a start does not wait for them.

    python -m ui.serve [streamlit options]      # e.g. --server.port 8080

A fresh `streamlit run` imports nothing of the app until the first browser connects; that first run then spends ~5 s
on imports (torch alone 2.4 s on a 2-core machine) with the page blank, and every student who opens the link in
those seconds waits behind it. Here a background thread imports them as soon as the process starts, in parallel with
the server's own start-up; a visitor who comes earlier waits only for what is left. Everything else is
`python -m streamlit run app.py`, unchanged (the public command line, run as `python -m streamlit` does).
"""

from __future__ import annotations

import runpy
import sys
import threading
import time
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app.py"
PRELOAD = ("torch", "torchvision.utils", "numpy", "pandas", "pyarrow", "PIL.Image", "scipy.ndimage",
           "sklearn.decomposition", "sklearn.neighbors", "plotly.graph_objects", "safetensors.torch", "distributed",
           "ae.explore.analyses", "ae.explore.metrics", "ae.run.analyse", "ae.run.jobs", "ae.store.catalog",
           "ae.models")


def preload(log: bool = False) -> float:
    """Import what every page needs (never streamlit-decorated modules: their caches belong to the runtime)."""
    import importlib

    t0 = time.perf_counter()
    for name in PRELOAD:
        importlib.import_module(name)
    if log:
        print(f"Latent Lab: libraries imported in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return time.perf_counter() - t0


def main(argv: list[str]) -> None:
    threading.Thread(target=preload, args=(True,), name="preload", daemon=True).start()
    sys.argv = ["streamlit", "run", str(APP), *argv]
    runpy.run_module("streamlit", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
