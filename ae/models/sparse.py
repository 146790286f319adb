"""Sparse autoencoder: an L1 penalty on the code, or the KL divergence of each unit's mean activation to a small
target rate rho (Ng, "Sparse autoencoder", CS294A lecture notes, 2011)."""

from dataclasses import dataclass

import torch

from ae.errors import InputError
from ae.knobs import knob
from ae.models.base import Autoencoder
from ae.registry import register


@dataclass
class SparseParams:
    mode: str = knob("l1", choices=("l1", "kl"), label="Sparsity",
                     help="l1: penalise the code's absolute values; kl: push each unit's mean activation to target")
    weight: float = knob(0.1, min=0.0, max=100.0, fmt="%.4f", label="Sparsity weight",
                         help="how strongly sparsity is traded against reconstruction")
    target: float = knob(0.05, min=0.001, max=0.999, only=("mode", "kl"), label="Target activation",
                         help="rho, the mean activation each code unit is pushed towards")


@register("sparse")
class Sparse(Autoencoder):
    """The penalty acts on the code alone; encode adds the sigmoid the KL form needs."""

    title = "sparse AE"
    Params = SparseParams

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        if self.params.mode == "kl" and cfg.code_activation == "relu":
            raise InputError("the KL form's sigmoid of a ReLU code is at least 0.5, so no target rate below it can "
                             "be reached; use code_activation 'linear' or mode 'l1'")

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        z = super().encode(x)
        # The KL form needs activations that are rates in (0, 1), hence the sigmoid code.
        return torch.sigmoid(z) if self.params.mode == "kl" else z

    def penalty(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        if self.params.mode == "l1":
            return self.params.weight * z.abs().sum(1).mean()
        rho = self.params.target
        rho_hat = z.mean(0).clamp(1e-6, 1 - 1e-6)
        kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
        return self.params.weight * kl.sum()
