"""How long loading every shipped model and its precomputed maps takes (target: well under a second in total).

    .venv/bin/python bench/load_zoo.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ae.store.checkpoints import load_model  # noqa: E402
from ae.store.maps import load_maps  # noqa: E402
from ae.store.zoo import shipped_models  # noqa: E402


def main() -> None:
    paths = shipped_models()
    load_model(paths[0])  # first call pays for lazy imports inside torch; report it separately
    rows, total = [], 0.0
    for p in paths:
        t0 = time.perf_counter()
        load_model(p)
        t1 = time.perf_counter()
        maps = load_maps(p)
        t2 = time.perf_counter()
        assert maps is not None, f"{p.stem}: maps missing or stale"
        rows.append((p.stem, (t1 - t0) * 1e3, (t2 - t1) * 1e3))
        total += t2 - t0
    print(f"{'model':<18}{'weights ms':>12}{'maps ms':>10}")
    for name, w, m in rows:
        print(f"{name:<18}{w:>12.1f}{m:>10.1f}")
    print(f"{'total':<18}{total * 1e3:>22.1f} ms for {len(rows)} models and their maps")


if __name__ == "__main__":
    main()
