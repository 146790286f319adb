"""Image tensors -> displayable uint8 arrays: single images and tiled grids.

`tile` lays images out exactly as torchvision's `make_grid` does (a test holds them equal), in numpy: importing
torchvision pulls in torch._dynamo, 1.5 s of CPU in every web process for a dozen lines of layout."""

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


def grid(images: np.ndarray, nrow: int, pad: int = 1, pad_value: float = 0.3) -> np.ndarray:
    """[N, C, H, W] floats -> [3, rows * (H + pad) + pad, cols * (W + pad) + pad]: nrow images a row, `pad` pixels of
    `pad_value` around each (grey images become three equal channels), as torchvision's make_grid."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[None]
    if x.shape[1] == 1:
        x = np.repeat(x, 3, axis=1)
    n, c, h, w = x.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    out = np.full((c, rows * (h + pad) + pad, cols * (w + pad) + pad), pad_value, dtype=np.float32)
    for k in range(n):
        r, q = divmod(k, cols)
        out[:, r * (h + pad) + pad : (r + 1) * (h + pad), q * (w + pad) + pad : (q + 1) * (w + pad)] = x[k]
    return out


def tile(
    images: np.ndarray | torch.Tensor, nrow: int, pad: int = 1, scale: int = 1, pad_value: float = 0.3
) -> np.ndarray:
    """[N, C, H, W] -> one uint8 picture with nrow images per row."""
    arr = images.numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    return to_uint8(grid(arr, nrow, pad, pad_value), scale)
