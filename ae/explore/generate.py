"""Generation from the latent space: prior samples, interpolation paths and traversals.

Spherical interpolation follows White, "Sampling Generative Networks" (2016): under a Gaussian prior, straight
lines pass through low-density regions near the origin, while great-circle paths keep a typical norm.
"""

from __future__ import annotations

import numpy as np
import torch

from ae.explore.metrics import batched, mse_per_sample
from ae.models.base import Autoencoder

MODES = ("linear", "spherical")


def decode_codes(model: Autoencoder, z: np.ndarray) -> np.ndarray:
    """z: [N, latent] -> images [N, *input_shape] as float32 numpy."""
    return batched(model, model.decode, torch.as_tensor(np.asarray(z, dtype=np.float32))).numpy()


def sample_prior(model: Autoencoder, n: int, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
    """n seeded draws from N(0, temperature^2 I), decoded. Only a model trained towards that prior (a VAE, a WAE)
    can be sampled."""
    if not model.samples_prior:
        raise ValueError(
            f"a {model.name} autoencoder has no prior: its codes fill an irregular region, so random codes mostly "
            "decode to noise. Sampling needs a model trained towards a prior (a VAE or a WAE)."
        )
    if not 0 <= temperature <= 10:
        raise ValueError(f"temperature must be between 0 and 10, got {temperature}")
    z = torch.randn(n, model.cfg.latent_dim, generator=torch.Generator().manual_seed(seed)) * temperature
    return decode_codes(model, z.numpy())


def interpolate(za: np.ndarray, zb: np.ndarray, ts: np.ndarray | list[float], mode: str = "linear") -> np.ndarray:
    """Codes along the path from za (t=0) to zb (t=1): [len(ts), latent]."""
    if mode not in MODES:
        raise ValueError(f"interpolation must be one of {', '.join(MODES)}")
    za, zb = np.asarray(za, dtype=np.float64), np.asarray(zb, dtype=np.float64)
    ts = np.asarray(ts, dtype=np.float64)[:, None]
    if mode == "linear":
        return ((1 - ts) * za + ts * zb).astype(np.float32)
    na, nb = np.linalg.norm(za), np.linalg.norm(zb)
    if na < 1e-8 or nb < 1e-8:
        return ((1 - ts) * za + ts * zb).astype(np.float32)
    omega = np.arccos(np.clip(np.dot(za / na, zb / nb), -1.0, 1.0))
    if omega < 1e-6:  # (anti)parallel codes: the sphere path degenerates to the line
        return ((1 - ts) * za + ts * zb).astype(np.float32)
    s = np.sin(omega)
    return (np.sin((1 - ts) * omega) / s * za + np.sin(ts * omega) / s * zb).astype(np.float32)


def traversal_grid(z0: np.ndarray, i: int, j: int, values_i: np.ndarray, values_j: np.ndarray) -> np.ndarray:
    """Codes sweeping dims i (across) and j (down) from z0, other dims fixed: [len(values_j) * len(values_i), L]."""
    z0 = np.asarray(z0, dtype=np.float32)
    out = np.repeat(z0[None], len(values_i) * len(values_j), axis=0)
    for r, vj in enumerate(values_j):
        for c, vi in enumerate(values_i):
            out[r * len(values_i) + c, i] = vi
            out[r * len(values_i) + c, j] = vj
    return out


def latent_ranges(model: Autoencoder, codes: np.ndarray, spread: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per latent dim for sliders: the prior's +-3 for a model with a prior, else the codes' mean +- 3
    std."""
    if model.samples_prior:
        d = model.cfg.latent_dim
        return np.full(d, -spread, np.float32), np.full(d, spread, np.float32)
    mu, sd = codes.mean(0), codes.std(0) + 1e-6
    return (mu - spread * sd).astype(np.float32), (mu + spread * sd).astype(np.float32)


def errors_to(images: np.ndarray, target: np.ndarray) -> list[float]:
    """The MSE between `target` ([*shape]) and each of `images` ([K, *shape]): how far a decoded point lies from
    each end of a path."""
    x = torch.from_numpy(np.asarray(images, dtype=np.float32))
    return [float(v) for v in mse_per_sample(x, torch.from_numpy(np.asarray(target, dtype=np.float32)).expand_as(x))]
