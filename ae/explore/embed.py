"""2-D maps of latent codes: raw dimensions, PCA, UMAP (McInnes et al. 2018) and t-SNE (van der Maaten & Hinton
2008; openTSNE's implementation, Poličar et al. 2024), all seeded so the same codes give the same map.

Sizes that scale: UMAP gets its neighbours from scikit-learn's exact search (`precomputed_knn`), which skips
pynndescent and its ~40 s numba compile in every new process and is deterministic. t-SNE costs about 4 s per 1,000
points here, so it is fitted on at most `FIT_LIMIT["tsne"]` codes (a seeded draw) and every other code is placed at
the distance-weighted mean of its nearest fitted neighbours' places (`place_among`), the same rule the Draw page uses
for a new drawing. `fitted(n, method)` says how many were fitted, so a page can say it.
"""

from __future__ import annotations

import functools

import numpy as np

from ae.errors import InputError

MIN_MAP_POINTS = 3  # PCA, UMAP and t-SNE all need a few points to place anything
METHODS = ("pca", "umap", "tsne")
FIT_LIMIT = {"pca": None, "umap": 50_000, "tsne": 5_000}  # codes a method is fitted on; the rest are placed
PLACE_NEIGHBOURS = 10


def fitted(n: int, method: str) -> int:
    """How many of n codes `method` fits (the others are placed among them)."""
    limit = FIT_LIMIT.get(method)
    return n if limit is None else min(n, limit)


def fit_subset(n: int, method: str, seed: int = 0) -> np.ndarray:
    """Indices of the codes a method is fitted on: all of them up to its limit, else a seeded sorted draw."""
    k = fitted(n, method)
    return np.arange(n) if k == n else np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))


def place_among(coords: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """A new point's place on a map: the mean of its neighbours' places `coords` [..., k, 2], each weighted by the
    inverse of its distance [..., k] in code space."""
    w = 1.0 / (np.asarray(distances, dtype=np.float64) + 1e-6)
    return (np.asarray(coords, dtype=np.float64) * w[..., None]).sum(-2) / w.sum(-1)[..., None]


def embed_2d(codes: np.ndarray, method: str, seed: int = 0, threads: int = 1) -> np.ndarray:
    """codes: [N, latent] -> [N, 2] float32. A 2-D code is its own PCA up to rotation, so every method works for
    any latent size >= 2; a 1-D code is padded with zeros."""
    codes = np.asarray(codes, dtype=np.float32)
    if codes.ndim != 2 or len(codes) < MIN_MAP_POINTS:
        raise InputError(f"a map needs at least {MIN_MAP_POINTS} test samples; this test split has {len(codes)}")
    if method not in METHODS:
        raise ValueError(f"unknown map method {method!r}; choose one of {', '.join(METHODS)}")
    if codes.shape[1] == 1:
        codes = np.hstack([codes, np.zeros_like(codes)])
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(codes).astype(np.float32)
    fit = fit_subset(len(codes), method, seed)
    inner = _umap(codes[fit], seed) if method == "umap" else _tsne(codes[fit], seed, threads)
    if len(fit) == len(codes):
        return inner
    from sklearn.neighbors import NearestNeighbors

    rest = np.setdiff1d(np.arange(len(codes)), fit)
    dist, idx = NearestNeighbors(n_neighbors=min(PLACE_NEIGHBOURS, len(fit))).fit(codes[fit]).kneighbors(codes[rest])
    out = np.empty((len(codes), 2), dtype=np.float32)
    out[fit] = inner
    out[rest] = place_among(inner[idx], dist)
    return out


UMAP_MODULES = ("umap.umap_", "umap.layouts", "umap.distances", "umap.utils", "umap.spectral", "umap.sparse")


@functools.cache
def _umap_library():
    """umap, with its numba functions cached on disk. umap-learn compiles them afresh in every process (~11 s of CPU
    on this machine: each new Dask worker, CLI run and server paid it); asking numba to cache them, as pynndescent
    does its own, makes every later process load the compiled code in well under a second. The cache lives in
    umap's __pycache__ (or numba's user-wide folder where that is read-only) and numba rebuilds it when umap's
    source changes."""
    import umap

    for _, dispatcher in umap_functions():
        dispatcher.enable_caching()  # what @njit(cache=True) does; before the first call, so it is compiled once
    return umap


def umap_functions():
    """(name, numba dispatcher) of every compiled function in umap's modules."""
    import importlib

    from numba.core.registry import CPUDispatcher

    for module in UMAP_MODULES:
        for name, value in vars(importlib.import_module(module)).items():
            if isinstance(value, CPUDispatcher):
                yield name, value


def _umap(codes: np.ndarray, seed: int) -> np.ndarray:
    import warnings

    from sklearn.neighbors import NearestNeighbors

    umap = _umap_library()

    k = min(15, len(codes) - 1)
    dist, idx = NearestNeighbors(n_neighbors=k).fit(codes).kneighbors(codes)  # each point is its own first neighbour
    # UMAP's own default is 500 epochs up to 10,000 points and 200 beyond; 200 from 4,096 on (where it would switch
    # to approximate neighbours) keeps a 10,000-point map at ~5 s, and the layout is settled long before
    reducer = umap.UMAP(n_components=2, n_neighbors=k, min_dist=0.1, random_state=seed, n_jobs=1,
                        n_epochs=200 if len(codes) >= 4096 else None,
                        precomputed_knn=(idx, dist.astype(np.float32), None))
    with warnings.catch_warnings():  # "no search index, so no transform": new points are placed by place_among
        warnings.filterwarnings("ignore", message="precomputed_knn", category=UserWarning)
        return reducer.fit_transform(codes).astype(np.float32)


def _tsne(codes: np.ndarray, seed: int, threads: int) -> np.ndarray:
    from openTSNE import TSNE

    perplexity = min(30.0, (len(codes) - 1) / 3)
    return np.asarray(TSNE(n_components=2, perplexity=perplexity, initialization="pca", random_state=seed,
                           n_jobs=threads, verbose=False).fit(codes), dtype=np.float32)


def warm_up_umap() -> None:
    """Compile UMAP's numba code on a small fit (a few seconds once per process) so the first real map does not
    wait for it."""
    rng = np.random.default_rng(0)
    embed_2d(rng.normal(size=(300, 4)).astype(np.float32), "umap")


def thumbnail_sample(n_points: int, k: int = 120, seed: int = 0) -> np.ndarray:
    """Which points of a map get their image drawn: k of them, seeded, so every visit shows the same ones."""
    return np.random.default_rng(seed).choice(n_points, size=min(k, n_points), replace=False)
