"""Image tensors -> displayable uint8 arrays: single images and tiled grids (torchvision's make_grid)."""

from __future__ import annotations

import numpy as np
import torch


def to_uint8(images: np.ndarray | torch.Tensor, scale: int = 1) -> np.ndarray:
    """[N, C, H, W] or [C, H, W] in [0, 1] -> [N, H*s, W*s] (grey) or [N, H*s, W*s, 3] uint8, upscaled by pixel
    repetition so small digits stay crisp in the browser."""
    arr = images.numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    single = arr.ndim == 3
    arr = arr[None] if single else arr
    arr = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
    if scale > 1:
        arr = arr.repeat(scale, axis=2).repeat(scale, axis=3)
    arr = arr[:, 0] if arr.shape[1] == 1 else arr.transpose(0, 2, 3, 1)
    return arr[0] if single else arr


def tile(
    images: np.ndarray | torch.Tensor, nrow: int, pad: int = 1, scale: int = 1, pad_value: float = 0.3
) -> np.ndarray:
    """[N, C, H, W] -> one uint8 picture with nrow images per row."""
    from torchvision.utils import make_grid

    t = torch.as_tensor(np.asarray(images), dtype=torch.float32)
    grid = make_grid(t, nrow=nrow, padding=pad, pad_value=pad_value)
    return to_uint8(grid, scale)
