"""Charts that speak (issue 22): each chart's description is read off the figure it describes."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from ui.describe import data_of, describe, selection_text
from ui.plots import confusion_chart, error_histogram, latent_scatter, roc_chart


def two_clusters():
    rng = np.random.default_rng(0)
    coords = np.concatenate([rng.normal((0, 0), 0.1, (50, 2)), rng.normal((5, 1), 1.0, (50, 2))])
    return coords, np.repeat([0, 1], 50)


def test_a_map_says_its_ranges_each_class_centre_and_which_is_tight():
    coords, labels = two_clusters()
    text, table = describe(latent_scatter(coords, labels, ["zero", "one"], ("PC 1", "PC 2")))
    assert text.startswith("PC 2 against PC 1.") and "100 points in 2 groups" in text
    assert "zero at (" in text and "Tightest: zero, one" in text
    assert f"PC 1 {coords[:, 0].min():.3g} to {coords[:, 0].max():.3g}" in text
    assert list(table["trace"]) == ["zero", "one"] and list(table["points"]) == [50, 50]


def test_lines_grids_histograms_and_marks_are_described_by_their_numbers():
    errors = np.linspace(0.001, 0.1, 101)
    text, _ = describe(error_histogram(errors, 0.09))
    assert "101 values from 0.001 to 0.1, median 0.0505" in text and "Marked: " in text and "0.09" in text
    text, _ = describe(roc_chart(np.array([0, 0.5, 1.0]), np.array([0, 0.9, 1.0]), 0.93))
    assert "0.930" in text and "true positive rate from 0 to 1" in text
    text, table = describe(confusion_chart(np.array([[9, 1], [3, 7]]), ["a", "b"]))
    assert "A 2 by 2 grid: values 1 to 9" in text and table.loc[0, "max"] == 9


def test_the_numbers_download_is_every_plotted_point_with_its_test_image():
    coords, labels = two_clusters()
    frame = pd.read_csv(io.BytesIO(data_of(latent_scatter(coords, labels, ["zero", "one"], ("x", "y")))
                                   .to_csv(index=False).encode()))
    assert len(frame) == 100 and set(frame["trace"]) == {"zero", "one"}
    row = frame[frame["test image"] == 57].iloc[0]
    assert np.allclose([row["x"], row["y"]], coords[57])


def test_a_selection_is_said_by_its_classes():
    labels = np.array([1] * 8 + [7] * 2)
    assert selection_text(np.arange(10), labels, [str(i) for i in range(10)]) == \
        "Selected: 10 test images, mostly 1 (80%), then 7 (20%)."
    assert selection_text(None, labels, []) == ""


def test_every_chart_on_a_page_has_its_description():
    from tests.helpers import app

    at = app("pages/anomalies.py")
    described = [e for e in at.expander if e.label == "Describe this chart"]
    assert len(described) == 3  # the error histogram, the ROC curve, the scores by class
    assert any("AUROC" in m.value for e in described for m in e.markdown)
