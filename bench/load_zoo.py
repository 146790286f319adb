"""How long loading every shipped model and all its stored analyses takes (target: well under a second in total):
what a fresh server reads instead of computing.

    .venv/bin/python bench/load_zoo.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ae.data.sources import load_dataset  # noqa: E402
from ae.explore.analyses import model_kinds  # noqa: E402
from ae.run.analyse import find  # noqa: E402
from ae.store.checkpoints import load_model  # noqa: E402
from ae.store.zoo import DATASET, shipped_models  # noqa: E402


def main() -> None:
    paths = shipped_models()
    data = load_dataset(DATASET)
    load_model(paths[0])  # first call pays for lazy imports inside torch; report it separately
    rows, total = [], 0.0
    for p in paths:
        t0 = time.perf_counter()
        load_model(p)
        t1 = time.perf_counter()
        for key in model_kinds(data):
            assert find(key, p, data) is not None, f"{p.stem}: {key} missing or stale"
        t2 = time.perf_counter()
        rows.append((p.stem, (t1 - t0) * 1e3, (t2 - t1) * 1e3))
        total += t2 - t0
    print(f"{'model':<18}{'weights ms':>12}{'analyses ms':>13}")
    for name, w, m in rows:
        print(f"{name:<18}{w:>12.1f}{m:>13.1f}")
    print(f"{'total':<18}{total * 1e3:>25.1f} ms for {len(rows)} models and their {len(model_kinds(data))} analyses "
          "each")


if __name__ == "__main__":
    main()
