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
from pathlib import Path

import numpy as np
import streamlit as st

from ae.data.sources import Dataset, DatasetUnavailable, load_dataset
from ae.errors import InputError
from ae.explore.analysis import ReconReport, reconstruction_report
from ae.explore.embed import embed_2d, thumbnail_sample, warm_up_umap
from ae.explore.metrics import encode
from ae.models.base import Autoencoder
from ae.run.device import describe_device, pick_device
from ae.store.catalog import ModelEntry, list_catalog
from ae.store.checkpoints import CheckpointError
from ae.store.checkpoints import load_model as read_checkpoint
from ae.store.maps import load_maps

WARMUP_ENV = "LATENT_LAB_NO_WARMUP"


@st.cache_resource(show_spinner=False)
def device_name() -> str:
    return describe_device(pick_device())


def open_dataset(name: str) -> Dataset:
    """The dataset by name: this session's upload or a built-in one. Raises DatasetUnavailable (saying what is missing
    and where to put it) or InputError."""
    from ui.uploads import my_uploads

    if name in my_uploads():
        return my_uploads()[name]
    if name.endswith(")") and " (upload " in name:
        raise DatasetUnavailable("this upload is gone (its session ended or the server restarted); upload the file "
                                 "again on the Train page")
    data, error = _builtin_outcome(name)
    if data is None:
        raise DatasetUnavailable(error)
    return data


@st.cache_resource(show_spinner="Loading the dataset…")
def _builtin_outcome(name: str) -> tuple[Dataset | None, str]:
    """Failures are cached too, so an offline machine does not retry the network on every rerun;
    `forget_failed_datasets` (the Retry button) clears them."""
    try:
        return load_dataset(name), ""
    except (DatasetUnavailable, InputError, OSError) as e:
        return None, str(e)


def forget_failed_datasets() -> None:
    _builtin_outcome.clear()


@st.cache_data(ttl=3, show_spinner=False)
def catalog() -> list[ModelEntry]:
    return list_catalog()


@st.cache_resource(max_entries=24, show_spinner="Loading the model…")
def load_model(path: str, stamp: int) -> tuple[Autoencoder, dict]:
    """(model in eval mode on the best device, its metadata); CheckpointError says why it cannot load."""
    try:
        return read_checkpoint(path, device=pick_device())
    except OSError as e:
        raise CheckpointError(f"{Path(path).name} cannot be read ({e.__class__.__name__}: {e})") from e


def loads(path: str, stamp: int) -> bool:
    try:
        load_model(path, stamp)
        return True
    except CheckpointError:
        return False


@st.cache_data(max_entries=48, show_spinner="Reconstructing the test images…")
def reconstruct_test_split(path: str, stamp: int, dataset_name: str) -> ReconReport:
    m, _ = load_model(path, stamp)
    return reconstruction_report(m, open_dataset(dataset_name).x_test)


def _stored_maps(path: str, stamp: int, dataset_name: str) -> dict[str, np.ndarray] | None:
    """The model's maps file, when it was made on this dataset with these weights."""
    _, meta = load_model(path, stamp)
    if meta.get("dataset", {}).get("name") != dataset_name:
        return None
    return load_maps(path)


def _stored(path: str, stamp: int, dataset_name: str, key: str) -> np.ndarray | None:
    """One array from the model's maps file (see _stored_maps)."""
    stored = _stored_maps(path, stamp, dataset_name)
    return stored.get(key) if stored is not None else None


@st.cache_data(max_entries=48, show_spinner="Encoding the test images…")
def encode_test_split(path: str, stamp: int, dataset_name: str) -> np.ndarray:
    """The test split's codes, from the precomputed maps file when it matches these weights and data."""
    stored = _stored(path, stamp, dataset_name, "codes")
    if stored is not None:
        return stored
    m, _ = load_model(path, stamp)
    return encode(m, open_dataset(dataset_name).x_test).numpy()


