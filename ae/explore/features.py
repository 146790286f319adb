"""Feature extraction: after training only the encoder is kept, and its codes feed another model. Measured as
teachers show it: a linear probe (logistic regression) and a 5-nearest-neighbour classifier fitted on the train
split's codes with 1, 5, 10, 50, 100 or all labels per class, scored on the test split, beside raw inputs and PCA
with as many dimensions. Several seeds draw the labelled subsets; scikit-learn does the fitting.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ae.data.sources import Dataset
from ae.errors import InputError
from ae.explore.metrics import encode
from ae.models.base import Autoencoder

LABELS_PER_CLASS: tuple[int | None, ...] = (1, 5, 10, 50, 100, None)  # None: every training label
PROBES = ("logistic", "knn-5")
SEEDS = (0, 1, 2)


def labelled_subset(y: np.ndarray, per_class: int | None, seed: int) -> np.ndarray:
    """Indices of `per_class` training samples of each class (all of a class that has fewer), seeded."""
    if per_class is None:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    picks = [rng.permutation(np.flatnonzero(y == c))[:per_class] for c in np.unique(y)]
    return np.sort(np.concatenate(picks))


def fit_probe(kind: str, x: np.ndarray, y: np.ndarray):
    """A fitted scikit-learn classifier: standardised logistic regression, or kNN with k = 5 (fewer when there are
    fewer samples)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    if kind == "knn-5":
        return KNeighborsClassifier(n_neighbors=min(5, len(x))).fit(x, y)
    raise InputError(f"unknown probe {kind!r}; choose one of {', '.join(PROBES)}")


def feature_sets(models: dict[str, Autoencoder], data: Dataset) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(train, test) features per name: each model's codes, the raw inputs, and PCA with the first model's size."""
    from sklearn.decomposition import PCA

    raw_train, raw_test = data.x_train.flatten(1).numpy(), data.x_test.flatten(1).numpy()
    sets = {name: (encode(m, data.x_train).numpy(), encode(m, data.x_test).numpy()) for name, m in models.items()}
    dims = next(iter(models.values())).cfg.latent_dim if models else min(16, raw_train.shape[1])
    pca = PCA(n_components=min(dims, raw_train.shape[1], len(raw_train)), random_state=0).fit(raw_train)
    sets[f"PCA {pca.n_components_}"] = (pca.transform(raw_train), pca.transform(raw_test))
    sets["raw inputs"] = (raw_train, raw_test)
    return sets


def probe_table(sets: dict[str, tuple[np.ndarray, np.ndarray]], data: Dataset,
                per_class: Sequence[int | None] = LABELS_PER_CLASS, seeds: Sequence[int] = SEEDS) -> pd.DataFrame:
    """Test accuracy for every feature set, probe, labels per class and seed (one seed when all labels are used)."""
    if data.y_train is None or data.y_test is None:
        raise InputError(f"{data.name} has no labels, so there is nothing to score the features against")
    y_train, y_test = data.y_train.numpy(), data.y_test.numpy()
    if len(np.unique(y_train)) < 2:
        raise InputError(f"{data.name}'s train split holds one class only; a probe needs two or more to tell apart")
    rows = []
    for name, (train, test) in sets.items():
        for probe in PROBES:
            for k in per_class:
                for seed in seeds if k is not None else seeds[:1]:
                    idx = labelled_subset(y_train, k, seed)
                    if len(np.unique(y_train[idx])) < 2:
                        continue
                    acc = float(fit_probe(probe, train[idx], y_train[idx]).score(test, y_test))
                    rows.append(dict(features=name, probe=probe, labels=k or "all", seed=seed, accuracy=acc,
                                     n_labels=len(idx)))
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and spread (std over seeds) of accuracy per features, probe and labels per class."""
    grouped = table.groupby(["features", "probe", "labels"], sort=False)["accuracy"]
    return grouped.agg(mean="mean", std="std", seeds="count").reset_index().fillna({"std": 0.0})


def confusion(sets: dict[str, tuple[np.ndarray, np.ndarray]], data: Dataset, features: str, probe: str,
              per_class: int | None, seed: int = 0) -> np.ndarray:
    """The test split's confusion matrix (rows: true class, columns: predicted) for one setting."""
    from sklearn.metrics import confusion_matrix

    train, test = sets[features]
    y_train = data.y_train.numpy()
    idx = labelled_subset(y_train, per_class, seed)
    predicted = fit_probe(probe, train[idx], y_train[idx]).predict(test)
    return confusion_matrix(data.y_test.numpy(), predicted, labels=np.arange(len(data.class_names)))
