"""`make run`: Streamlit's own command line (`streamlit run app.py`), in a process that imports the heavy libraries
while the server starts, so that the first visitor after a start does not wait for them.

    python -m ui.serve [streamlit options]      # e.g. --server.port 8080

A fresh `streamlit run` imports nothing of the app until the first browser connects; that first run then spends ~5 s
on imports (torch alone 2.4 s on a 2-core machine) with the page blank, and every student who opens the link in
those seconds waits behind it. Here `ui.preload` imports them in a background thread as soon as the process starts,
in parallel with the server's own start-up; a visitor who comes earlier waits (with a spinner) only for what is left.
Everything else is `python -m streamlit run app.py`, unchanged: the public command line, run as `python -m streamlit`
runs it.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from ui import preload

APP = Path(__file__).resolve().parents[1] / "app.py"


def main(argv: list[str]) -> None:
    preload.start()
    sys.argv = ["streamlit", "run", str(APP), *argv]
    runpy.run_module("streamlit", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