@st.cache_data(max_entries=96, show_spinner=False)
def map_test_codes(path: str, stamp: int, dataset_name: str, method: str) -> tuple[np.ndarray, str]:
    """([N, 2] map of the test codes, where it came from). Shipped maps load instantly; others are computed once."""
    stored = _stored(path, stamp, dataset_name, method)
    if stored is not None:
        return stored, "precomputed with the model"
    t0 = time.perf_counter()
    coords = embed_2d(encode_test_split(path, stamp, dataset_name), method)
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
def draw_gallery_strip(path: str, stamp: int, n: int = 8) -> tuple[np.ndarray | None, dict]:
    """(originals over reconstructions of the first n test images of the model's own dataset, its metrics)."""
    from ae.explore.imagegrid import tile
    from ae.explore.metrics import reconstruct

    try:
        m, meta = load_model(path, stamp)
    except CheckpointError:
        return None, {}
    metrics = meta.get("metrics", {})
    try:
        data = open_dataset(meta.get("dataset", {}).get("name", ""))
    except (DatasetUnavailable, InputError):
        return None, metrics
    if data.kind != "image" or tuple(data.input_shape) != tuple(m.cfg.input_shape):
        return None, metrics
    x = data.x_test[:n]
    both = np.concatenate([x.numpy(), reconstruct(m, x).numpy()])
    return tile(both, nrow=n, pad=2, scale=2), metrics


@st.cache_data(max_entries=48, show_spinner=False)
def fit_plane(path: str, stamp: int, dataset_name: str, method: str, i: int = 0, j: int = 1):
    """(Plane, [N, 2] coordinates of the test codes on it) for a decodable map: PCA or two raw latent dims."""
    from ae.explore.manifold import pca_plane, raw_plane

    z = encode_test_split(path, stamp, dataset_name)
    if method == "pca":
        return pca_plane(z)
    p = raw_plane(z, i, j)
    return p, z[:, [i, j]]


@st.cache_data(max_entries=64, show_spinner="Decoding the map…")
def decode_grid(path: str, stamp: int, dataset_name: str, method: str, i: int, j: int, steps: int) -> np.ndarray:
    from ae.explore.imagegrid import tile
    from ae.explore.manifold import decode_points, grid_points

    m, _ = load_model(path, stamp)
    p, _ = fit_plane(path, stamp, dataset_name, method, i, j)
    images = decode_points(m, p, grid_points(p.extent, steps))
    return tile(images, nrow=steps, pad=0, scale=2)


AXES = {"pca": ("PC 1", "PC 2"), "umap": ("UMAP 1", "UMAP 2"), "tsne": ("t-SNE 1", "t-SNE 2")}
MAP_METHODS = {"PCA": "pca", "UMAP": "umap", "t-SNE": "tsne", "Raw latent dims": "raw"}  # what the pages call them


@st.cache_resource(max_entries=64, show_spinner=False)
def draw_map(path: str, stamp: int, dataset_name: str, method: str, i: int, j: int, thumbs: bool):
    """The latent scatter as a ready figure, so a rerun caused by any other widget costs no figure building. Shared
    by every session (cache_resource, never mutated): st.cache_data would unpickle and revalidate it per rerun."""
    from ui.plots import latent_scatter

    data = open_dataset(dataset_name)
    if method in ("pca", "raw"):
        _, coords = fit_plane(path, stamp, dataset_name, method, i, j)
    else:
        coords, _ = map_test_codes(path, stamp, dataset_name, method)
    labels = data.y_test.numpy() if data.y_test is not None else None
    pictures = None
    if thumbs and data.kind == "image":
        pick = thumbnail_sample(len(coords))
        pictures = (pick, data.x_test[pick].numpy())
    axes = AXES.get(method, (f"z[{i}]", f"z[{j}]"))
    return latent_scatter(coords, labels, data.class_names, axes, pictures)


@st.cache_data(max_entries=64, show_spinner=False)
def sample_prior_grid(path: str, stamp: int, temperature: float, seed: int, n: int = 64) -> np.ndarray:
    from ae.explore.generate import sample_prior
    from ae.explore.imagegrid import tile

    m, _ = load_model(path, stamp)
    return tile(sample_prior(m, n, temperature, seed), nrow=int(np.sqrt(n)), pad=1, scale=2)


