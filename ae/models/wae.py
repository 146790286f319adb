"""Wasserstein autoencoder with an MMD penalty (Tolstikhin, Bousquet, Gelly & Schölkopf, "Wasserstein Auto-Encoders",
ICLR 2018, Algorithm 2).

A deterministic encoder whose codes, taken as a batch, are pulled towards the prior N(0, I) by the maximum mean
discrepancy between the batch and as many draws from the prior, with the inverse multiquadratic kernel
k(x, y) = C / (C + ||x - y||^2), C = 2 * latent * sigma^2 with sigma^2 = 1 (the paper's choice). Its codes follow the
prior, so it can be sampled like a VAE; it has no posterior and likelihood, so no ELBO.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ae.knobs import knob
from ae.models.base import Autoencoder
from ae.registry import register


@dataclass
class WAEParams:
    weight: float = knob(10.0, min=0.0, max=1000.0, label="MMD weight (lambda)",
                         help="how strongly each batch of codes is pulled towards N(0, I); the paper uses 10")


def mmd(z: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """The unbiased MMD^2 estimate between two equal-size batches [n, d] with the inverse multiquadratic kernel."""
    n, d = z.shape
    if n < 2:
        return z.new_zeros(())
    c = 2.0 * d

    def k(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return c / (c + torch.cdist(a, b).pow(2))

    off = 1.0 - torch.eye(n, device=z.device)
    within = ((k(z, z) + k(prior, prior)) * off).sum() / (n * (n - 1))
    return within - 2.0 * k(z, prior).mean()


@register("wae-mmd")
class WAE(Autoencoder):
    title = "WAE-MMD"
    Params = WAEParams
    samples_prior = True

    def penalty(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.params.weight * mmd(z, torch.randn_like(z))
