"""2-D maps of latent codes: raw dimensions, PCA, UMAP (McInnes et al. 2018) and t-SNE (van der Maaten & Hinton
2008), all seeded so the same codes give the same map."""

from __future__ import annotations

import numpy as np

from ae.errors import InputError

MIN_MAP_POINTS = 3  # PCA, UMAP and t-SNE all need a few points to place anything

METHODS = ("pca", "umap", "tsne")


def embed_2d(codes: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """codes: [N, latent] -> [N, 2] float32. A 2-D code is its own PCA up to rotation, so every method works for
    any latent size >= 2; a 1-D code is padded with zeros."""
    codes = np.asarray(codes, dtype=np.float32)
    if codes.ndim != 2 or len(codes) < MIN_MAP_POINTS:
        raise InputError(f"a map needs at least {MIN_MAP_POINTS} test samples; this test split has {len(codes)}")
    if codes.shape[1] == 1:
        codes = np.hstack([codes, np.zeros_like(codes)])
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(codes).astype(np.float32)
    if method == "umap":
        import umap

        n_neighbors = min(15, len(codes) - 1)
        reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, min_dist=0.1, random_state=seed, n_jobs=1)
        return reducer.fit_transform(codes).astype(np.float32)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (len(codes) - 1) / 3)
        return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(codes).astype(
            np.float32
        )
    raise ValueError(f"unknown map method {method!r}; choose one of {', '.join(METHODS)}")


def warm_up_umap() -> None:
    """Compile UMAP's numba code on a small fit (~30 s once per process) so the first real map does not wait."""
    rng = np.random.default_rng(0)
    embed_2d(rng.normal(size=(4200, 4)).astype(np.float32), "umap")


def thumbnail_sample(n_points: int, k: int = 120, seed: int = 0) -> np.ndarray:
    """Which points of a map get their image drawn: k of them, seeded, so every visit shows the same ones."""
    return np.random.default_rng(seed).choice(n_points, size=min(k, n_points), replace=False)
