"""The one module with st.cache_* functions, so every page and session shares the loaded objects.

Resources (datasets, models) are shared by every session: they are loaded in eval mode and never mutated. What takes
more than a moment for a model and a dataset is an analysis (`ui.analysis`), computed once by the analysis worker
and read here; what is cached here is only what a page shows of it: a few images reconstructed or decoded on demand
(milliseconds each), figures built once, tables assembled from stored rows. Keys are plain strings plus the weights'
modification stamp, so new weights never hit old results.
"""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from ae import settings
from ae.data.sources import Dataset, DatasetUnavailable, load_dataset
from ae.device import describe_device, pick_device
from ae.errors import InputError
from ae.models.base import Autoencoder
from ae.store.catalog import ModelEntry, list_catalog
from ae.store.checkpoints import CheckpointError
from ae.store.checkpoints import load_model as read_checkpoint
from ui.analysis import floats, stored


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
    `forget_failed_datasets` (the Retry button) clears them. The fingerprint (which keys its analyses) is taken once
    here."""
    try:
        data = load_dataset(name)
        _ = data.fingerprint
        return data, ""
    except (DatasetUnavailable, InputError, OSError) as e:
        return None, str(e)


def forget_failed_datasets() -> None:
    _builtin_outcome.clear()


@st.cache_resource(ttl=3, show_spinner=False)
def catalog() -> tuple[ModelEntry, ...]:
    """Every model this server offers, listed again after 3 s (a model trained by any app process shows up). Shared,
    not copied: frozen entries in a tuple (st.cache_data unpickled the list on each of a run's reads)."""
    return tuple(list_catalog())


@st.cache_resource(max_entries=24, show_spinner="Loading the model…")
def load_model(path: str, stamp: int) -> tuple[Autoencoder, dict]:
    """(model in eval mode on the best device, its metadata); CheckpointError says why it cannot load."""
    try:
        return read_checkpoint(path, device=pick_device())
    except OSError as e:
        raise CheckpointError(f"{Path(path).name} cannot be read ({e.__class__.__name__}: {e})") from e


@st.cache_data(max_entries=256, show_spinner=False)
def model_meta(path: str, stamp: int) -> dict:
    """A model's JSON (validated), without its weights: what a table of models needs."""
    from ae.store.checkpoints import read_meta

    try:
        return read_meta(path)
    except CheckpointError:
        return {}


def loads(path: str, stamp: int) -> bool:
    try:
        load_model(path, stamp)
        return True
    except CheckpointError:
        return False


def _analysis(key: str, path: str | None, dataset_name: str):
    """A stored analysis the page has already waited for (ui.analysis.need); a bug, not a wait, if missing."""
    found = stored(key, path, open_dataset(dataset_name))
    if found is None:
        raise RuntimeError(f"the {key} analysis of {path} on {dataset_name} is not stored; the page must need() it")
    return found


def settle_heap() -> None:
    """Collect, then move every object alive now (torch, plotly and their modules: millions) into Python's permanent
    generation. Without it the automatic full collection walks them all, 0.4-0.5 s with the GIL held every 10-20 s
    under a class's load (measured with gc.callbacks), and every session waits."""
    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner=False)
def heap_settled() -> bool:
    """Once per server, at the first run: import what the pages will use, then settle the heap."""
    import plotly.graph_objects  # noqa: F401
    import sklearn.decomposition  # noqa: F401

    settle_heap()
    return True


@st.cache_resource(show_spinner=False)
def job_queue():
    """This server process's door to the cluster (a local Dask cluster, or $LATENT_LAB_SCHEDULER's): training jobs and
    the analysis worker. It connects in the background, so the app opens at once and the Train page says if training
    is unavailable."""
    from ae.run.jobs import JobQueue

    return JobQueue(warm_up=settings.warm_up())


# ---------------------------------------------------------------- what pages show of a model, on demand


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
    x = data.test_x(slice(0, n))
    both = np.concatenate([x.numpy(), reconstruct(m, x).numpy()])
    return tile(both, nrow=n, pad=2, scale=2), metrics


