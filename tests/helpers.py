"""Helpers the AppTest suites share: open the app on a page with some session state, find a caption."""

from __future__ import annotations

import re
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def app(page: str | None = None, query: dict[str, str] | None = None, **state) -> AppTest:
    """The app after its first run (and a switch to `page`), with no exception on the way and every analysis the
    page waited for computed (`settle`); `query` is the link's parameters (as a shared URL would carry them)."""
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    if page:
        at.switch_page(page).run()
    settle(at)
    assert not at.exception, at.exception
    return at


def waiting(at: AppTest) -> bool:
    """Whether the page shows an analysis being computed (its progress bar) right now."""
    return any("computed once on a worker" in p.proto.text for p in at.get("progress"))


def settle(at: AppTest, timeout: float = 300) -> AppTest:
    """Rerun the page until no analysis is being computed for it (the browser's progress bar reruns the page by
    itself; AppTest does not run timers)."""
    deadline = time.time() + timeout
    while waiting(at) and time.time() < deadline:
        time.sleep(0.3)
        at.run()
    assert not waiting(at), [p.proto.text for p in at.get("progress")]
    return at


def caption_matching(at: AppTest, pattern: str) -> str:
    for c in at.caption:
        if re.search(pattern, c.value):
            return c.value
    raise AssertionError(f"no caption matches {pattern!r}: {[c.value for c in at.caption]}")


def drawn(strokes: list[list[tuple[float, float]]], width: int = 22, side: int = 280):
    """What the Draw page's canvas returns in the browser for these strokes: RGBA, white ink on an opaque black
    background."""
    import numpy as np
    from PIL import Image, ImageDraw

    im = Image.new("RGBA", (side, side), (0, 0, 0, 255))
    pen = ImageDraw.Draw(im)
    for stroke in strokes:
        pen.line(stroke, fill=(255, 255, 255, 255), width=width, joint="curve")
    return np.asarray(im)


def seven():
    """A hand-drawn-looking 7: a top bar and a slanted stem."""
    return drawn([[(80, 60), (205, 60), (195, 80), (150, 150), (120, 225)]])


def scribble(seed: int = 0):
    """Random strokes all over the canvas: nothing like a digit."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return drawn([[tuple(p) for p in rng.uniform(20, 260, size=(6, 2))] for _ in range(4)], width=10)


def canvas_state(rgba) -> dict:
    """The canvas component's session-state value after someone drew `rgba` (what its frontend sends back)."""
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{"type": "path"}], "background": "#000000"}, "data": url},
            "backgroundFit": None}
