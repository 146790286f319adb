"""Server time per script run, for benches: with LATENT_LAB_RUN_LOG=FILE set, each run of a page appends
"page<TAB>seconds<TAB>unix time at its end" to FILE. The time covers the page's script (model work and building every
element's message), not transport or the browser; unset, it costs nothing."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from ae import settings


@contextlib.contextmanager
def timed_run(page: str) -> Iterator[None]:
    target = settings.run_log()
    t0 = time.perf_counter()
    try:
        yield
    finally:  # st.stop() and st.rerun() end a run by raising: still a run
        if target:
            with open(target, "a") as f:
                f.write(f"{page}\t{time.perf_counter() - t0:.4f}\t{time.time():.3f}\n")
