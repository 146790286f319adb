"""One-class AUROC per digit on mnist-5k (a small conv AE trained on one digit's ~400 train images, scored by
reconstruction MSE on the 1,000 test images), beside the published Deep SVDD row on full MNIST.

    .venv/bin/python bench/anomaly_auroc.py [--epochs 30]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ae.data.sources import load_dataset  # noqa: E402
from ae.explore.anomaly import DEEP_SVDD_MNIST, evaluate_one_class, train_one_class  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=30)
    a = p.parse_args()
    data = load_dataset("mnist-5k")
    print(f"{'digit':>5}{'AUROC %':>10}{'Deep SVDD %':>13}{'train s':>9}")
    ours = []
    for d in range(10):
        t0 = time.perf_counter()
        model = train_one_class(data, d, epochs=a.epochs)
        secs = time.perf_counter() - t0
        r = evaluate_one_class(model, data, d)
        ours.append(100 * r.auroc)
        print(f"{d:>5}{ours[-1]:>10.1f}{DEEP_SVDD_MNIST[d]:>13.1f}{secs:>9.1f}")
    print(f"{'mean':>5}{sum(ours) / 10:>10.1f}{sum(DEEP_SVDD_MNIST) / 10:>13.1f}")
    print("ours: mnist-5k (about 400 train images per digit, 1,000 test images); "
          "Deep SVDD: full MNIST (Ruff et al. 2018)")


if __name__ == "__main__":
    main()
