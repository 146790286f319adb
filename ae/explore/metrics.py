"""Reconstruction and likelihood metrics, per sample so pages can rank images and sets can be summarised honestly.

SSIM comes from scikit-image (Wang et al. 2004), not a hand-written copy. The VAE's importance-weighted NLL follows
Burda et al., "Importance Weighted Autoencoders" (ICLR 2016), eq. 8.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ae.data.sources import as_float
from ae.models.base import Autoencoder

IW_SAMPLES = 100
IW_CHUNK = 20  # importance samples decoded at once (x the batch's images)


@torch.no_grad()
def batched(model: Autoencoder, fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
            batch_size: int = 1024) -> torch.Tensor:
    """fn over x (stored samples: uint8 pixels or floats) in float32 batches on the model's device, in eval mode
    without gradients, concatenated on the CPU: the one loop every inference in `ae` goes through, so a big test
    split is never held as floats, nor on the GPU, at once."""
    model.eval()
    dev = model.device
    starts = range(0, len(x), batch_size) if len(x) else [0]  # an empty x still gives an empty [0, ...] result
    return torch.cat([fn(as_float(x[i : i + batch_size]).to(dev)).cpu() for i in starts])


def reconstruct(model: Autoencoder, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """x: [N, *input_shape] -> x_hat on the CPU."""
    return batched(model, model.reconstruct, x, batch_size)


def encode(model: Autoencoder, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """x -> codes [N, latent_dim] on the CPU (the posterior mean for VAEs)."""
    return batched(model, model.encode, x, batch_size)


def mse_per_sample(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Mean squared error per sample over its pixels (features): [N]."""
    return ((x - x_hat) ** 2).flatten(1).mean(1)


