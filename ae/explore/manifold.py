"""From points on a 2-D map back to latent codes, and the classic decoded 'manifold' grid.

For a 2-D latent the map is the latent plane itself. For a larger latent, a PCA map is inverted exactly (the point
goes to mean + p @ components), and a pair of raw dimensions is varied with the other dimensions held at their mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ae.errors import InputError
from ae.explore.embed import MIN_MAP_POINTS
from ae.explore.generate import decode_codes
from ae.models.base import Autoencoder


@dataclass
class Plane:
    """An affine map from 2-D coordinates to latent codes: z = origin + p @ axes ([2, latent])."""

    origin: np.ndarray
    axes: np.ndarray
    extent: tuple[float, float, float, float]  # x min, x max, y min, y max of the data on this plane

    def to_latent(self, points: np.ndarray) -> np.ndarray:
        return (self.origin + np.asarray(points, dtype=np.float32) @ self.axes).astype(np.float32)

    def to_plane(self, codes: np.ndarray) -> np.ndarray:
        """Codes [N, latent] -> their points on the plane [N, 2]: exact for PCA (orthonormal axes) and raw dims."""
        z = np.asarray(codes, dtype=np.float32)
        if z.shape[1] < self.axes.shape[1]:  # a 1-D code on its padded PCA plane
            z = np.hstack([z, np.zeros((len(z), self.axes.shape[1] - z.shape[1]), dtype=np.float32)])
        return ((z - self.origin) @ self.axes.T).astype(np.float32)


def _extent(p: np.ndarray, margin: float = 0.05) -> tuple[float, float, float, float]:
    lo, hi = np.percentile(p, 1, axis=0), np.percentile(p, 99, axis=0)
    pad = np.maximum((hi - lo) * margin, 1e-3)  # codes that all coincide still span a small square
    return float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])


def _enough(codes: np.ndarray) -> np.ndarray:
    codes = np.asarray(codes, dtype=np.float32)
    if codes.ndim != 2 or len(codes) < MIN_MAP_POINTS:
        raise InputError(f"a map needs at least {MIN_MAP_POINTS} test samples; this test split has {len(codes)}")
    return codes


def raw_plane(codes: np.ndarray, i: int = 0, j: int = 1) -> Plane:
    """Vary latent dims i and j; every other dim stays at its mean over the codes."""
    codes = _enough(codes)
    d = codes.shape[1]
    if not (0 <= i < d and 0 <= j < d) or i == j:
        raise InputError(f"pick two different latent dimensions between 0 and {d - 1}")
    origin = codes.mean(0)
    origin[[i, j]] = 0
    axes = np.zeros((2, d), dtype=np.float32)
    axes[0, i] = axes[1, j] = 1
    return Plane(origin, axes, _extent(codes[:, [i, j]]))


def pca_plane(codes: np.ndarray) -> tuple[Plane, np.ndarray]:
    """(plane, the codes' coordinates on it) for the first two principal components of the codes."""
    from sklearn.decomposition import PCA

    codes = _enough(codes)
    if codes.shape[1] == 1:  # a 1-D code is its own first component; the second is flat
        codes = np.hstack([codes, np.zeros_like(codes)])
    pca = PCA(n_components=2, random_state=0).fit(codes)
    coords = pca.transform(codes).astype(np.float32)
    return Plane(pca.mean_.astype(np.float32), pca.components_.astype(np.float32), _extent(coords)), coords


def grid_points(extent: tuple[float, float, float, float], steps: int) -> np.ndarray:
    """[steps * steps, 2] points, row by row from the top (high y) so the grid reads like the scatter plot."""
    x0, x1, y0, y1 = extent
    xs, ys = np.linspace(x0, x1, steps), np.linspace(y1, y0, steps)
    return np.array([(x, y) for y in ys for x in xs], dtype=np.float32)


def decode_points(model: Autoencoder, plane: Plane, points: np.ndarray) -> np.ndarray:
    """Images decoded at 2-D map points: [P, *input_shape] float32."""
    return decode_codes(model, plane.to_latent(points))
