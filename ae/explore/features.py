"""Feature extraction: after training only the encoder is kept, and its codes feed another model. Measured as
teachers show it: a linear probe (logistic regression) and a 5-nearest-neighbour classifier fitted on the train
split's codes with 1, 5, 10, 50, 100 or all labels per class, scored on the test split, beside raw inputs and PCA
with as many dimensions. Several seeds draw the labelled subsets; scikit-learn does the fitting.

"All labels" means every training label up to `MAX_PROBE_TRAIN` (a seeded draw beyond that, so a probe on full
MNIST's 60,000 codes costs seconds, not minutes); every score is on the whole test split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ae.data.sources import Dataset
from ae.errors import InputError

LABELS_PER_CLASS: tuple[int | None, ...] = (1, 5, 10, 50, 100, None)  # None: every training label
PROBES = ("logistic", "knn-5")
SEEDS = (0, 1, 2)
MAX_PROBE_TRAIN = 10_000  # labelled training samples a probe is fitted on at most ("all labels")


def labelled_subset(y: np.ndarray, per_class: int | None, seed: int) -> np.ndarray:
    """Indices of `per_class` training samples of each class (all of a class that has fewer), seeded; for "all"
    (None) every sample up to MAX_PROBE_TRAIN, a seeded draw beyond."""
    if per_class is None:
        if len(y) <= MAX_PROBE_TRAIN:
            return np.arange(len(y))
        return np.sort(np.random.default_rng(seed).choice(len(y), size=MAX_PROBE_TRAIN, replace=False))
    rng = np.random.default_rng(seed)
    picks = [rng.permutation(np.flatnonzero(y == c))[:per_class] for c in np.unique(y)]
    return np.sort(np.concatenate(picks))


def fit_logistic(x: np.ndarray, y: np.ndarray):
    """The linear probe: standardised logistic regression, fitted by scikit-learn."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)


def knn_predictions(train: np.ndarray, test: np.ndarray, y_train: np.ndarray, subsets: Sequence[np.ndarray],
                    classes: int, k: int = 5, chunk: int = 1024) -> list[np.ndarray]:
    """kNN-k predictions of the test split for every labelled subset of the pool (k or the subset's size, if
    smaller), from one distance matrix.

    Why not one scikit-learn KNeighborsClassifier per subset: its exact search upcasts float32 to float64 and
    measures each subset's distances again; for CIFAR's raw pixels (3,072 numbers, 16 subsets of a 10,000 pool)
    that was 31 s of the Features page's first visit, where one float32 matrix multiply per test chunk is 7 s. The
    vote is scikit-learn's (uniform weights, a tie goes to the smallest class); a test holds the two to agreeing."""
    import torch

    pool, labels = torch.from_numpy(np.ascontiguousarray(train, dtype=np.float32)), torch.from_numpy(y_train)
    queries = torch.from_numpy(np.ascontiguousarray(test, dtype=np.float32))
    out = [np.empty(len(test), dtype=np.int64) for _ in subsets]
    columns = [torch.from_numpy(idx) for idx in subsets]
    column_labels = [labels[idx] for idx in columns]
    for start in range(0, len(test), chunk):
        distances = torch.cdist(queries[start:start + chunk], pool)  # squared norms and one matrix multiply
        for predicted, idx, idx_labels in zip(out, columns, column_labels):
            nearest = distances[:, idx].topk(min(k, len(idx)), largest=False).indices
            votes = torch.nn.functional.one_hot(idx_labels[nearest], classes).sum(1)
            predicted[start:start + chunk] = votes.argmax(1).numpy()  # argmax: the first (smallest) class of a tie
    return out


def train_pool(n: int) -> np.ndarray:
    """The training samples any probe may draw from (all up to MAX_PROBE_TRAIN): only these need features."""
    return labelled_subset(np.zeros(n, dtype=np.int64), None, 0)


def check_labels(data: Dataset) -> None:
    if data.y_train is None or data.y_test is None:
        raise InputError(f"{data.name} has no labels, so there is nothing to score the features against")
    if len(np.unique(data.y_train.numpy())) < 2:
        raise InputError(f"{data.name}'s train split holds one class only; a probe needs two or more to tell apart")


def probe_rows(name: str, train: np.ndarray, test: np.ndarray, y_train: np.ndarray, y_test: np.ndarray,
               classes: int, per_class: Sequence[int | None] = LABELS_PER_CLASS,
               seeds: Sequence[int] = SEEDS) -> tuple[list[dict], np.ndarray]:
    """One feature set's probes: test accuracy for every probe, labels per class and seed (one seed when all labels
    are used), and the confusion matrices of seed 0 [probes, label settings, classes, classes] (rows: true class).
    `train` and `y_train` are the training pool (`train_pool`), `test` the whole test split."""
    from sklearn.metrics import confusion_matrix

    rows = []
    matrices = np.zeros((len(PROBES), len(per_class), classes, classes), dtype=np.int64)
    draws = [(j, k, seed, labelled_subset(y_train, k, seed)) for j, k in enumerate(per_class)
             for seed in (seeds if k is not None else seeds[:1])]
    draws = [d for d in draws if len(np.unique(y_train[d[3]])) >= 2]
    knn = knn_predictions(train, test, y_train, [d[3] for d in draws], classes)
    for p, probe in enumerate(PROBES):
        for n, (j, k, seed, idx) in enumerate(draws):
            predicted = knn[n] if probe == "knn-5" else fit_logistic(train[idx], y_train[idx]).predict(test)
            rows.append(dict(features=name, probe=probe, labels=k or "all", seed=seed,
                             accuracy=float((predicted == y_test).mean()), n_labels=len(idx)))
            if seed == seeds[0]:
                matrices[p, j] = confusion_matrix(y_test, predicted, labels=np.arange(classes))
    return rows, matrices


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and spread (std over seeds) of accuracy per features, probe and labels per class."""
    grouped = table.groupby(["features", "probe", "labels"], sort=False)["accuracy"]
    return grouped.agg(mean="mean", std="std", seeds="count").reset_index().fillna({"std": 0.0})


def confusion_of(matrices: np.ndarray, probe: str, per_class: int | None) -> np.ndarray:
    """One confusion matrix out of `probe_rows`' stack."""
    return matrices[PROBES.index(probe), LABELS_PER_CLASS.index(per_class)]