@st.cache_data(max_entries=512, show_spinner=False)
def reconstruct_images(path: str, stamp: int, dataset_name: str, indices: tuple[int, ...]) -> np.ndarray:
    """Reconstructions of the test images a page shows ([K, *input_shape] floats): milliseconds, once per choice."""
    from ae.explore.metrics import reconstruct

    m, _ = load_model(path, stamp)
    data = open_dataset(dataset_name)
    return reconstruct(m, data.x_test[list(indices)]).numpy()


def test_codes(path: str, dataset_name: str) -> np.ndarray:
    """[N, latent] codes of the test split, from the stored maps analysis."""
    return floats(_analysis("maps", path, dataset_name).arrays["codes"])


def test_errors(path: str, dataset_name: str) -> np.ndarray:
    """[N] reconstruction MSE of every test sample, from the stored recon analysis."""
    return _analysis("recon", path, dataset_name).arrays["mse"]


@st.cache_data(max_entries=64, show_spinner="Bootstrapping the difference…")
def paired_comparison(a: str, a_stamp: int, b: str, b_stamp: int, dataset_name: str) -> pd.DataFrame:
    """Model A against model B on every test image, per metric and class, with bootstrap intervals (a second at most
    on 10,000 images; once per pair). The stamps key the cache on the weights."""
    from ae.explore.analysis import ReconReport
    from ae.explore.paired import paired_table

    data = open_dataset(dataset_name)
    ra, rb = (ReconReport.of(_analysis("recon", p, dataset_name).arrays) for p in (a, b))
    labels = data.y_test.numpy() if data.y_test is not None else None
    return paired_table(ra, rb, labels, data.class_names)


@st.cache_data(max_entries=32, show_spinner="Aligning the maps and comparing neighbourhoods…")
def twin_maps(a: str, a_stamp: int, b: str, b_stamp: int, dataset_name: str, method: str):
    """(A's map, B's map aligned onto A's, their Agreement) of the same test images (ae.explore.agreement): kNN over
    the codes, a second or two on 10,000 images, once per pair and map."""
    from ae.explore.agreement import agreement, align

    map_a, map_b = (map_coords(p, s, dataset_name, method) for p, s in ((a, a_stamp), (b, b_stamp)))
    return map_a, align(map_a, map_b), agreement(test_codes(a, dataset_name), test_codes(b, dataset_name),
                                                 map_a, map_b)


def decision_numbers(path: str, arch: str, dataset_name: str) -> dict:
    """Compare's decision columns from whatever of the model's probes, compress, detector and speed analyses is
    stored (None for the rest: the page shows their progress)."""
    from ae.explore.decision import decision_kinds
    from ae.explore.decision import decision_numbers as numbers

    data = open_dataset(dataset_name)
    return numbers({k: getattr(stored(k, path, data), "info", None) for k in decision_kinds(arch, data)})


def timed_on(paths: list[str], dataset_name: str) -> list[str]:
    """Where the stored inference timings of these models were taken (each machine once, in order)."""
    data = open_dataset(dataset_name)
    return list(dict.fromkeys(a.info["machine"] for p in paths if (a := stored("speed", p, data)) is not None))


@st.cache_data(max_entries=48, show_spinner=False)
def fit_plane(path: str, stamp: int, dataset_name: str, method: str, i: int = 0, j: int = 1):
    """(Plane, [N, 2] coordinates of the test codes on it) for a decodable map: PCA or two raw latent dims (a PCA of
    the stored codes: milliseconds)."""
    from ae.explore.manifold import pca_plane, raw_plane

    z = test_codes(path, dataset_name)
    if method == "pca":
        return pca_plane(z)
    p = raw_plane(z, i, j)
    return p, z[:, [i, j]]


def map_coords(path: str, stamp: int, dataset_name: str, method: str, i: int = 0, j: int = 1) -> np.ndarray:
    """[N, 2] places of the test codes on a map: the decodable plane's, or the stored UMAP / t-SNE map."""
    if method in ("pca", "raw"):
        return fit_plane(path, stamp, dataset_name, method, i, j)[1]
    return floats(_analysis("maps", path, dataset_name).arrays[method])


