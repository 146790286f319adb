"""The one interface every autoencoder shares, so the trainer, metrics and pages never branch on the variant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ae.config import ModelConfig
from ae.errors import InputError
from ae.models.blocks import build_stacks


@dataclass
class NoParams:
    """A variant without knobs of its own."""


@dataclass
class Output:
    """What `forward` returns; the trainer reads only this.

    loss = recon_loss + reg_loss (scalars, batch means of per-sample sums); z: [N, latent]; x_hat: [N, *input_shape]
    in data space (in [0, 1] for images).
    """

    loss: torch.Tensor
    recon_loss: torch.Tensor
    reg_loss: torch.Tensor
    z: torch.Tensor
    x_hat: torch.Tensor


class Autoencoder(nn.Module):
    """x -> encode -> z -> decode -> x_hat, with the variant's regulariser added to the reconstruction loss.

    Variants override `corrupt`, `encode`, `penalty` or `forward`; nothing else needs to know about them.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""  # what the pages call it ("denoising AE"); the name when empty
    Params: ClassVar[type] = NoParams
    # What a variant can do beyond reconstructing, each said once, on the variant (pages and metrics ask these):
    samples_prior: ClassVar[bool] = False  # codes are trained to follow N(0, I): random draws decode to images
    has_elbo: ClassVar[bool] = False  # a posterior q(z|x) and a likelihood p(x|z): ELBO and IW-NLL can be measured
    code_factor: ClassVar[int] = 1  # the code head emits latent_dim * code_factor numbers (VAE: mean and log-var)

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.params = cfg.knobs
        body, features, decoder = build_stacks(cfg)
        head: list[nn.Module] = [nn.Linear(features, cfg.latent_dim * self.code_factor)]
        if cfg.code_activation == "relu":
            if self.code_factor > 1:
                raise InputError(f"a {self.title or self.name}'s code is a mean and a log-variance, which a ReLU "
                                 "would clamp at 0; use code_activation 'linear'")
            head.append(nn.ReLU())
        self.encoder = nn.Sequential(body, *head)
        self.decoder = decoder

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def n_weights(self, part: str = "all") -> int:
        """Numbers in the model's weights ("all") or its decoder's ("decoder"): what a file of it holds."""
        module = {"all": self, "decoder": self.decoder}[part]
        return sum(p.numel() for p in module.parameters())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, *input_shape] -> z: [N, latent_dim]."""
        return self.encoder(x)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def to_data(self, logits: torch.Tensor) -> torch.Tensor:
        """Images live in [0, 1] (sigmoid); standardized tabular rows are unbounded (identity)."""
        return torch.sigmoid(logits) if self.cfg.is_image else logits

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [N, latent_dim] -> x_hat: [N, *input_shape] in data space."""
        return self.to_data(self.decode_logits(z))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def recon_per_sample(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Per-sample sum over features: [N]. BCE is computed on logits for numerical stability."""
        if self.cfg.recon_loss == "bce":
            err = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
        else:
            err = (self.to_data(logits) - x) ** 2
        return err.flatten(1).sum(1)

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        """Input corruption applied only while training (the denoising variant)."""
        return x

    def penalty(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The variant's regulariser as a scalar; plain autoencoders have none."""
        return z.new_zeros(())

    def forward(self, x: torch.Tensor) -> Output:
        x_in = self.corrupt(x) if self.training else x
        z = self.encode(x_in)
        return self.output(x, z, self.penalty(x_in, z))

    def output(self, x: torch.Tensor, z: torch.Tensor, reg: torch.Tensor) -> Output:
        logits = self.decode_logits(z)
        recon = self.recon_per_sample(logits, x).mean()
        return Output(loss=recon + reg, recon_loss=recon, reg_loss=reg, z=z, x_hat=self.to_data(logits))
