"""Per-image reconstruction reports and the choice of which images to show: what the Reconstructions, Compare and
Anomalies pages display, computed here so the pages hold no model maths. The per-image errors of a whole split are
an analysis (`ae.explore.analyses`, kind "recon"), computed once; the few images a page shows are reconstructed when
shown."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

ORDERS = ("random", "best", "worst")


@dataclass
class ReconReport:
    """mse, psnr, ssim: [N] per test sample (psnr/ssim are None for tabular data)."""

    mse: np.ndarray
    psnr: np.ndarray | None
    ssim: np.ndarray | None

    @classmethod
    def of(cls, arrays: dict[str, np.ndarray]) -> ReconReport:
        """From the stored "recon" analysis' arrays."""
        return cls(arrays["mse"], arrays.get("psnr"), arrays.get("ssim"))

    def summary(self, idx: np.ndarray | None = None) -> dict[str, float]:
        sel = slice(None) if idx is None else idx
        out = {"mse": float(self.mse[sel].mean())}
        if self.psnr is not None:
            out["psnr"] = float(self.psnr[sel].mean())
        if self.ssim is not None:
            out["ssim"] = float(self.ssim[sel].mean())
        return out


def choose_images(
    errors: np.ndarray, n: int, order: str = "random", labels: np.ndarray | None = None, cls: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Indices of up to n images: a seeded random draw, or the best / worst by error, optionally of one class."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}")
    pool = np.arange(len(errors))
    if cls is not None:
        if labels is None:
            raise ValueError("this dataset has no labels to filter by")
        pool = pool[np.asarray(labels) == cls]
    if order == "random":
        return np.sort(np.random.default_rng(seed).permutation(pool)[:n])
    ranked = pool[np.argsort(errors[pool], kind="stable")]
    return (ranked[:n] if order == "best" else ranked[::-1][:n]).copy()  # a copy: torch rejects negative strides


def recon_table(data, idx: np.ndarray, x_hat: np.ndarray, max_features: int = 8):
    """Tabular data: a DataFrame with each chosen row's first features, their reconstructions x_hat [len(idx), D]
    and the row's MSE."""
    import pandas as pd

    names = (data.feature_names or [f"x{k}" for k in range(data.x_test.shape[1])])[:max_features]
    out = pd.DataFrame({"index": idx})
    if data.y_test is not None:
        out["label"] = [data.class_names[data.y_test[i]] for i in idx]
    rows = data.test_x(torch.as_tensor(idx)).numpy()
    for k, n in enumerate(names):
        out[n] = rows[:, k]
        out[f"{n} →"] = x_hat[:, k]
    out["MSE"] = ((data.test_x(torch.as_tensor(idx)).numpy() - x_hat) ** 2).mean(1)
    return out