@st.cache_data(max_entries=128, show_spinner=False)
def decode(path: str, stamp: int, z: tuple[float, ...] | tuple[tuple[float, ...], ...]) -> np.ndarray:
    """Decode one code or a few (passed as tuples so they can key the cache)."""
    from ae.explore.generate import decode_codes

    m, _ = load_model(path, stamp)
    arr = np.asarray(z, dtype=np.float32)
    return decode_codes(m, arr[None] if arr.ndim == 1 else arr)


@st.cache_data(max_entries=512, show_spinner=False)
def reconstruct_images(path: str, stamp: int, dataset_name: str, indices: tuple[int, ...]) -> np.ndarray:
    """Reconstructions of a few test images (e.g. an interpolation's two ends), computed once per choice."""
    from ae.explore.metrics import reconstruct

    m, _ = load_model(path, stamp)
    data = open_dataset(dataset_name)
    return reconstruct(m, data.x_test[list(indices)]).numpy()


@st.cache_data(max_entries=2048, show_spinner=False)
def decode_probe(path: str, stamp: int, dataset_name: str, method: str, i: int, j: int, x: float, y: float):
    """The image decoded at one place of a decodable map; slider positions repeat, so most moves are cache hits."""
    from ae.explore.manifold import decode_points

    m, _ = load_model(path, stamp)
    p, _ = fit_plane(path, stamp, dataset_name, method, i, j)
    return decode_points(m, p, np.array([[x, y]], dtype=np.float32))[0]


@st.cache_data(max_entries=64, show_spinner="Adding noise and denoising…")
def denoise_test_images(path: str, stamp: int, dataset_name: str, kind: str, level: float, n: int = 200):
    from ae.explore.denoise import denoise

    m, _ = load_model(path, stamp)
    data = open_dataset(dataset_name)
    return denoise(m, data.x_test[:n], kind, level)


@st.cache_data(max_entries=64, show_spinner="Measuring PSNR across noise levels…")
def measure_psnr_curve(path: str, stamp: int, dataset_name: str, kind: str, n: int = 200) -> dict:
    from ae.explore.denoise import psnr_curve as curve

    m, _ = load_model(path, stamp)
    data = open_dataset(dataset_name)
    return curve(m, data.x_test[:n], kind)


@st.cache_resource(max_entries=256, show_spinner=False)
def draw_psnr_chart(models: tuple[tuple[str, str, int], ...], dataset_name: str, kind: str, level: float, label: str,
                n: int = 200):
    """PSNR against noise level for (name, path, stamp) models, with a line at the current level. A shared object
    (cache_resource): the figure is built once per view, not unpickled and revalidated on every rerun."""
    from ui.plots import psnr_levels_chart

    curves = {name: measure_psnr_curve(path, stamp, dataset_name, kind, n) for name, path, stamp in models}
    return psnr_levels_chart(curves, level, label)


@st.cache_resource(max_entries=20, show_spinner=False)
def train_one_class_model(dataset_name: str, normal: int):
    """A small model trained on one class alone (seconds on a CPU), evaluated on the whole test split. Shared by
    every session: the same digit is trained once per server."""
    from ae.explore.anomaly import evaluate_one_class, train_one_class

    data = open_dataset(dataset_name)
    t0 = time.perf_counter()
    m = train_one_class(data, normal, device=str(pick_device()))
    return evaluate_one_class(m, data, normal, time.perf_counter() - t0)


@st.cache_resource(show_spinner=False)
def job_queue():
    """This server process's door to the training cluster (a local Dask cluster, or $LATENT_LAB_SCHEDULER's); it
    connects in the background, so the app opens at once and the Train page says if training is unavailable."""
    from ae.run.jobs import JobQueue

    return JobQueue(warm_up=not os.environ.get(WARMUP_ENV))


@st.cache_data(max_entries=32, show_spinner="Measuring bytes and quality for every method…")
def measure_rate_distortion(models: tuple[tuple[str, str, int], ...], dataset_name: str, n: int):
    """The Compress page's table for (name, path, stamp) models on the first n test images, computed once."""
    from ae.explore.compress import rate_distortion

    return rate_distortion({name: load_model(path, stamp)[0] for name, path, stamp in models},
                           open_dataset(dataset_name), n)


