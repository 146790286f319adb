"""Denoising autoencoder (Vincent et al., ICML 2008): reconstruct the clean x from a corrupted copy."""

from dataclasses import dataclass

import torch

from ae.data.noise import NOISES, corrupt
from ae.errors import InputError
from ae.knobs import knob
from ae.models.base import Autoencoder
from ae.registry import register


@dataclass
class DenoisingParams:
    noise: str = knob("gaussian", choices=NOISES, tabular_choices=("gaussian", "mask"), label="Noise",
                      help="the corruption applied to each training input")
    level: float = knob(0.3, min=0.0, max=5.0, ui_max=1.0, step=0.05, label="Noise level",
                        help="sigma for gaussian noise; the fraction of entries hit for salt_pepper and mask")

    def __post_init__(self) -> None:
        if not 0 <= self.level <= (5 if self.noise == "gaussian" else 1):
            raise InputError(f"noise level {self.level} is out of range for {self.noise}")


@register("denoising")
class Denoising(Autoencoder):
    """Corruption is applied only in training mode: evaluation and the pages feed the clean or their own noisy x."""

    title = "denoising AE"
    Params = DenoisingParams

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        # The loss still compares against the clean x (Autoencoder.forward), which is what teaches denoising.
        return corrupt(x, self.params.noise, self.params.level, clip=self.cfg.is_image)
