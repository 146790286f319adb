"""Input corruptions shared by the denoising variant (while training) and the Denoise page (at any level)."""

from __future__ import annotations

import torch

NOISES = ("gaussian", "salt_pepper", "mask")


def corrupt(
    x: torch.Tensor, kind: str, level: float, *, clip: bool = True, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Return a corrupted copy of x.

    gaussian: add N(0, level^2) noise. salt_pepper: a fraction `level` of entries set to 0 or 1 at random.
    mask: a fraction `level` of entries set to 0. With clip (images in [0, 1]) the result stays in [0, 1].
    """
    if kind not in NOISES:
        raise ValueError(f"unknown noise {kind!r}; choose one of {', '.join(NOISES)}")
    if not level >= 0 or (kind != "gaussian" and level > 1):
        raise ValueError(f"noise level must be >= 0 (and <= 1 for {kind}), got {level}")

    def rand(fn):
        if generator is None:
            return fn(x.shape, device=x.device, dtype=x.dtype)
        return fn(x.shape, generator=generator, dtype=x.dtype).to(x.device)

    if kind == "gaussian":
        out = x + level * rand(torch.randn)
        return out.clamp(0, 1) if clip else out
    hit = rand(torch.rand) < level
    if kind == "mask":
        return x.masked_fill(hit, 0.0)
    if not clip:
        raise ValueError("salt_pepper noise sets entries to 0 or 1 and only makes sense for images in [0, 1]")
    salt = (rand(torch.rand) < 0.5).to(x.dtype)
    return torch.where(hit, salt, x)
