"""The one module with st.cache_* functions, so every page and session shares the loaded objects.

Resources (datasets, models) are shared by every session: they are loaded in eval mode and never mutated.
Computed arrays are keyed by plain strings plus the weights' modification stamp, so new weights never hit old
results.
"""

from __future__ import annotations

import gc
import os
import threading
import time

import numpy as np
import streamlit as st

from ae.analysis import ReconReport, reconstruction_report
from ae.catalog import ModelEntry, list_catalog
from ae.data import Dataset, DatasetUnavailable, load_dataset
from ae.device import describe_device, pick_device
from ae.embed import embed_2d, warm_up_umap
from ae.io import CheckpointError, load_model
from ae.maps import load_maps
from ae.metrics import encode
from ae.models.base import Autoencoder

WARMUP_ENV = "LATENT_LAB_NO_WARMUP"


@st.cache_resource(show_spinner=False)
def device_name() -> str:
    return describe_device(pick_device())


def dataset(name: str) -> tuple[Dataset | None, str | None]:
    """(dataset, None) or (None, a message saying what is missing and where to put it)."""
    from ui.uploads import my_uploads

    if name in my_uploads():
        return my_uploads()[name], None
    if name.endswith(")") and " (upload " in name:
        return None, "this upload is gone (its session ended or the server restarted); upload the file again on the " \
            "Train page"
    return builtin_dataset(name)


@st.cache_resource(show_spinner="Loading the dataset…")
def builtin_dataset(name: str) -> tuple[Dataset | None, str | None]:
    """Failures are cached too, so an offline machine does not retry the network on every rerun; the Retry button
    clears this cache."""
    try:
        return load_dataset(name), None
    except (DatasetUnavailable, ValueError, OSError) as e:
        return None, str(e)


@st.cache_data(ttl=3, show_spinner=False)
def catalog() -> list[ModelEntry]:
    return list_catalog()


@st.cache_resource(max_entries=24, show_spinner="Loading the model…")
def model(path: str, stamp: int) -> tuple[Autoencoder | None, dict | str]:
    """(model in eval mode on the best device, its metadata), or (None, the reason it cannot load)."""
    try:
        return load_model(path, device=pick_device())
    except (CheckpointError, OSError, ValueError) as e:
        return None, str(e)


@st.cache_data(max_entries=48, show_spinner="Reconstructing the test images…")
def recon_report(path: str, stamp: int, dataset_name: str) -> ReconReport:
    m, _ = model(path, stamp)
    data, _ = dataset(dataset_name)
    return reconstruction_report(m, data.x_test)


@st.cache_data(max_entries=48, show_spinner="Encoding the test images…")
def codes(path: str, stamp: int, dataset_name: str) -> np.ndarray:
    """The test split's codes, from the precomputed maps file when it matches these weights and data."""
    m, meta = model(path, stamp)
    if meta.get("dataset", {}).get("name") == dataset_name:
        stored = load_maps(path)
        if stored is not None and "codes" in stored:
            return stored["codes"]
    data, _ = dataset(dataset_name)
    return encode(m, data.x_test).numpy()


@st.cache_data(max_entries=96, show_spinner=False)
def latent_map(path: str, stamp: int, dataset_name: str, method: str) -> tuple[np.ndarray, str]:
    """([N, 2] map of the test codes, where it came from). Shipped maps load instantly; others are computed once."""
    m, meta = model(path, stamp)
    if meta.get("dataset", {}).get("name") == dataset_name:
        stored = load_maps(path)
        if stored is not None and method in stored:
            return stored[method], "precomputed with the model"
    t0 = time.perf_counter()
    coords = embed_2d(codes(path, stamp, dataset_name), method)
    return coords, f"computed here in {time.perf_counter() - t0:.1f} s, cached for the next visit"


def settle_heap() -> None:
    """Collect, then move every object alive now (torch, plotly, umap, numba and their modules: millions) into
    Python's permanent generation. Without it the automatic full collection walks them all, 0.4-0.5 s with the GIL
    held every 10-20 s under a class's load (measured with gc.callbacks), and every session waits."""
    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner=False)