@st.cache_data(max_entries=64, show_spinner="Encoding at this budget…")
def compress_side_by_side(models: tuple[tuple[str, str, int], ...], dataset_name: str, indices: tuple[int, ...],
                          budget: float):
    from ae.explore.compress import side_by_side

    return side_by_side({name: load_model(path, stamp)[0] for name, path, stamp in models},
                        open_dataset(dataset_name), list(indices), budget)


@st.cache_resource(max_entries=16, show_spinner="Encoding both splits…")
def extract_features(models: tuple[tuple[str, str, int], ...], dataset_name: str):
    """(train, test) features per name for the Features page: each model's codes, PCA, the raw inputs. Shared,
    never mutated."""
    from ae.explore.features import feature_sets

    return feature_sets({name: load_model(path, stamp)[0] for name, path, stamp in models}, open_dataset(dataset_name))


@st.cache_data(max_entries=16, show_spinner="Fitting the probes (1 to all labels per class, three seeds)…")
def score_probes(models: tuple[tuple[str, str, int], ...], dataset_name: str):
    from ae.explore.features import probe_table

    return probe_table(extract_features(models, dataset_name), open_dataset(dataset_name))


@st.cache_data(max_entries=64, show_spinner=False)
def probe_confusion(models: tuple[tuple[str, str, int], ...], dataset_name: str, features: str, probe: str,
                    per_class: int | None):
    from ae.explore.features import confusion

    return confusion(extract_features(models, dataset_name), open_dataset(dataset_name), features, probe, per_class)


def learning_film(path: str, stamp: int, dataset_name: str):
    """The model's training recording as a ready animation, or None when it has none for this dataset. Keyed by the
    maps file's time too: a model is listed as soon as its JSON is written, seconds before its maps file."""
    from ae.store.maps import maps_path

    maps = maps_path(path)
    return _learning_film(path, stamp, dataset_name, maps.stat().st_mtime_ns if maps.exists() else 0)


@st.cache_resource(max_entries=32, show_spinner=False)
def _learning_film(path: str, stamp: int, dataset_name: str, maps_stamp: int):
    """Shared by every session (cache_resource, never mutated): a film of many frames takes a while to build."""
    from ae.explore.learning import recording
    from ui.plots import learning_animation

    rec = recording(_stored_maps(path, stamp, dataset_name))
    data = open_dataset(dataset_name)
    if rec is None or rec[1].max(initial=-1) >= len(data.x_test):
        return None
    frames, index = rec
    labels = data.y_test.numpy()[index] if data.y_test is not None else None
    return learning_animation(frames, labels, data.class_names)


@st.cache_data(max_entries=48, show_spinner=False)
def test_errors(path: str, stamp: int, dataset_name: str) -> np.ndarray:
    """Per-image reconstruction error over the test split: the distribution a new image's error is ranked in. Cached
    apart from the report: st.cache_data unpickles on every read, and the Draw page reads this at every stroke."""
    return reconstruct_test_split(path, stamp, dataset_name).mse


def read_drawing_on(path: str, stamp: int, dataset_name: str, x):
    """What the model makes of one drawn image, against the test split (the split's codes and errors are cached;
    the drawing itself is new at every stroke, so this is not)."""
    from ae.explore.drawing import read_drawing

    m, _ = load_model(path, stamp)
    return read_drawing(m, x, encode_test_split(path, stamp, dataset_name), test_errors(path, stamp, dataset_name))


def drawing_path(path: str, stamp: int, start, target) -> np.ndarray:
    from ae.explore.drawing import path_to

    m, _ = load_model(path, stamp)
    return path_to(m, start, target)


@st.cache_data(max_entries=32, show_spinner=False)
def drawing_fill(dataset_name: str) -> float:
    """How much of the side this dataset's drawings span, so a drawing is framed like them (MNIST 20/28)."""
    from ae.data.imageio import typical_fill

    return typical_fill(open_dataset(dataset_name).x_test)
