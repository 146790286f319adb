"""Watch it learn: the 2-D map of a fixed sample of test codes after every epoch, so a class sees clusters form.

Each frame is the sample's codes projected on their own first two principal components (exact and cheap, unlike
UMAP or t-SNE), centred and scaled to unit spread, then turned onto the previous frame by orthogonal Procrustes
(rotation or reflection, no stretch): PCA's axes may flip or swap between epochs, and an unaligned film jumps
about even when the codes barely moved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy.linalg import orthogonal_procrustes

from ae.data.sources import Dataset
from ae.explore.embed import MIN_MAP_POINTS, embed_2d
from ae.explore.metrics import encode
from ae.train import Callback

SAMPLE = 500  # test images followed through training: enough to see clusters, small to store (2 KB a frame)


def sample_indices(n: int, size: int = SAMPLE, seed: int = 0) -> np.ndarray:
    """Which test images the recording follows: a seeded draw, sorted, the same for every model of a dataset."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(n)[: min(size, n)])


def plane(codes: np.ndarray) -> np.ndarray:
    """codes [n >= 3, d] -> [n, 2]: the Latent space page's PCA map of them (centred, a 1-D code padded), scaled
    to unit RMS radius."""
    xy = embed_2d(codes, "pca").astype(np.float64)
    spread = np.sqrt((xy**2).sum(1).mean())
    return xy / spread if spread > 0 else xy


def align(frame: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """`frame` turned (rotated or reflected) to lie as close as it can to `previous`, point by point."""
    r, _ = orthogonal_procrustes(frame, previous)
    return frame @ r


def movement(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance a point travels between two frames."""
    return float(np.linalg.norm(a - b, axis=1).mean())


class MapRecorder(Callback):
    """A fit callback: after each epoch, one aligned frame of the sample's map. `frames` [epochs, n, 2];
    `raw` keeps the unaligned frames (for tests and for showing what alignment buys)."""

    def __init__(self, x: torch.Tensor, index: np.ndarray) -> None:
        self.x, self.index = x, index
        self.frames: list[np.ndarray] = []
        self.raw: list[np.ndarray] = []

    @classmethod
    def for_data(cls, data: Dataset, size: int = SAMPLE, seed: int = 0) -> MapRecorder:
        index = sample_indices(len(data.x_test), size, seed)
        return cls(data.x_test[torch.from_numpy(index)], index)  # as stored; encode makes batches float

    def on_epoch_end(self, history: pd.DataFrame) -> None:
        if self.model is None or len(self.x) < MIN_MAP_POINTS:
            return
        xy = plane(encode(self.model, self.x).numpy())
        self.raw.append(xy)
        self.frames.append(align(xy, self.frames[-1]) if self.frames else xy)

    def recording(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(frames [epochs, n, 2], which test images they show), as `ae.store.recording` stores them; None when
        nothing was recorded."""
        if not self.frames:
            return None
        return np.stack(self.frames).astype(np.float32), self.index.astype(np.int64)