def map_origin(path: str, dataset_name: str, method: str) -> str:
    """Where a map's points come from, in words, with what was fitted on how many codes."""
    if method in ("pca", "raw"):
        return "computed from the codes (exact; new points land exactly)"
    info = _analysis("maps", path, dataset_name).info
    n, fitted = info.get("n", 0), info.get("fitted", {}).get(method, 0)
    took = info.get("seconds", {}).get(method)
    name = {"umap": "UMAP", "tsne": "t-SNE"}[method]
    part = (f"{name} fitted on all {n:,} codes" if fitted >= n else
            f"{name} fitted on a seeded {fitted:,} of the {n:,} codes; the other {n - fitted:,} are placed at the "
            "distance-weighted mean of their 10 nearest fitted neighbours")
    return part + (f", computed once in {took:.0f} s" if took else "")


AXES = {"pca": ("PC 1", "PC 2"), "umap": ("UMAP 1", "UMAP 2"), "tsne": ("t-SNE 1", "t-SNE 2")}
MAP_METHODS = {"PCA": "pca", "UMAP": "umap", "t-SNE": "tsne", "Raw latent dims": "raw"}  # what the pages call them


def map_choices(latent: int) -> tuple[list[str], str]:
    """(the maps a model with this latent size can be placed on, the default): raw dims only for a 2-D code."""
    return [name for name, m in MAP_METHODS.items() if m != "raw" or latent == 2], \
        "Raw latent dims" if latent == 2 else "PCA"


@st.cache_resource(max_entries=64, show_spinner="Drawing the map…")
def draw_map(path: str, stamp: int, dataset_name: str, method: str, i: int, j: int, thumbs: bool):
    """The latent scatter as a ready figure, so a rerun caused by any other widget costs no figure building. Shared
    by every session (cache_resource, never mutated): st.cache_data would unpickle and revalidate it per rerun."""
    from ae.explore.embed import thumbnail_sample
    from ui.plots import latent_scatter

    data = open_dataset(dataset_name)
    coords = map_coords(path, stamp, dataset_name, method, i, j)
    labels = data.y_test.numpy() if data.y_test is not None else None
    pictures = None
    if thumbs and data.kind == "image":
        pick = thumbnail_sample(len(coords))
        pictures = (pick, data.test_x(pick).numpy())
    axes = AXES.get(method, (f"z[{i}]", f"z[{j}]"))
    return latent_scatter(coords, labels, data.class_names, axes, pictures)


@st.cache_data(max_entries=64, show_spinner="Decoding the map…")
def decode_grid(path: str, stamp: int, dataset_name: str, method: str, i: int, j: int, steps: int) -> np.ndarray:
    from ae.explore.imagegrid import tile
    from ae.explore.manifold import decode_points, grid_points

    m, _ = load_model(path, stamp)
    p, _ = fit_plane(path, stamp, dataset_name, method, i, j)
    images = decode_points(m, p, grid_points(p.extent, steps))
    return tile(images, nrow=steps, pad=0, scale=2)


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


@st.cache_data(max_entries=2048, show_spinner=False)
def decode_probe(path: str, stamp: int, dataset_name: str, method: str, i: int, j: int, x: float, y: float):
    """The image decoded at one place of a decodable map; slider positions repeat, so most moves are cache hits."""
    from ae.explore.manifold import decode_points

    m, _ = load_model(path, stamp)
    p, _ = fit_plane(path, stamp, dataset_name, method, i, j)
    return decode_points(m, p, np.array([[x, y]], dtype=np.float32))[0]


# ---------------------------------------------------------------- Denoise


@st.cache_data(max_entries=64, show_spinner=False)
def denoise_examples(path: str, stamp: int, dataset_name: str, kind: str, level: float, measured: int, shown: int):
    """(noisy, denoised) of the first `shown` of the `measured` test images the stored scores were taken on: the
    same seeded noise, so the pictures are the measured ones."""
    from ae.explore.denoise import examples

    m, _ = load_model(path, stamp)
    return examples(m, open_dataset(dataset_name).test_x(slice(0, measured)), kind, level, shown)


def noise_scores(path: str, dataset_name: str, kind: str) -> pd.DataFrame:
    """Stored PSNR and SSIM of noisy inputs and of the model's outputs at every level of one noise type."""
    a = _analysis("denoise", path, dataset_name)
    return pd.DataFrame(a.arrays[kind], columns=a.info["columns"])


def noise_scores_at(path: str, dataset_name: str, kind: str, level: float) -> pd.Series:
    """The stored scores at the measured level nearest to `level`."""
    t = noise_scores(path, dataset_name, kind)
    return t.iloc[int((t["level"] - level).abs().argmin())]


