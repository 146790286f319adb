"""Variational autoencoder (Kingma & Welling, ICLR 2014) and beta-VAE (Higgins et al., ICLR 2017).

The encoder emits the mean and log-variance of a diagonal Gaussian q(z|x); z is sampled with the
reparameterisation trick; the loss is the negative ELBO with the KL term scaled by beta. The decoder is a
Bernoulli likelihood for recon_loss "bce" and a Gaussian of fixed scale `obs_sigma` for "mse", so ELBO and
log-likelihoods are in nats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ae.knobs import knob
from ae.models.base import Autoencoder, Output
from ae.registry import register

BETA_HELP = "weight of the KL term: 1 is the ELBO, more trades reconstruction for a smoother, more factorised code"


@dataclass
class VAEParams:
    beta: float = knob(1.0, min=0.0, max=100.0, label="beta (KL weight)", help=BETA_HELP)
    obs_sigma: float = knob(0.1, min=1e-4, max=10.0, fmt="%.4f", label="Decoder sigma",
                            help="std of the Gaussian decoder; used only with the mse reconstruction loss")


@register("vae")
class VAE(Autoencoder):
    title = "VAE"
    Params = VAEParams
    samples_prior = True
    has_elbo = True
    code_factor = 2

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x -> (mu, logvar), each [N, latent_dim]."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-20.0, 10.0)  # keeps exp(logvar) finite early in training

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean: the deterministic code used for maps and reconstructions."""
        return self.posterior(x)[0]

    def log_likelihood(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) per sample, [N], in nats."""
        if self.cfg.recon_loss == "bce":
            return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
        s = self.params.obs_sigma
        err = ((self.to_data(logits) - x) ** 2).flatten(1)
        return -(0.5 * err / s**2 + math.log(s * math.sqrt(2 * math.pi))).sum(1)

    def recon_per_sample(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return -self.log_likelihood(logits, x)

    @staticmethod
    def kl_per_sample(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        # KL(N(mu, sigma^2) || N(0, I)) in closed form: Kingma & Welling, Appendix B.
        return -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(1)

    def forward(self, x: torch.Tensor) -> Output:
        mu, logvar = self.posterior(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        logits = self.decode_logits(z)
        recon = self.recon_per_sample(logits, x).mean()
        reg = self.params.beta * self.kl_per_sample(mu, logvar).mean()
        return Output(loss=recon + reg, recon_loss=recon, reg_loss=reg, z=mu, x_hat=self.to_data(logits))


@dataclass
class BetaVAEParams(VAEParams):
    beta: float = knob(4.0, min=0.0, max=100.0, label="beta (KL weight)", help=BETA_HELP)


@register("beta-vae")
class BetaVAE(VAE):
    """A VAE whose KL weight beta > 1 trades reconstruction for a more factorised code."""

    title = "beta-VAE"
    Params = BetaVAEParams
