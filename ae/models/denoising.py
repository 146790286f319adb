"""Denoising autoencoder (Vincent et al., ICML 2008): reconstruct the clean x from a corrupted copy."""

from dataclasses import dataclass

import torch

from ae.errors import InputError
from ae.models.base import Autoencoder
from ae.noise import NOISES, corrupt
from ae.registry import register


@dataclass
class DenoisingParams:
    noise: str = "gaussian"  # gaussian | salt_pepper | mask
    level: float = 0.3  # sigma for gaussian, fraction of entries hit otherwise

    def __post_init__(self) -> None:
        if self.noise not in NOISES:
            raise InputError(f"unknown noise {self.noise!r}; choose one of {', '.join(NOISES)}")
        if not 0 <= self.level <= (5 if self.noise == "gaussian" else 1):
            raise InputError(f"noise level {self.level} is out of range for {self.noise}")


@register("denoising")
class Denoising(Autoencoder):
    Params = DenoisingParams

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        # The loss still compares against the clean x (Autoencoder.forward), which is what teaches denoising.
        return corrupt(x, self.params.noise, self.params.level, clip=self.cfg.is_image)