@st.cache_resource(max_entries=256, show_spinner=False)
def draw_psnr_chart(models: tuple[tuple[str, str, int], ...], dataset_name: str, kind: str, level: float, label: str):
    """PSNR against noise level for (name, path, stamp) models whose scores are stored, with a line at the current
    level. A shared object (cache_resource): the figure is built once per view, not unpickled on every rerun."""
    from ui.plots import psnr_levels_chart

    curves = {}
    for name, path, _stamp in models:
        t = noise_scores(path, dataset_name, kind)
        curves[name] = {"level": t["level"].tolist(), "noisy": t["psnr_noisy"].tolist(),
                        "denoised": t["psnr_denoised"].tolist()}
    return psnr_levels_chart(curves, level, label)


# ---------------------------------------------------------------- Anomalies


@st.cache_resource(max_entries=32, show_spinner=False)
def one_class_model(dataset_name: str, normal: int):
    """The stored one-class model of `normal`, rebuilt to score a picture someone uploads (shared, never trained)."""
    from ae.explore.anomaly import rebuild_one_class

    return rebuild_one_class(_analysis(f"oneclass-{normal}", None, dataset_name))


# ---------------------------------------------------------------- Compress


def rate_distortion_rows(models: tuple[tuple[str, str, int], ...], dataset_name: str, pca_k: int) -> pd.DataFrame:
    """The Compress page's table from stored analyses: each model's code (named as the page names it), PCA with
    pca_k coefficients, JPEG and WebP."""
    rows = []
    for name, path, _stamp in models:
        rows += [{**r, "method": name} for r in _analysis("compress", path, dataset_name).info["rows"]]
    rows += _analysis(f"pca-{pca_k}", None, dataset_name).info["rows"]
    rows += _analysis("codecs", None, dataset_name).info["rows"]
    return pd.DataFrame(rows)


@st.cache_data(max_entries=64, show_spinner="Encoding at this budget…")
def compress_side_by_side(models: tuple[tuple[str, str, int], ...], dataset_name: str, pca_k: int,
                          indices: tuple[int, ...], budget: float):
    """The same few test images through every coder at one byte budget (milliseconds: the code ranges and the PCA
    basis are stored)."""
    from ae.explore.compress import model_coder, pca_coder, side_by_side

    data = open_dataset(dataset_name)
    coders = []
    for name, path, stamp in models:
        a = _analysis("compress", path, dataset_name)
        coders.append(model_coder(name, load_model(path, stamp)[0], a.arrays["train_lo"], a.arrays["train_hi"]))
    p = _analysis(f"pca-{pca_k}", None, dataset_name)
    coders.append(pca_coder(f"PCA {p.info['k']}", p.arrays["mean"], p.arrays["components"], p.arrays["train_lo"],
                            p.arrays["train_hi"]))
    return side_by_side(coders, data.test_x(list(indices)), budget)


# ---------------------------------------------------------------- Features


def probe_table(models: tuple[tuple[str, str, int], ...], dataset_name: str, pca_k: int) -> pd.DataFrame:
    """Every probe's accuracy, from stored analyses: each model's codes, PCA with pca_k dimensions, the raw inputs."""
    rows = []
    for name, path, _stamp in models:
        rows += [{**r, "features": name} for r in _analysis("probes", path, dataset_name).info["rows"]]
    rows += _analysis(f"pca-{pca_k}", None, dataset_name).info.get("probe_rows", [])
    rows += _analysis("raw-probes", None, dataset_name).info["rows"]
    return pd.DataFrame(rows)


def probe_matrices(models: tuple[tuple[str, str, int], ...], dataset_name: str, pca_k: int) -> dict[str, np.ndarray]:
    """The stored confusion matrices per feature set (as `probe_table` names them)."""
    out = {name: _analysis("probes", path, dataset_name).arrays["confusion"] for name, path, _stamp in models}
    p = _analysis(f"pca-{pca_k}", None, dataset_name)
    out[f"PCA {p.info['k']}"] = p.arrays["confusion"]
    out["raw inputs"] = _analysis("raw-probes", None, dataset_name).arrays["confusion"]
    return out


