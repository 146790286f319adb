"""Sparse autoencoder: an L1 penalty on the code, or the KL divergence of each unit's mean activation to a small
target rate rho (Ng, "Sparse autoencoder", CS294A lecture notes, 2011)."""

from dataclasses import dataclass

import torch

from ae.errors import InputError
from ae.models.base import Autoencoder
from ae.registry import register


@dataclass
class SparseParams:
    mode: str = "l1"  # l1 | kl
    weight: float = 1e-3
    target: float = 0.05  # rho, the target mean activation (kl mode)

    def __post_init__(self) -> None:
        if self.mode not in ("l1", "kl"):
            raise InputError(f"sparse mode must be 'l1' or 'kl', got {self.mode!r}")
        if self.weight < 0 or not 0 < self.target < 1:
            raise InputError("sparse weight must be >= 0 and target in (0, 1)")


@register("sparse")
class Sparse(Autoencoder):
    Params = SparseParams

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