def heap_settled() -> bool:
    """Once per server, at the first run: import what the pages will use, then settle the heap."""
    import plotly.graph_objects  # noqa: F401
    import skimage.metrics  # noqa: F401
    import sklearn.decomposition  # noqa: F401

    settle_heap()
    return True


def _warm_up_and_settle() -> None:
    warm_up_umap()
    settle_heap()  # umap and numba's compiled code are now in the heap too


@st.cache_resource(show_spinner=False)
def umap_warmup() -> threading.Thread | None:
    """Compile UMAP's numba code in a background thread at start (~30 s once), so the first live map is quick."""
    if os.environ.get(WARMUP_ENV):
        return None
    # scikit-learn imported from two threads at once fails now and then with "partially initialized module
    # sklearn.base" (seen at server start: this thread importing umap while the first page imports sklearn)
    import sklearn.base  # noqa: F401
    import sklearn.decomposition  # noqa: F401

    thread = threading.Thread(target=_warm_up_and_settle, name="umap-warmup", daemon=True)
    thread.start()
    return thread


@st.cache_data(max_entries=64, show_spinner=False)
def gallery_strip(path: str, stamp: int, n: int = 8) -> tuple[np.ndarray | None, dict]:
    """(originals over reconstructions of the first n test images of the model's own dataset, its metrics)."""
    from ae.imagegrid import tile
    from ae.metrics import reconstruct

    m, meta = model(path, stamp)
    if m is None:
        return None, {}
    metrics = meta.get("metrics", {})
    ds_name = meta.get("dataset", {}).get("name", "")
    data, _ = dataset(ds_name) if ds_name else (None, None)
    if data is None or data.kind != "image" or tuple(data.input_shape) != tuple(m.cfg.input_shape):
        return None, metrics
    x = data.x_test[:n]
    both = np.concatenate([x.numpy(), reconstruct(m, x).numpy()])
    return tile(both, nrow=n, pad=2, scale=2), metrics


@st.cache_data(max_entries=48, show_spinner=False)
def plane(path: str, stamp: int, dataset_name: str, method: str, i: int = 0, j: int = 1):
    """(Plane, [N, 2] coordinates of the test codes on it) for a decodable map: PCA or two raw latent dims."""
    from ae.manifold import pca_plane, raw_plane

    z = codes(path, stamp, dataset_name)
    if method == "pca":
        return pca_plane(z)
    p = raw_plane(z, i, j)
    return p, z[:, [i, j]]


@st.cache_data(max_entries=64, show_spinner="Decoding the map…")
def decoded_grid(path: str, stamp: int, dataset_name: str, method: str, i: int, j: int, steps: int) -> np.ndarray:
    from ae.imagegrid import tile
    from ae.manifold import decode_points, grid_points

    m, _ = model(path, stamp)
    p, _ = plane(path, stamp, dataset_name, method, i, j)
    images = decode_points(m, p, grid_points(p.extent, steps))
    return tile(images, nrow=steps, pad=0, scale=2)


AXES = {"pca": ("PC 1", "PC 2"), "umap": ("UMAP 1", "UMAP 2"), "tsne": ("t-SNE 1", "t-SNE 2")}


@st.cache_resource(max_entries=64, show_spinner=False)
def map_figure(path: str, stamp: int, dataset_name: str, method: str, i: int, j: int, thumbs: bool):
    """The latent scatter as a ready figure, so a rerun caused by any other widget costs no figure building. Shared
    by every session (cache_resource, never mutated): st.cache_data would unpickle and revalidate it per rerun."""
    from ui.plots import latent_scatter

    data, _ = dataset(dataset_name)
    if method in ("pca", "raw"):
        _, coords = plane(path, stamp, dataset_name, method, i, j)
    else:
        coords, _ = latent_map(path, stamp, dataset_name, method)
    labels = data.y_test.numpy() if data.y_test is not None else None
    pictures = None
    if thumbs and data.kind == "image":
        pick = np.random.default_rng(0).choice(len(coords), size=min(120, len(coords)), replace=False)
        pictures = (pick, data.x_test[pick].numpy())
    axes = AXES.get(method, (f"z[{i}]", f"z[{j}]"))
    return latent_scatter(coords, labels, data.class_names, axes, pictures)