def bce_per_sample(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy per pixel, for images in [0, 1]: [N]."""
    p = x_hat.clamp(1e-6, 1 - 1e-6)
    return -(x * p.log() + (1 - x) * (1 - p).log()).flatten(1).mean(1)


def psnr_per_sample(x: torch.Tensor, x_hat: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image: [N]. A perfect copy is capped at 100 dB."""
    mse = mse_per_sample(x, x_hat).clamp_min(1e-10)
    return 10 * torch.log10(data_range**2 / mse)


def ssim_per_sample(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Structural similarity per image ([N, C, H, W] in [0, 1]): [N].

    scikit-image's `structural_similarity` (Wang et al. 2004; its defaults: 7x7 uniform window, sample covariance,
    K1 0.01, K2 0.03, data range 1, channels averaged), computed for the whole batch with one filter call per moment
    instead of one Python call per image: the same numbers (tests compare them), ~30x faster, so a class moving the
    Denoise slider does not wait on it."""
    from scipy.ndimage import uniform_filter

    if x.ndim != 4:
        raise ValueError("SSIM is defined for images [N, C, H, W]")
    side = min(x.shape[-2:])
    win = min(7, side if side % 2 else side - 1)  # skimage needs an odd window no larger than the image
    if win < 3:
        raise ValueError(f"images of {x.shape[-2]}x{x.shape[-1]} are too small for SSIM")
    a, b = x.numpy().astype(np.float64), x_hat.clamp(0, 1).numpy().astype(np.float64)
    size = (1, 1, win, win)

    def mean(v: np.ndarray) -> np.ndarray:
        return uniform_filter(v, size=size)

    ux, uy = mean(a), mean(b)
    cov_norm = win * win / (win * win - 1.0)
    vx, vy = cov_norm * (mean(a * a) - ux * ux), cov_norm * (mean(b * b) - uy * uy)
    vxy = cov_norm * (mean(a * b) - ux * uy)
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    pad = (win - 1) // 2
    per_channel = s[:, :, pad : s.shape[2] - pad, pad : s.shape[3] - pad].mean(axis=(2, 3))
    return torch.from_numpy(per_channel.mean(axis=1)).float()


def _require_elbo(model: Autoencoder) -> None:
    if not model.has_elbo:
        raise ValueError(f"the {model.name} model has no ELBO: it has no posterior and likelihood to bound p(x)")


def elbo_per_sample(model: Autoencoder, x: torch.Tensor, batch_size: int = 500, seed: int = 0) -> torch.Tensor:
    """The evidence lower bound log p(x|z) - KL(q(z|x) || p(z)) per sample in nats (beta = 1), one z draw: [N]."""
    _require_elbo(model)
    gen = torch.Generator().manual_seed(seed)

    def elbo(xb: torch.Tensor) -> torch.Tensor:
        mu, logvar = model.posterior(xb)
        z = mu + torch.randn(mu.shape, generator=gen).to(mu.device) * (0.5 * logvar).exp()
        return model.log_likelihood(model.decode_logits(z), xb) - model.kl_per_sample(mu, logvar)

    return batched(model, elbo, x, batch_size)


def iw_nll_per_sample(
    model: Autoencoder, x: torch.Tensor, k: int = IW_SAMPLES, batch_size: int = 100, seed: int = 0
) -> torch.Tensor:
    """-log p(x) estimated with k importance samples from q(z|x), in nats: [N].

    -log (1/k) sum_j p(x|z_j) p(z_j) / q(z_j|x); an upper bound on the true NLL that tightens as k grows, and never
    looser than -ELBO in expectation.
    """
    _require_elbo(model)
    gen = torch.Generator().manual_seed(seed)
    log2pi = math.log(2 * math.pi)

    def nll(xb: torch.Tensor) -> torch.Tensor:
        mu, logvar = model.posterior(xb)
        eps = torch.randn((k, *mu.shape), generator=gen).to(mu.device)
        z = mu + eps * (0.5 * logvar).exp()  # [k, B, L]
        log_q = (-0.5 * (eps**2 + logvar + log2pi)).sum(-1)
        log_pz = (-0.5 * (z**2 + log2pi)).sum(-1)
        log_px = []
        for j in range(0, k, IW_CHUNK):  # decode a few draws at a time: k x B decodes at once take ~1 GB
            zj = z[j : j + IW_CHUNK]
            logits = model.decode_logits(zj.flatten(0, 1))
            log_px.append(model.log_likelihood(logits, xb.repeat(len(zj), *[1] * (xb.ndim - 1))).view(len(zj), -1))
        log_w = torch.cat(log_px) + log_pz - log_q
        return -(torch.logsumexp(log_w, 0) - math.log(k))

    return batched(model, nll, x, batch_size)


def errors_per_sample(model: Autoencoder, x: torch.Tensor, batch_size: int = 1024,
                      progress: Callable[[float], None] | None = None) -> dict[str, np.ndarray]:
    """Each sample's reconstruction error, one batch at a time (x as stored: uint8 pixels or floats): `mse` [N];
    for images also `bce` and `psnr`, and `ssim` where the images are at least 3x3. The whole split is never held
    as floats or as reconstructions at once."""
    model.eval()
    image = x.ndim == 4
    with_ssim = image and min(x.shape[-2:]) >= 3
    cols: dict[str, list[torch.Tensor]] = {"mse": []}
    if image:
        cols.update(bce=[], psnr=[])
    if with_ssim:
        cols["ssim"] = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = as_float(x[i : i + batch_size])
            xh = model.reconstruct(xb.to(model.device)).cpu().float()
            cols["mse"].append(mse_per_sample(xb, xh))
            if image:
                cols["bce"].append(bce_per_sample(xb, xh))
                cols["psnr"].append(psnr_per_sample(xb, xh))
            if with_ssim:
                cols["ssim"].append(ssim_per_sample(xb, xh))
            if progress is not None:
                progress(min(1.0, (i + batch_size) / max(len(x), 1)))
    return {k: torch.cat(v).numpy() if v else np.zeros(0, np.float32) for k, v in cols.items()}


IW_ALL_UP_TO, IW_IMAGES = 1000, 500  # the IW-NLL is measured on every test image up to 1,000, else on a seeded 500


def iw_subset(n: int, size: int = IW_IMAGES, seed: int = 0) -> np.ndarray:
    """Which test samples the IW-NLL is measured on: all of them up to IW_ALL_UP_TO, else a seeded sorted draw of
    `size` (100 decodes an image: 10,000 test images would take minutes on a CPU)."""
    if n <= max(size, IW_ALL_UP_TO):
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def evaluate(model: Autoencoder, x: torch.Tensor, iw_samples: int = IW_SAMPLES, iw_images: int = IW_IMAGES,
             errors: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """Set-level metrics of `model` on x: MSE, and for images BCE, PSNR (mean over images, dB) and SSIM; for VAEs
    the ELBO and the importance-weighted NLL (nats per sample). The IW-NLL costs `iw_samples` decodes per image, so
    on a split larger than IW_ALL_UP_TO it is estimated on a seeded subset of `iw_images`, with its 95% interval
    (`iw_nll_ci95`: 1.96 standard errors) and the number of images (`iw_images`). `errors`: the per-sample errors when
    the caller has them already (`errors_per_sample`)."""
    per = errors if errors is not None else errors_per_sample(model, x)
    m: dict[str, float] = {"n": len(x), **{k: float(np.mean(v)) for k, v in per.items()}}
    if model.has_elbo:
        m["elbo"] = float(elbo_per_sample(model, x).mean())
        pick = torch.from_numpy(iw_subset(len(x), iw_images))
        nll = iw_nll_per_sample(model, x[pick], k=iw_samples).double()
        m["iw_nll"] = float(nll.mean())
        m["iw_nll_ci95"] = float(1.96 * nll.std() / math.sqrt(len(nll))) if len(nll) > 1 else math.nan
        m["iw_samples"] = iw_samples
        m["iw_images"] = len(nll)
    return m


def pca_mse(x_train: torch.Tensor, x_test: torch.Tensor, n_components: int) -> float:
    """Test MSE of a PCA reconstruction with n_components, fitted on x_train: the linear baseline to beat."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=n_components, random_state=0).fit(as_float(x_train).flatten(1).numpy())
    t = as_float(x_test).flatten(1).numpy()
    rec = pca.inverse_transform(pca.transform(t))
    if x_train.ndim == 4:
        rec = rec.clip(0, 1)  # images live in [0, 1]; PCA deserves the same clipping the models' sigmoid gives
    return float(((rec - t) ** 2).mean())
