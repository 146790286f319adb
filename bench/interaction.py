"""Server time of a rerun after each main widget change, per page (AppTest; the default model, a VAE on Generate
and the denoising AE on Denoise), and the app's cold start to its first rendered page. Target: a slider move
re-renders in under 200 ms on a laptop CPU.

    .venv/bin/python bench/interaction.py [--repeats 15]

AppTest reruns the whole script even where the page uses a fragment (the Latent space probe sliders), so those
numbers are an upper bound on what the browser waits for.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LATENT_LAB_NO_WARMUP", "1")

from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(ROOT / "app.py")

# (page, widget kind, key, values to alternate between)
CHANGES = [
    ("pages/reconstructions.py", "slider", "rec_n", [8, 16]),
    ("pages/reconstructions.py", "segmented_control", "rec_order", ["worst", "best"]),
    ("pages/reconstructions.py", "selectbox", "rec_class", ["3", "all"]),
    ("pages/reconstructions.py", "number_input", "rec_seed", [1, 2]),
    ("pages/latent_space.py", "slider", "map_probe_x", None),
    ("pages/latent_space.py", "slider", "map_grid_steps", [8, 12]),
    ("pages/latent_space.py", "segmented_control", "map_method", ["UMAP", "PCA"]),
    ("pages/latent_space.py", "toggle", "map_thumbs", [False, True]),
    ("pages/generate.py", "slider", "gen_t", [0.25, 0.75]),
    ("pages/generate.py", "slider", "gen_temp", [0.5, 1.0]),
    ("pages/generate.py", "slider", "gen_dim_0_0", None),
    ("pages/denoise.py", "slider", "dn_level", [0.2, 0.4]),
    ("pages/denoise.py", "segmented_control", "dn_noise", ["mask", "gaussian"]),
    ("pages/anomalies.py", "slider", "an_pct", [95.0, 99.0]),
    ("pages/compare.py", "slider", "cmp_n", [6, 10]),
]
MODEL_FOR = {"pages/generate.py": "pretrained/conv-vae-16", "pages/denoise.py": "pretrained/conv-dae-16"}


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def time_change(page: str, kind: str, key: str, values: list | None, repeats: int) -> list[float]:
    at = AppTest.from_file(APP, default_timeout=300)
    if page in MODEL_FOR:
        at.session_state["model"] = MODEL_FOR[page]
    at.run()
    at.switch_page(page).run()
    widget = getattr(at, kind)(key=key)
    if values is None:  # a slider over a float range: walk between two points of it
        values = [widget.min + 0.3 * (widget.max - widget.min), widget.min + 0.7 * (widget.max - widget.min)]
    first = []
    for v in values:  # the first visit of each value fills the caches; report it separately
        getattr(at, kind)(key=key).set_value(v)
        t0 = time.perf_counter()
        at.run()
        first.append((time.perf_counter() - t0) * 1000)
    times = []
    for r in range(repeats):
        getattr(at, kind)(key=key).set_value(values[r % len(values)])
        t0 = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - t0) * 1000)
        assert not at.exception, at.exception
    return times, max(first)


def cold_start() -> float:
    """A fresh Python process: import, load data and models, render the home page (AppTest)."""
    code = (
        "import time; t=time.perf_counter(); from streamlit.testing.v1 import AppTest; "
        f"at=AppTest.from_file({APP!r}, default_timeout=300).run(); assert not at.exception; "
        "print((time.perf_counter()-t)*1000)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=15)
    a = p.parse_args()
    print(f"{'page':<18}{'widget':<16}{'median ms':>10}{'p95 ms':>9}{'first visit ms':>16}")
    for page, kind, key, values in CHANGES:
        t, first = time_change(page, kind, key, values, a.repeats)
        name = Path(page).stem
        print(f"{name:<18}{key:<16}{statistics.median(t):>10.0f}{percentile(t, 0.95):>9.0f}{first:>16.0f}")
    print("median and p95: moves between values already seen; first visit: the slowest first move to a new value")
    print(f"cold start to the first rendered page (fresh process, AppTest): {cold_start():.0f} ms")


if __name__ == "__main__":
    main()
