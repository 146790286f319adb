"""Denoising measurements: corrupt clean images at a chosen level, rebuild them, and score both against the clean
originals. Noise is seeded so the same level always shows the same noisy images."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ae.data.noise import corrupt
from ae.explore.metrics import psnr_per_sample, reconstruct, ssim_per_sample
from ae.models.base import Autoencoder


@dataclass
class DenoiseResult:
    noisy: np.ndarray  # [N, C, H, W]
    denoised: np.ndarray
    psnr_noisy: float
    psnr_denoised: float
    ssim_noisy: float
    ssim_denoised: float


def denoise(model: Autoencoder, clean: torch.Tensor, kind: str, level: float, seed: int = 0) -> DenoiseResult:
    noisy = corrupt(clean, kind, level, generator=torch.Generator().manual_seed(seed))
    out = reconstruct(model, noisy)
    return DenoiseResult(
        noisy=noisy.numpy(),
        denoised=out.numpy(),
        psnr_noisy=float(psnr_per_sample(clean, noisy).mean()),
        psnr_denoised=float(psnr_per_sample(clean, out).mean()),
        ssim_noisy=float(ssim_per_sample(clean, noisy).mean()),
        ssim_denoised=float(ssim_per_sample(clean, out).mean()),
    )


def level_grid(kind: str) -> list[float]:
    """The noise levels a PSNR curve is measured at: 0 to 0.6 (Gaussian sigma) or 0 to 0.5 (fraction hit)."""
    return [round(v, 2) for v in np.arange(0.0, 0.61 if kind == "gaussian" else 0.51, 0.05)]


def psnr_curve(model: Autoencoder, clean: torch.Tensor, kind: str, levels: list[float] | None = None,
               seed: int = 0) -> dict:
    """PSNR of the noisy input and of the model's output at each level (default: `level_grid(kind)`):
    {'level', 'noisy', 'denoised'} lists."""
    levels = level_grid(kind) if levels is None else levels
    noisy_db, out_db = [], []
    for level in levels:
        noisy = corrupt(clean, kind, level, generator=torch.Generator().manual_seed(seed))
        noisy_db.append(float(psnr_per_sample(clean, noisy).mean()))
        out_db.append(float(psnr_per_sample(clean, reconstruct(model, noisy)).mean()))
    return {"level": list(levels), "noisy": noisy_db, "denoised": out_db}
