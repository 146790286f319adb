"""What is computed once and stored, so that a page only reads and draws: every kind of analysis, what it holds, and
the function that computes it.

Per model and dataset (`MODEL_KINDS`, in the order they are computed after training):
- recon: each test sample's MSE (and BCE, PSNR, SSIM for images): Reconstructions, Compare, Anomalies, Draw.
- maps: the test codes and their PCA, UMAP and t-SNE maps: Latent space, Draw, Generate, Train's download.
- denoise: PSNR and SSIM of noisy inputs and of the model's outputs at every noise type and level: Denoise.
- compress: the code's rate-distortion rows and its train range for quantising: Compress.
- probes: logistic and kNN-5 accuracy of the codes with 1 to all labels per class, and confusion matrices: Features.
Asked for by Compare only, never after training:
- detector-C: the model's own design trained afresh on class C alone, and its one-class AUROC; Compare's "one-class
  mean AUROC" is their mean (ten trainings: about half a minute a model on mnist-5k on a laptop's CPU).
- speed: milliseconds to encode and decode 1,000 test images on the analysis worker, and what that worker is.

Per dataset alone (`dataset_kinds`): oneclass-C (a small model trained on class C only, its scores of the test
split, ROC and AUROC: Anomalies), codecs (JPEG and WebP rows: Compress), pca-K (PCA with K components: its basis,
rate-distortion and probe rows: Compress, Features), raw-probes (probes on the raw inputs: Features).

Each compute function takes (model or None, data, parameter, progress) and returns an `Analysis`; `progress(f, text)`
is told how far it is (0..1) and what it does, which the page that waits shows. A kind's `version` is stamped in the
file, so a change to what a kind computes makes old files stale instead of wrong.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ae.data.sources import Dataset
from ae.errors import InputError
from ae.models.base import Autoencoder
from ae.store.analyses import Analysis

Progress = Callable[[float, str], None]
COMPRESS_IMAGES = 1000  # test images the rate-distortion curves are measured on (all of a smaller split)
DENOISE_IMAGES = 200  # test images the noise levels are measured on
ONE_CLASS_TRAIN = 1000  # training images of the normal class a one-class model sees at most


def quiet(_fraction: float, _text: str) -> None:
    pass


def scaled(progress: Progress, lo: float, hi: float) -> Progress:
    """A progress callback for one part of a longer computation, spanning lo..hi of it."""
    return lambda f, text: progress(lo + (hi - lo) * min(max(f, 0.0), 1.0), text)


def images_only(data: Dataset, what: str) -> None:
    if data.kind != "image":
        raise InputError(f"{data.name} is tabular: {what} is measured on images")


@dataclass(frozen=True)
class Kind:
    name: str
    title: str  # what the page waiting for it says is being computed
    compute: Callable[[Autoencoder | None, Dataset, str, Progress], Analysis]
    per_model: bool = True
    version: int = 1


# ---------------------------------------------------------------- per model


def recon(model: Autoencoder, data: Dataset, _param: str, progress: Progress) -> Analysis:
    from ae.explore.metrics import errors_per_sample

    progress(0.0, f"reconstructing {len(data.x_test):,} test samples")
    per = errors_per_sample(model, data.x_test, progress=lambda f: progress(f, f"reconstructing "
                                                                           f"{len(data.x_test):,} test samples"))
    return Analysis("recon", {k: v.astype(np.float32) for k, v in per.items()},
                    {"n": len(data.x_test), "summary": {k: float(np.mean(v)) for k, v in per.items()}})


def maps(model: Autoencoder, data: Dataset, _param: str, progress: Progress) -> Analysis:
    from ae.explore.embed import METHODS, embed_2d, fitted
    from ae.explore.metrics import encode

    progress(0.0, "encoding the test split")
    codes = encode(model, data.x_test).numpy()
    arrays: dict[str, np.ndarray] = {"codes": codes.astype(np.float16)}
    seconds: dict[str, float] = {}
    share = {"pca": 0.05, "umap": 0.35, "tsne": 0.55}  # of the time, roughly, on 10,000 codes
    done = 0.05
    if len(codes) >= 3:
        for method in METHODS:
            progress(done, f"the {method.upper() if method != 'tsne' else 't-SNE'} map of {len(codes):,} codes")
            t0 = time.perf_counter()
            arrays[method] = embed_2d(codes, method, threads=torch.get_num_threads()).astype(np.float16)
            seconds[method] = round(time.perf_counter() - t0, 2)
            done += share[method]
    return Analysis("maps", arrays, {"seconds": seconds, "n": len(codes),
                                     "fitted": {m: fitted(len(codes), m) for m in seconds}})


def denoise(model: Autoencoder, data: Dataset, _param: str, progress: Progress) -> Analysis:
    from ae.data.noise import NOISES
    from ae.explore.denoise import level_grid, measure

    images_only(data, "denoising")
    clean = data.test_x(slice(0, DENOISE_IMAGES))
    arrays: dict[str, np.ndarray] = {}
    jobs = [(kind, level) for kind in NOISES for level in level_grid(kind)]
    rows: dict[str, list[list[float]]] = {kind: [] for kind in NOISES}
    for i, (kind, level) in enumerate(jobs):
        progress(i / len(jobs), f"{kind.replace('_', ' ')} noise at level {level:.2f}")
        r = measure(model, clean, kind, level)
        rows[kind].append([level, r.psnr_noisy, r.psnr_denoised, r.ssim_noisy, r.ssim_denoised])
    for kind, values in rows.items():
        arrays[kind] = np.asarray(values, dtype=np.float32)
    return Analysis("denoise", arrays, {"n": len(clean), "columns": ["level", "psnr_noisy", "psnr_denoised",
                                                                     "ssim_noisy", "ssim_denoised"]})


def compress(model: Autoencoder, data: Dataset, _param: str, progress: Progress) -> Analysis:
    from ae.explore.compress import code_rows
    from ae.explore.generate import decode_codes
    from ae.explore.metrics import encode

    images_only(data, "compression")
    progress(0.0, f"encoding {len(data.x_train):,} training images (the code's range)")
    train_codes = encode(model, data.x_train).numpy()
    x = data.test_x(slice(0, COMPRESS_IMAGES))
    progress(0.5, f"quantising and decoding {len(x):,} test codes")
    rows = code_rows("code", train_codes, encode(model, x).numpy(), lambda z: decode_codes(model, z), x)
    return Analysis("compress", {"train_lo": train_codes.min(0), "train_hi": train_codes.max(0)},
                    {"rows": rows, "n": len(x)})


def probes(model: Autoencoder, data: Dataset, _param: str, progress: Progress) -> Analysis:
    from ae.explore.features import check_labels, train_pool
    from ae.explore.metrics import encode

    check_labels(data)
    pool = torch.from_numpy(train_pool(len(data.x_train)))
    progress(0.0, f"encoding {len(pool):,} training and {len(data.x_test):,} test samples")
    train, test = encode(model, data.x_train[pool]).numpy(), encode(model, data.x_test).numpy()
    return _probes("probes", "code", train, test, data, pool, scaled(progress, 0.3, 1.0))


def _probes(kind: str, name: str, train: np.ndarray, test: np.ndarray, data: Dataset, pool: torch.Tensor,
            progress: Progress, arrays: dict[str, np.ndarray] | None = None) -> Analysis:
    from ae.explore.features import probe_rows

    progress(0.0, f"fitting logistic and kNN-5 probes on {len(pool):,} labelled samples at most")
    rows, matrices = probe_rows(name, train, test, data.y_train.numpy()[pool.numpy()], data.y_test.numpy(),
                                len(data.class_names))
    return Analysis(kind, {**(arrays or {}), "confusion": matrices}, {"rows": rows, "pool": len(pool)})


def detector(model: Autoencoder, data: Dataset, param: str, progress: Progress) -> Analysis:
    """The one-class AUROC of a detector of this model's design (its architecture, variant, knobs and loss) trained
    from scratch on class `param` alone, with the budget of the dataset's own detectors: what a design is worth as an
    anomaly detector, which a model trained on every class cannot say about itself. One class per task, so a page's
    own analysis waits for one training at most, not ten."""
    from ae.explore.anomaly import ONE_CLASS_EPOCHS, evaluate_one_class, train_one_class
    from ae.models.imported import ARCH as IMPORTED

    if model.cfg.arch == IMPORTED:
        raise InputError("an imported model's design is a graph, not something trained here: it cannot be retrained "
                         "on one class")
    normal = int(param)
    if data.y_train is None or data.y_test is None or not 0 <= normal < len(data.class_names):
        raise InputError(f"{data.name} has no class {param} to call normal")
    progress(0.0, f"training this design on class {data.class_names[normal]} alone")
    t0 = time.perf_counter()
    detector_model = train_one_class(data, normal, limit=ONE_CLASS_TRAIN, cfg=model.cfg)
    progress(0.9, f"scoring {len(data.x_test):,} test samples")
    auroc = evaluate_one_class(detector_model, data, normal).auroc
    return Analysis(f"detector-{normal}", {}, {"normal": normal, "auroc": auroc if np.isfinite(auroc) else None,
                                               "train_limit": ONE_CLASS_TRAIN, "epochs": ONE_CLASS_EPOCHS,
                                               "seconds": round(time.perf_counter() - t0, 1)})


def detector_keys(data: Dataset) -> list[str]:
    """The detector-C analyses a model has on this data: one per class with enough training samples to be normal."""
    from ae.explore.anomaly import MIN_NORMAL

    if data.y_train is None or data.y_test is None:
        return []
    counts = np.bincount(data.y_train.numpy(), minlength=len(data.class_names))
    return [f"detector-{c}" for c in range(len(data.class_names)) if counts[c] >= MIN_NORMAL]


def speed(model: Autoencoder, data: Dataset, _param: str, progress: Progress) -> Analysis:
    """Inference time, on the worker that runs analyses (never in a web process serving a class)."""
    from ae.explore.decision import TIMED, inference_ms, machine

    progress(0.0, f"encoding and decoding {min(TIMED, len(data.x_test)):,} test images")
    return Analysis("speed", {}, {"ms": inference_ms(model, data, repeats=3), "machine": machine()})


# ---------------------------------------------------------------- per dataset


def one_class(_model: None, data: Dataset, param: str, progress: Progress) -> Analysis:
    from ae.explore.anomaly import OTHER_DATASET, evaluate_one_class, noise_images, scores, train_one_class

    normal = int(param)
    if data.y_train is None or not 0 <= normal < len(data.class_names):
        raise InputError(f"{data.name} has no class {param} to call normal")
    name = data.class_names[normal]
    progress(0.0, f"training a small autoencoder on class {name} alone")
    t0 = time.perf_counter()
    model = train_one_class(data, normal, limit=ONE_CLASS_TRAIN)
    seconds = time.perf_counter() - t0
    with torch.no_grad():  # stored in float16: everything below is measured on the weights as stored
        for p in model.state_dict().values():
            p.copy_(p.half().float())
    progress(0.8, f"scoring {len(data.x_test):,} test samples")
    oc = evaluate_one_class(model, data, normal, seconds)
    outside = {"noise": float(np.median(scores(model, noise_images(100, data.input_shape))))}
    other_name = OTHER_DATASET.get(data.name, "fashion-mnist") if data.kind == "image" else None
    note = ""
    if other_name:
        try:
            from ae.data.sources import load_dataset

            other = load_dataset(other_name, download=False)
            if other.input_shape == data.input_shape:
                outside[other_name] = float(np.median(scores(model, other.x_test[:1000])))
        except (OSError, InputError) as e:  # not on disk: say so on the page
            note = f"{other_name} would be scored here too, but it is not available: {e}"
    weights = {f"weights.{k}": v.detach().cpu().half().numpy() for k, v in model.state_dict().items()}
    return Analysis(f"oneclass-{normal}", {"scores": oc.scores.astype(np.float32), "fpr": oc.fpr.astype(np.float32),
                                          "tpr": oc.tpr.astype(np.float32), **weights},
                    {"normal": normal, "auroc": oc.auroc, "train_seconds": round(seconds, 2),
                     "train_images": int(min(ONE_CLASS_TRAIN, int((data.y_train == normal).sum()))),
                     "model": model.cfg.to_dict(), "outside": outside, "outside_note": note})


def codecs(_model: None, data: Dataset, _param: str, progress: Progress) -> Analysis:
    from ae.explore.compress import codec_rows

    images_only(data, "compression")
    progress(0.0, f"JPEG and WebP at 11 qualities on {min(COMPRESS_IMAGES, len(data.x_test)):,} test images")
    return Analysis("codecs", {}, {"rows": codec_rows(data, COMPRESS_IMAGES), "n": min(COMPRESS_IMAGES,
                                                                                      len(data.x_test))})


def pca(_model: None, data: Dataset, param: str, progress: Progress) -> Analysis:
    from sklearn.decomposition import PCA

    from ae.explore.compress import code_rows
    from ae.explore.features import train_pool

    flat_train = data.train_x().flatten(1).numpy()
    k = min(int(param), *flat_train.shape)
    progress(0.0, f"PCA with {k} components of {len(flat_train):,} training samples")
    fitted = PCA(n_components=k, random_state=0).fit(flat_train)
    train_codes = fitted.transform(flat_train)
    arrays = {"mean": fitted.mean_.astype(np.float32), "components": fitted.components_.astype(np.float32),
              "train_lo": train_codes.min(0).astype(np.float32), "train_hi": train_codes.max(0).astype(np.float32)}
    info: dict = {"k": k}
    if data.kind == "image":
        progress(0.3, f"rate and distortion of PCA {k}")
        x = data.test_x(slice(0, COMPRESS_IMAGES))
        shape = tuple(x.shape[1:])
        info["rows"] = code_rows(f"PCA {k}", train_codes, fitted.transform(x.flatten(1).numpy()),
                                 lambda z: fitted.inverse_transform(z).reshape(-1, *shape).astype(np.float32), x)
    if data.y_train is not None and len(np.unique(data.y_train.numpy())) >= 2 and data.y_test is not None:
        pool = torch.from_numpy(train_pool(len(flat_train)))
        p = _probes("pca", f"PCA {k}", fitted.transform(flat_train[pool.numpy()]),
                    fitted.transform(data.test_x().flatten(1).numpy()), data, pool, scaled(progress, 0.6, 1.0))
        arrays["confusion"] = p.arrays["confusion"]
        info["probe_rows"] = p.info["rows"]
    return Analysis(f"pca-{param}", arrays, info)


def raw_probes(_model: None, data: Dataset, _param: str, progress: Progress) -> Analysis:
    from ae.explore.features import check_labels, train_pool

    check_labels(data)
    pool = torch.from_numpy(train_pool(len(data.x_train)))
    return _probes("raw-probes", "raw inputs", data.train_x(pool).flatten(1).numpy(),
                   data.test_x().flatten(1).numpy(), data, pool, progress)


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("recon", "reconstruction errors of the test split", recon),
    Kind("maps", "the test codes and their PCA, UMAP and t-SNE maps", maps),
    Kind("denoise", "PSNR and SSIM at every noise level", denoise),
    Kind("compress", "bytes and quality of the quantised codes", compress),
    Kind("probes", "how well the codes predict the labels", probes),
    Kind("detector", "a one-class detector of this design", detector),
    Kind("speed", "the inference time", speed),
    Kind("oneclass", "a one-class model", one_class, per_model=False),
    Kind("codecs", "JPEG and WebP at every quality", codecs, per_model=False),
    Kind("pca", "the PCA baseline", pca, per_model=False),
    Kind("raw-probes", "probes on the raw inputs", raw_probes, per_model=False),
)}
MODEL_KINDS = ("recon", "maps", "denoise", "compress", "probes")  # computed after training, in this order


def split(key: str) -> tuple[Kind, str]:
    """'oneclass-3' -> (the oneclass kind, '3'); 'maps' -> (maps, '')."""
    if key in KINDS:
        return KINDS[key], ""
    name, _, param = key.rpartition("-")
    if name in KINDS and param.isdigit():
        return KINDS[name], param
    raise ValueError(f"unknown analysis {key!r}")


def applies(key: str, data: Dataset) -> bool:
    """Whether the analysis means anything for this data (a tabular set has no noise levels or codecs; a set
    without labels no probes or one-class models)."""
    kind, _ = split(key)
    if kind.name in ("denoise", "compress", "codecs") and data.kind != "image":
        return False
    if kind.name in ("probes", "raw-probes", "oneclass", "detector") and (data.y_train is None or data.y_test is None):
        return False
    return True


def model_kinds(data: Dataset) -> list[str]:
    """The per-model analyses that apply to this data, in the order they are computed."""
    return [k for k in MODEL_KINDS if applies(k, data)]


def compute(key: str, model: Autoencoder | None, data: Dataset, progress: Progress = quiet) -> Analysis:
    kind, param = split(key)
    if kind.per_model and model is None:
        raise ValueError(f"the {key} analysis needs a model")
    result = kind.compute(model, data, param, progress)
    result.kind = key
    progress(1.0, "done")
    return result
