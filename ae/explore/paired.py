"""Two models on the same test images, the honest way (issue 21): the difference in each per-image metric with a
paired bootstrap 95% interval (images resampled, the two models' errors on an image kept together), over the whole
split and per class, and the images on which one model beats the other by the most.

Why paired: both models saw the same images, so an image that is hard for one is hard for the other; resampling the
per-image differences keeps that, and gives far narrower (and correct) intervals than comparing two separate means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ae.explore.analysis import ReconReport

BOOTSTRAP = 2000  # resamples: the interval's ends move by well under its width between seeds
LEVEL = 0.95
CHUNK = 250  # resamples drawn at once (memory: CHUNK x images indices)
LOWER_IS_BETTER = {"mse": True, "psnr": False, "ssim": False}


@dataclass(frozen=True)
class Interval:
    """mean(a - b) over the images and its bootstrap interval [lo, hi]."""

    diff: float
    lo: float
    hi: float

    @property
    def excludes_zero(self) -> bool:
        return self.lo > 0 or self.hi < 0


def paired_interval(a: np.ndarray, b: np.ndarray, n_boot: int = BOOTSTRAP, level: float = LEVEL,
                    seed: int = 0) -> Interval:
    """The mean of a - b (one value per image, same images) with a percentile bootstrap interval, seeded."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if d.ndim != 1 or len(d) == 0:
        raise ValueError("paired values: two equal-length, non-empty 1-D arrays")
    d = d[np.isfinite(d)]
    if len(d) == 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = []
    for start in range(0, n_boot, CHUNK):
        idx = rng.integers(0, len(d), size=(min(CHUNK, n_boot - start), len(d)))
        means.append(d[idx].mean(axis=1))
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(np.concatenate(means), [tail, 100 - tail])
    return Interval(float(d.mean()), float(lo), float(hi))


def paired_table(a: ReconReport, b: ReconReport, labels: np.ndarray | None = None,
                 class_names: list[str] | None = None, n_boot: int = BOOTSTRAP, seed: int = 0) -> pd.DataFrame:
    """One row per metric and group ("all", then each class): both means, A - B with its interval, and which model
    is better where the interval excludes 0 ("no clear difference" otherwise)."""
    groups = [("all", np.arange(len(a.mse)))]
    if labels is not None:
        labels = np.asarray(labels)
        for c in np.unique(labels):
            name = class_names[c] if class_names and c < len(class_names) else str(c)
            groups.append((name, np.flatnonzero(labels == c)))
    rows = []
    for metric in ("mse", "psnr", "ssim"):
        va, vb = getattr(a, metric), getattr(b, metric)
        if va is None or vb is None:
            continue
        for group, idx in groups:
            iv = paired_interval(va[idx], vb[idx], n_boot, seed=seed)
            a_better = (iv.hi < 0) if LOWER_IS_BETTER[metric] else (iv.lo > 0)
            rows.append({"metric": metric, "images": group, "n": len(idx), "A": float(np.mean(va[idx])),
                         "B": float(np.mean(vb[idx])), "A - B": iv.diff, "95% low": iv.lo, "95% high": iv.hi,
                         "better": ("A" if a_better else "B") if iv.excludes_zero else "no clear difference"})
    return pd.DataFrame(rows)


def differ_most(a: np.ndarray, b: np.ndarray, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(the k images where A's error is lowest against B's, the k where B's is): indices, largest gap first."""
    gap = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)  # > 0: A does better
    gap = np.where(np.isfinite(gap), gap, 0.0)
    order = np.argsort(-gap, kind="stable")
    return order[:k].copy(), order[::-1][:k].copy()
