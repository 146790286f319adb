"""Feature extraction: labelled subsets, probes beside raw inputs and PCA, the confusion matrix, and the page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ae.data.sources import load_dataset
from ae.errors import InputError
from ae.explore.analyses import compute
from ae.explore.features import (
    MAX_PROBE_TRAIN,
    check_labels,
    confusion_of,
    knn_predictions,
    labelled_subset,
    summary,
)
from ae.store.checkpoints import load_model


def test_labelled_subsets_take_k_per_class_seeded():
    y = np.repeat(np.arange(4), 30)
    idx = labelled_subset(y, 5, seed=1)
    assert np.bincount(y[idx]).tolist() == [5, 5, 5, 5]
    assert np.array_equal(idx, labelled_subset(y, 5, seed=1)) and not np.array_equal(idx, labelled_subset(y, 5, 2))
    assert len(labelled_subset(y, None, 0)) == 120


def test_all_labels_means_every_label_up_to_a_stated_cap_then_a_seeded_draw():
    y = np.arange(MAX_PROBE_TRAIN + 500) % 10
    idx = labelled_subset(y, None, 0)
    assert len(idx) == MAX_PROBE_TRAIN and np.all(np.diff(idx) > 0)
    assert np.array_equal(idx, labelled_subset(y, None, 0))


def test_knn_from_one_distance_matrix_predicts_what_scikit_learn_predicts():
    """The kNN-5 probe shares one distance matrix among its labelled subsets; scikit-learn's classifier, fitted on
    each subset, is the reference (the same neighbours and the same vote), down to a subset of 3 (k = 3)."""
    from sklearn.neighbors import KNeighborsClassifier

    data = load_dataset("digits")
    train, test = data.x_train.flatten(1).numpy(), data.test_x().flatten(1).numpy()
    y = data.y_train.numpy()
    subsets = [labelled_subset(y, k, seed) for k, seed in ((1, 0), (5, 1), (50, 2), (None, 0))] + [np.arange(3)]
    ours = knn_predictions(train, test, y, subsets, len(data.class_names), chunk=100)
    for idx, predicted in zip(subsets, ours):
        reference = KNeighborsClassifier(n_neighbors=min(5, len(idx))).fit(train[idx], y[idx]).predict(test)
        assert (predicted == reference).mean() > 0.995, (len(idx), (predicted == reference).mean())
    assert (ours[3] == data.y_test.numpy()).mean() > 0.95  # all labels: kNN on the 8x8 digits is that good


def test_a_dataset_without_labels_is_refused_in_words():
    data = load_dataset("digits")
    data.y_train = data.y_test = None
    with pytest.raises(InputError, match="no labels"):
        check_labels(data)


def test_conv_ae_16_codes_against_pca_16_knn_recorded_honestly():
    """The issue asks whether the linear probe on conv-ae-16's codes (all labels) beats kNN on 16 PCA dimensions.
    Measured here: it does not (0.913 against 0.927); kNN on the codes does (0.945). The Features page shows both.
    The analyses compute it here from scratch (not the shipped files)."""
    data = load_dataset("mnist-5k")
    codes = compute("probes", load_model("pretrained/conv-ae-16.json")[0], data)
    pca = compute("pca-16", None, data)
    rows = pd.DataFrame([{**r, "features": "conv-ae-16"} for r in codes.info["rows"]] + pca.info["probe_rows"])
    table = summary(rows[rows["labels"] == "all"])
    acc = {(r.features, r.probe): r.mean for r in table.itertuples()}
    assert acc[("conv-ae-16", "logistic")] < acc[("PCA 16", "knn-5")]  # the honest record: the probe does not win
    assert acc[("conv-ae-16", "knn-5")] > acc[("PCA 16", "knn-5")] > 0.9
    matrix = confusion_of(codes.arrays["confusion"], "knn-5", None)
    assert matrix.shape == (10, 10) and matrix.sum() == len(data.x_test)
    assert np.trace(matrix) / matrix.sum() == pytest.approx(acc[("conv-ae-16", "knn-5")])


@pytest.mark.slow
def test_features_page_charts_probes_and_a_confusion_matrix():
    from tests.helpers import app

    at = app("pages/features.py")
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2
    table = at.dataframe[0].value
    assert set(table["features"]) == {"conv-ae-16", "conv-vae-16", "PCA 16", "raw inputs"}
    at.segmented_control(key="ft_probe").set_value("knn-5").run()
    assert not at.exception
    at.sidebar.selectbox(key="dataset_picker").set_value("digits").run()
    assert not at.exception


@pytest.mark.slow
def test_features_page_scores_a_tabular_csv_by_its_label_column(models_dir):
    """Wine (13 measurements, 3 cultivars) uploaded as a CSV: the label column is the target; a dense autoencoder's
    4-D codes are scored beside PCA 4 and the raw rows. Without a label column the page says why it cannot score."""
    from sklearn.datasets import load_wine

    from ae.config import TrainConfig
    from ae.registry import build_model
    from ae.run.experiment import model_config_for
    from ae.run.pipeline import dataset_record
    from ae.store.checkpoints import save_model
    from ae.train import fit
    from tests.helpers import app, settle
    from ui.cache import catalog

    csv = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"}).to_csv(index=False).encode()
    at = app("pages/train.py")
    at.text_input(key="data_label").set_value("cultivar")
    at.file_uploader(key="data_upload").set_value(("wine.csv", csv, "text/csv")).run()
    (ds,) = at.session_state["my_uploads"].values()
    assert ds.kind == "tabular" and ds.input_shape == (13,) and len(ds.class_names) == 3
    model = build_model(model_config_for(ds, arch="dense", latent_dim=4, hidden=(32,)), seed=0)
    fit(model, ds.x_train, TrainConfig(epochs=150, batch_size=32))
    save_model(model, models_dir, "wine-ae", {"dataset": dataset_record(ds), "metrics": {"mse": 0.1}})
    catalog.clear()
    at.session_state["dataset"] = ds.name
    at.session_state["model"] = "yours/wine-ae"
    at.switch_page("pages/features.py").run()
    settle(at)  # its codes, PCA 4 and the raw rows are probed once, on the upload, while the page shows progress
    assert not at.exception and not at.error
    best = at.dataframe[0].value
    acc = dict(zip(best["features"], best["accuracy, all labels"]))
    assert set(acc) == {"wine-ae", "PCA 4", "raw inputs"}
    assert acc["raw inputs"] > 0.9 and acc["wine-ae"] > 0.8  # chance is 0.40 (the largest cultivar)
    assert len(at.get("plotly_chart")) == 2  # accuracy curves and the confusion matrix

    bare = app("pages/train.py")
    bare.file_uploader(key="data_upload").set_value(("wine.csv", csv, "text/csv")).run()
    (unlabelled,) = bare.session_state["my_uploads"].values()
    bare.session_state["dataset"] = unlabelled.name
    bare.switch_page("pages/features.py").run()
    assert not bare.exception
    assert any("has no labels, so there is nothing to score" in i.value for i in bare.info)
