"""Anomaly scores from reconstruction error, and the one-class set-up: a small autoencoder trained on one class
alone rebuilds that class well and everything else badly, so its error separates "normal" from the rest.

AUROC from scikit-learn. The reference row for one-class MNIST is Deep SVDD (Ruff et al., ICML 2018, Table 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ae.config import ModelConfig, TrainConfig
from ae.data.sources import Dataset
from ae.errors import InputError
from ae.models.base import Autoencoder
from ae.registry import build_model
from ae.train import fit

MIN_NORMAL = 10  # training samples of the normal class
ONE_CLASS_EPOCHS = 30  # every one-class detector's training: the dataset's small one and each design's
OTHER_DATASET = {"fashion-mnist": "mnist"}  # images from elsewhere scored beside the test split (else fashion-mnist)
DEEP_SVDD_MNIST = [98.0, 99.7, 91.7, 91.9, 94.9, 88.5, 98.3, 94.6, 93.9, 96.5]  # one-class AUROC %, digits 0-9


def scores(model: Autoencoder, x: torch.Tensor) -> np.ndarray:
    """Anomaly score per image (x as stored: uint8 pixels or floats): its reconstruction MSE ([N])."""
    from ae.explore.metrics import errors_per_sample

    return errors_per_sample(model, x)["mse"]


def flagged(errors: np.ndarray, percentile: float) -> tuple[float, np.ndarray]:
    """(threshold, indices above it, worst first) for a threshold at the given percentile of the errors."""
    if not 0 < percentile < 100:
        raise InputError("the percentile must be between 0 and 100")
    thr = float(np.percentile(errors, percentile))
    idx = np.where(errors > thr)[0]
    return thr, idx[np.argsort(-errors[idx], kind="stable")]


@dataclass
class OneClass:
    normal: int
    model: Autoencoder
    scores: np.ndarray  # test-split scores
    is_anomaly: np.ndarray  # test label != normal
    auroc: float
    fpr: np.ndarray
    tpr: np.ndarray
    train_seconds: float


def one_class_config(data: Dataset) -> ModelConfig:
    """The small model every one-class detector is: conv for images of 8x8 and more, else dense."""
    arch = "conv" if data.kind == "image" and min(data.input_shape[1:]) >= 8 else "dense"
    return ModelConfig(arch=arch, variant="vanilla", input_shape=data.input_shape, latent_dim=8, hidden=(128,),
                       channels=(16, 32), recon_loss="bce" if data.kind == "image" else "mse")


def train_one_class(data: Dataset, normal: int, epochs: int = ONE_CLASS_EPOCHS, seed: int = 0, device: str = "auto",
                    limit: int | None = None, cfg: ModelConfig | None = None) -> Autoencoder:
    """An autoencoder fitted on the train images of class `normal` only (at most `limit` of them, a seeded draw):
    the dataset's small detector, or one of another design (`cfg`: a model's own, to compare designs as detectors)."""
    if data.y_train is None:
        raise InputError(f"{data.name} has no labels, so no class can be chosen as normal")
    x = data.x_train[data.y_train == normal]
    if limit is not None and len(x) > limit:
        x = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:limit].sort().values]
    if len(x) < MIN_NORMAL:
        name = data.class_names[normal] if normal < len(data.class_names) else normal
        raise InputError(f"class {name} has only {len(x)} training samples; at least {MIN_NORMAL} are needed to "
                         "learn what normal looks like")
    model = build_model(cfg or one_class_config(data), seed=seed)
    fit(model, x, TrainConfig(epochs=epochs, batch_size=64, lr=2e-3, seed=seed, device=device))
    return model


def evaluate_one_class(model: Autoencoder, data: Dataset, normal: int, train_seconds: float = 0.0) -> OneClass:
    from sklearn.metrics import roc_auc_score, roc_curve

    s = scores(model, data.x_test)
    y = (data.y_test.numpy() != normal).astype(int)
    if y.min() == y.max():  # AUROC needs both normal and other test samples; say so rather than show "nan"
        return OneClass(normal, model, s, y.astype(bool), float("nan"), np.zeros(0), np.zeros(0), train_seconds)
    fpr, tpr, _ = roc_curve(y, s)
    return OneClass(normal, model, s, y.astype(bool), float(roc_auc_score(y, s)), fpr, tpr, train_seconds)


def noise_images(n: int, shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    """Uniform noise images: inputs from nowhere near the data, which any sensible score must flag."""
    return torch.rand((n, *shape), generator=torch.Generator().manual_seed(seed))


def rebuild_one_class(analysis) -> Autoencoder:
    """The one-class model stored in a "oneclass-C" analysis (its config and weights), in eval mode: what scores a
    picture someone brings. The analysis is ours (written by the analysis worker), never a user's file."""
    from ae.config import from_dict

    model = build_model(from_dict(ModelConfig, analysis.info["model"]), seed=None)
    state = {k.removeprefix("weights."): torch.from_numpy(v.astype(np.float32)) for k, v in analysis.arrays.items()
             if k.startswith("weights.")}
    model.load_state_dict(state, strict=True)
    return model.eval()