@st.cache_data(max_entries=64, show_spinner=False)
def prior_samples(path: str, stamp: int, temperature: float, seed: int, n: int = 64) -> np.ndarray:
    from ae.generate import sample_prior
    from ae.imagegrid import tile

    m, _ = model(path, stamp)
    return tile(sample_prior(m, n, temperature, seed), nrow=int(np.sqrt(n)), pad=1, scale=2)


@st.cache_data(max_entries=128, show_spinner=False)
def decoded(path: str, stamp: int, z: tuple[float, ...] | tuple[tuple[float, ...], ...]) -> np.ndarray:
    """Decode one code or a few (passed as tuples so they can key the cache)."""
    from ae.generate import decode_codes

    m, _ = model(path, stamp)
    arr = np.asarray(z, dtype=np.float32)
    return decode_codes(m, arr[None] if arr.ndim == 1 else arr)


@st.cache_data(max_entries=512, show_spinner=False)
def reconstructed(path: str, stamp: int, dataset_name: str, indices: tuple[int, ...]) -> np.ndarray:
    """Reconstructions of a few test images (e.g. an interpolation's two ends), computed once per choice."""
    from ae.metrics import reconstruct

    m, _ = model(path, stamp)
    data, _ = dataset(dataset_name)
    return reconstruct(m, data.x_test[list(indices)]).numpy()


@st.cache_data(max_entries=2048, show_spinner=False)
def probe_image(path: str, stamp: int, dataset_name: str, method: str, i: int, j: int, x: float, y: float):
    """The image decoded at one place of a decodable map; slider positions repeat, so most moves are cache hits."""
    from ae.manifold import decode_points

    m, _ = model(path, stamp)
    p, _ = plane(path, stamp, dataset_name, method, i, j)
    return decode_points(m, p, np.array([[x, y]], dtype=np.float32))[0]


@st.cache_data(max_entries=64, show_spinner="Adding noise and denoising…")
def denoise_result(path: str, stamp: int, dataset_name: str, kind: str, level: float, n: int = 200):
    from ae.denoise import denoise

    m, _ = model(path, stamp)
    data, _ = dataset(dataset_name)
    return denoise(m, data.x_test[:n], kind, level)


@st.cache_data(max_entries=64, show_spinner="Measuring PSNR across noise levels…")
def psnr_curve(path: str, stamp: int, dataset_name: str, kind: str, n: int = 200) -> dict:
    from ae.denoise import psnr_curve as curve

    m, _ = model(path, stamp)
    data, _ = dataset(dataset_name)
    levels = [round(v, 2) for v in np.arange(0.0, 0.61 if kind == "gaussian" else 0.51, 0.05)]
    return curve(m, data.x_test[:n], kind, levels)


@st.cache_resource(max_entries=256, show_spinner=False)
def psnr_figure(models: tuple[tuple[str, str, int], ...], dataset_name: str, kind: str, level: float, label: str,
                n: int = 200):
    """PSNR against noise level for (name, path, stamp) models, with a line at the current level. A shared object
    (cache_resource): the figure is built once per view, not unpickled and revalidated on every rerun."""
    from ui.plots import psnr_levels_chart

    curves = {name: psnr_curve(path, stamp, dataset_name, kind, n) for name, path, stamp in models}
    return psnr_levels_chart(curves, level, label)


@st.cache_resource(max_entries=20, show_spinner=False)
def one_class(dataset_name: str, normal: int):
    """A small model trained on one class alone (seconds on a CPU), evaluated on the whole test split. Shared by
    every session: the same digit is trained once per server."""
    from ae.anomaly import evaluate_one_class, train_one_class

    data, _ = dataset(dataset_name)
    t0 = time.perf_counter()
    m = train_one_class(data, normal, device=str(pick_device()))
    return evaluate_one_class(m, data, normal, time.perf_counter() - t0)


@st.cache_resource(show_spinner=False)
def job_queue():
    """This server process's door to the training cluster (a local Dask cluster, or $LATENT_LAB_SCHEDULER's); it
    connects in the background, so the app opens at once and the Train page says if training is unavailable."""
    from ae.jobs import JobQueue

    return JobQueue(warm_up=not os.environ.get(WARMUP_ENV))
