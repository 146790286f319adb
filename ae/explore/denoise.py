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
class NoiseScores:
    """Means over the images of PSNR (dB) and SSIM, of the noisy inputs and of the model's outputs."""

    psnr_noisy: float
    psnr_denoised: float
    ssim_noisy: float
    ssim_denoised: float


@dataclass
class DenoiseResult(NoiseScores):
    """The scores with the pictures they were measured on."""

    noisy: np.ndarray  # [N, C, H, W]
    denoised: np.ndarray


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


MAX_LEVEL = {"gaussian": 0.8, "salt_pepper": 1.0, "mask": 1.0}  # Gaussian sigma, or the fraction of pixels hit
LEVEL_STEP = 0.05


def level_grid(kind: str) -> list[float]:
    """The noise levels measured (and offered on the Denoise page): 0 to MAX_LEVEL[kind] in steps of 0.05."""
    return [round(v, 2) for v in np.arange(0.0, MAX_LEVEL[kind] + LEVEL_STEP / 2, LEVEL_STEP)]


def nearest_level(kind: str, level: float) -> float:
    """The measured level closest to `level` (a slider's float, a link's value)."""
    grid = level_grid(kind)
    return grid[int(np.argmin([abs(g - level) for g in grid]))]


def measure(model: Autoencoder, clean: torch.Tensor, kind: str, level: float, seed: int = 0) -> NoiseScores:
    """`denoise`'s numbers without its images: what the stored analysis keeps per noise type and level."""
    r = denoise(model, clean, kind, level, seed)
    return NoiseScores(r.psnr_noisy, r.psnr_denoised, r.ssim_noisy, r.ssim_denoised)


def examples(model: Autoencoder, clean: torch.Tensor, kind: str, level: float, shown: int,
             seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(noisy, denoised) pictures of the first `shown` of `clean`, with the same seeded noise `measure` gives the
    whole of `clean` (the noise is drawn for all of it, then cut), so the pictures are the ones the scores were
    measured on."""
    noisy = corrupt(clean, kind, level, generator=torch.Generator().manual_seed(seed))[:shown]
    return noisy.numpy(), reconstruct(model, noisy).numpy()
