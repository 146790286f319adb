"""Encoder and decoder stacks shared by every variant, sized from `input_shape`.

Sizes are computed, never hard-coded, so the same code serves 1x28x28, 1x8x8, 3x32x32 and tabular `[D]` inputs
(PyTorch-VAE hard-codes its flatten size and only works at 64x64).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from torch import nn

from ae.config import ModelConfig
from ae.errors import InputError
from ae.registry import Registry

ARCHS: Registry[Callable[[ModelConfig], tuple[nn.Module, int, nn.Module]]] = Registry("architecture")
architecture = ARCHS.register


def build_stacks(cfg: ModelConfig) -> tuple[nn.Module, int, nn.Module]:
    """(encoder body, its feature width, decoder). The body maps x to features; the decoder maps a latent code to
    output logits of `input_shape`; the variant adds the code head between them."""
    return ARCHS.lookup(cfg.arch)(cfg)


@architecture("dense")
def dense(cfg: ModelConfig) -> tuple[nn.Module, int, nn.Module]:
    """MLP on the flattened input: D -> hidden... and back."""
    d = math.prod(cfg.input_shape)
    widths = [d, *cfg.hidden]
    enc: list[nn.Module] = [nn.Flatten()]
    for a, b in zip(widths[:-1], widths[1:]):
        enc += [nn.Linear(a, b), nn.ReLU()]
    dec: list[nn.Module] = []
    back = [cfg.latent_dim, *reversed(cfg.hidden)]
    for a, b in zip(back[:-1], back[1:]):
        dec += [nn.Linear(a, b), nn.ReLU()]
    dec += [nn.Linear(back[-1], d), nn.Unflatten(1, cfg.input_shape)]
    return nn.Sequential(*enc), widths[-1], nn.Sequential(*dec)


@architecture("conv")
def conv(cfg: ModelConfig) -> tuple[nn.Module, int, nn.Module]:
    """Stride-2 convolutions (each halves H and W), mirrored by transposed convolutions.

    x: [N, C, H, W]. Each transposed layer's output_padding restores the exact size the matching conv saw, so odd
    sizes (28 -> 14 -> 7 -> 3) come back whole.
    """
    if not cfg.is_image:
        raise InputError("the conv architecture needs image input [C, H, W]; use 'dense' for tabular data")
    c_in, h, w = cfg.input_shape
    sizes = [(h, w)]
    for _ in cfg.channels:
        h, w = h // 2, w // 2
        if h < 1 or w < 1:
            raise InputError(
                f"input {cfg.input_shape[1]}x{cfg.input_shape[2]} is too small for {len(cfg.channels)} "
                f"stride-2 conv layers; use fewer channels entries"
            )
        sizes.append((h, w))
    chans = [c_in, *cfg.channels]
    enc: list[nn.Module] = []
    for a, b in zip(chans[:-1], chans[1:]):
        enc += [nn.Conv2d(a, b, 4, stride=2, padding=1), nn.ReLU()]
    enc.append(nn.Flatten())
    feat = chans[-1] * h * w
    dec: list[nn.Module] = [nn.Linear(cfg.latent_dim, feat), nn.ReLU(), nn.Unflatten(1, (chans[-1], h, w))]
    for i in range(len(cfg.channels), 0, -1):
        (th, tw), (sh, sw) = sizes[i - 1], sizes[i]
        pad = (th - 2 * sh, tw - 2 * sw)
        dec.append(nn.ConvTranspose2d(chans[i], chans[i - 1], 4, stride=2, padding=1, output_padding=pad))
        if i > 1:
            dec.append(nn.ReLU())
    return nn.Sequential(*enc), feat, nn.Sequential(*dec)