def test_features(models: tuple[tuple[str, str, int], ...], dataset_name: str, pca_k: int, features: str):
    """One feature set of the test split ([N, D]), for the CSV download: a model's stored codes, PCA's projection
    with the stored basis, or the raw inputs."""
    data = open_dataset(dataset_name)
    for name, path, _stamp in models:
        if name == features:
            return test_codes(path, dataset_name)
    if features.startswith("PCA"):
        p = _analysis(f"pca-{pca_k}", None, dataset_name)
        return (data.test_x().flatten(1).numpy() - p.arrays["mean"]) @ p.arrays["components"].T
    return data.test_x().flatten(1).numpy()


# ---------------------------------------------------------------- the training film and Draw


@st.cache_data(max_entries=128, show_spinner=False)
def film_size(path: str, stamp: int, dataset_name: str) -> tuple[int, int] | None:
    """(epochs, test images) of the model's training recording on this dataset, or None when it has none."""
    from ae.store.recording import load_recording

    _, meta = load_model(path, stamp)
    rec = load_recording(path) if meta.get("dataset", {}).get("name") == dataset_name else None
    if rec is None or rec[1].max(initial=-1) >= len(open_dataset(dataset_name).x_test):
        return None
    return int(rec[0].shape[0]), int(rec[0].shape[1])


def learning_film(path: str, stamp: int, dataset_name: str) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The model's training recording on this dataset: (frames [epochs, n, 2], the n images' labels), or None when it
    has none. Keyed by the recording file's time too: a model is listed as soon as its JSON is written."""
    from ae.store.recording import recording_path

    rec = recording_path(path)
    return _learning_film(path, stamp, dataset_name, rec.stat().st_mtime_ns if rec.exists() else 0)


@st.cache_resource(max_entries=32, show_spinner="Reading the training film…")
def _learning_film(path: str, stamp: int, dataset_name: str, rec_stamp: int):
    """Shared by every session (cache_resource: the arrays are made read-only)."""
    from ae.store.recording import load_recording

    _, meta = load_model(path, stamp)
    if meta.get("dataset", {}).get("name") != dataset_name:
        return None
    rec = load_recording(path)
    data = open_dataset(dataset_name)
    if rec is None or rec[1].max(initial=-1) >= len(data.x_test):
        return None
    frames, index = rec
    labels = data.y_test.numpy()[index] if data.y_test is not None else None
    for a in (frames, labels):
        if a is not None:
            a.setflags(write=False)
    return frames, labels


def read_drawing_on(path: str, stamp: int, dataset_name: str, x):
    """What the model makes of one drawn image, against the test split's stored codes and errors (the drawing
    itself is new at every stroke, so this is not cached: one forward pass)."""
    from ae.explore.drawing import read_drawing

    m, _ = load_model(path, stamp)
    return read_drawing(m, x, test_codes(path, dataset_name), test_errors(path, dataset_name))


def drawing_path(path: str, stamp: int, start, target) -> np.ndarray:
    from ae.explore.drawing import path_to

    m, _ = load_model(path, stamp)
    return path_to(m, start, target)


@st.cache_data(max_entries=32, show_spinner=False)
def drawing_fill(dataset_name: str) -> float:
    """How much of the side this dataset's drawings span, so a drawing is framed like them (MNIST 20/28)."""
    from ae.data.imageio import typical_fill

    return typical_fill(open_dataset(dataset_name).test_x(slice(0, 2000)))


@st.cache_resource(show_spinner=False)
def teacher_gate(passcode: str):
    """This process's one passcode gate (ui/teacher.py): every tab's wrong tries count against the same limits."""
    from ui.teacher import Gate

    return Gate(passcode)


@st.cache_resource(show_spinner=False)
def class_channel():
    """This process's end of the class's channel (ui/follow.py), on the training cluster's scheduler."""
    from ae.run.broadcast import ClassChannel

    def client():
        queue = job_queue()
        return queue.client if queue.wait_ready(120) else None

    return ClassChannel(client)


@st.cache_resource(ttl=5, show_spinner=False)
def lessons():
    """(the lessons in lessons/ by key, the files that cannot be used with why), read again after 5 s: a teacher
    editing a lesson sees the change without a restart."""
    from ui.lessons import read_lessons

    return read_lessons()
