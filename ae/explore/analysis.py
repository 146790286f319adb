"""Per-image reconstruction reports and the choice of which images to show: what the Reconstructions and Latent
space pages display, computed here so the pages hold no model maths."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ae.explore.metrics import mse_per_sample, psnr_per_sample, reconstruct, ssim_per_sample
from ae.models.base import Autoencoder

ORDERS = ("random", "best", "worst")


@dataclass
class ReconReport:
    """x_hat: [N, *input_shape] float32; mse, psnr, ssim: [N] (psnr/ssim are None for tabular data)."""

    x_hat: np.ndarray
    mse: np.ndarray
    psnr: np.ndarray | None
    ssim: np.ndarray | None

    def summary(self, idx: np.ndarray | None = None) -> dict[str, float]:
        sel = slice(None) if idx is None else idx
        out = {"mse": float(self.mse[sel].mean())}
        if self.psnr is not None:
            out["psnr"] = float(self.psnr[sel].mean())
        if self.ssim is not None:
            out["ssim"] = float(self.ssim[sel].mean())
        return out


def reconstruction_report(model: Autoencoder, x: torch.Tensor) -> ReconReport:
    x = x.float()
    x_hat = reconstruct(model, x)
    image = x.ndim == 4
    return ReconReport(
        x_hat=x_hat.numpy(),
        mse=mse_per_sample(x, x_hat).numpy(),
        psnr=psnr_per_sample(x, x_hat).numpy() if image else None,
        ssim=ssim_per_sample(x, x_hat).numpy() if image and min(x.shape[-2:]) >= 3 else None,
    )


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


def recon_table(data, report: ReconReport, idx: np.ndarray, max_features: int = 8):
    """Tabular data: a DataFrame with each chosen row's first features, their reconstructions and the row MSE."""
    import pandas as pd

    names = (data.feature_names or [f"x{k}" for k in range(data.x_test.shape[1])])[:max_features]
    out = pd.DataFrame({"index": idx})
    if data.y_test is not None:
        out["label"] = [data.class_names[data.y_test[i]] for i in idx]
    for k, n in enumerate(names):
        out[n] = data.x_test[idx, k].numpy()
        out[f"{n} →"] = report.x_hat[idx, k]
    out["MSE"] = report.mse[idx]
    return out
