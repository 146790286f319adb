"""Do two models organise the data the same way? (issue 21) Two maps of the same test images aligned so that an image
sits in comparable places, and per image how much the models agree on its neighbours, and how faithful each 2-D map is
to its latent space.

- Alignment: orthogonal Procrustes (rotation and mirror, one scale, a shift) of one map onto the other, the classic
  answer to "the same shape, turned": a map rotated and mirrored comes back exactly.
- Neighbourhood agreement: the share of an image's k nearest neighbours that two spaces have in common (1: the same
  neighbours, 0: none), between the two latent spaces, and between a latent space and its own 2-D map.
- Trustworthiness (scikit-learn's, Venna and Kaski): whether a map's neighbours were neighbours in the latent space
  (on a seeded 2,000 of the images: it compares every pair).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import orthogonal_procrustes
from sklearn.manifold import trustworthiness
from sklearn.neighbors import NearestNeighbors

K = 10
TRUST_SAMPLE = 2000  # trustworthiness compares all pairs: a seeded sample keeps 10,000 test images at 2,000^2


def align(reference: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """`moving` ([N, 2], the same N points) rotated, mirrored if that fits better, scaled and shifted onto
    `reference`'s coordinates, minimising the squared distances between each point's two places."""
    ref, mov = np.asarray(reference, np.float64), np.asarray(moving, np.float64)
    if ref.shape != mov.shape or ref.ndim != 2:
        raise ValueError(f"two maps of the same points: got {ref.shape} and {mov.shape}")
    ref_c, mov_c = ref - ref.mean(0), mov - mov.mean(0)
    rotation, s = orthogonal_procrustes(mov_c, ref_c)
    norm = float((mov_c**2).sum())
    scale = s / norm if norm > 0 else 1.0
    return (mov_c @ rotation * scale + ref.mean(0)).astype(np.float32)


def neighbours(x: np.ndarray, k: int = K) -> np.ndarray:
    """[N, k] indices of each point's k nearest other points."""
    x = np.asarray(x, np.float32)
    k = min(k, len(x) - 1)
    idx = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x, return_distance=False)
    return idx[:, 1:]  # the point itself first (ties aside); dropped


def overlap(a: np.ndarray, b: np.ndarray, k: int = K) -> np.ndarray:
    """[N] share of each point's k nearest neighbours that spaces `a` and `b` (the same N points) have in common."""
    na, nb = neighbours(a, k), neighbours(b, k)
    return np.array([len(np.intersect1d(x, y, assume_unique=True)) for x, y in zip(na, nb)],
                    dtype=np.float32) / na.shape[1]


@dataclass
class Agreement:
    """Per image: `between` the two latent spaces, `map_a` / `map_b` each latent space against its 2-D map; and the
    maps' trustworthiness."""

    between: np.ndarray
    map_a: np.ndarray
    map_b: np.ndarray
    trust_a: float
    trust_b: float
    k: int

    def most_disputed(self, n: int = 5) -> np.ndarray:
        """The n images whose neighbours the two models agree on least (lowest overlap first; ties by index)."""
        return np.argsort(self.between, kind="stable")[:n].copy()


def agreement(za: np.ndarray, zb: np.ndarray, map_a: np.ndarray, map_b: np.ndarray, k: int = K) -> Agreement:
    """How far two models' codes of the same images (`za`, `zb`) agree, and each map with its codes."""
    k = min(k, len(za) - 1)
    rows = np.sort(np.random.default_rng(0).permutation(len(za))[:TRUST_SAMPLE])

    def trust(z: np.ndarray, m: np.ndarray) -> float:
        return float(trustworthiness(z[rows], m[rows], n_neighbors=min(k, len(rows) // 2 - 1)))

    return Agreement(overlap(za, zb, k), overlap(za, map_a, k), overlap(zb, map_b, k), trust(za, map_a),
                     trust(zb, map_b), k)
