"""Feature extraction: labelled subsets, probes beside raw inputs and PCA, the confusion matrix, and the page."""

from __future__ import annotations

import numpy as np
import pytest

from ae.data.sources import load_dataset
from ae.errors import InputError
from ae.explore.features import confusion, feature_sets, labelled_subset, probe_table, summary
from ae.store.checkpoints import load_model


def test_labelled_subsets_take_k_per_class_seeded():
    y = np.repeat(np.arange(4), 30)
    idx = labelled_subset(y, 5, seed=1)
    assert np.bincount(y[idx]).tolist() == [5, 5, 5, 5]
    assert np.array_equal(idx, labelled_subset(y, 5, seed=1)) and not np.array_equal(idx, labelled_subset(y, 5, 2))
    assert len(labelled_subset(y, None, 0)) == 120


def test_a_dataset_without_labels_is_refused_in_words():
    data = load_dataset("digits")
    data.y_train = data.y_test = None
    with pytest.raises(InputError, match="no labels"):
        probe_table({"x": (np.zeros((3, 2)), np.zeros((3, 2)))}, data)


@pytest.mark.slow
def test_conv_ae_16_codes_against_pca_16_knn_recorded_honestly():
    """The issue asks whether the linear probe on conv-ae-16's codes (all labels) beats kNN on 16 PCA dimensions.
    Measured here: it does not (0.913 against 0.927); kNN on the codes does (0.945). The Features page shows both."""
    data = load_dataset("mnist-5k")
    sets = feature_sets({"conv-ae-16": load_model("pretrained/conv-ae-16.json")[0]}, data)
    table = summary(probe_table(sets, data, per_class=(None,), seeds=(0,)))
    acc = {(r.features, r.probe): r.mean for r in table.itertuples()}
    assert acc[("conv-ae-16", "logistic")] < acc[("PCA 16", "knn-5")]  # the honest record: the probe does not win
    assert acc[("conv-ae-16", "knn-5")] > acc[("PCA 16", "knn-5")] > 0.9
    matrix = confusion(sets, data, "conv-ae-16", "knn-5", None)
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
