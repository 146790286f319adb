"""Compare's per-model columns that are computed on request: a design's one-class detectors and its inference time
(issue 21)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from ae.errors import InputError
from ae.explore.analyses import compute, detector_keys
from ae.explore.decision import COLUMNS, decision_kinds, decision_numbers
from ae.store.checkpoints import load_model
from ae.store.zoo import ZOO_DIR


def two_digits(data, per_class: int = 120):
    """mnist-5k cut down to its 0s and 1s (`per_class` training images each): the rest of the classes too small to
    be normal."""
    keep = np.concatenate([np.flatnonzero(data.y_train.numpy() == c)[:per_class] for c in (0, 1)])
    test = np.flatnonzero(data.y_test.numpy() <= 1)
    return dataclasses.replace(data, x_train=data.x_train[keep], y_train=data.y_train[keep],
                               x_test=data.x_test[test], y_test=data.y_test[test])


def test_a_design_is_retrained_on_each_class_and_its_auroc_is_measured(mnist5k):
    model, _ = load_model(ZOO_DIR / "conv-ae-2.json")
    small = two_digits(mnist5k)
    assert detector_keys(small) == ["detector-0", "detector-1"]  # the other classes have no training images here
    seen = []
    results = [compute(key, model, small, lambda f, text: seen.append(text)) for key in detector_keys(small)]
    assert [r.info["normal"] for r in results] == [0, 1]
    assert all(0.9 < r.info["auroc"] <= 1 for r in results)  # 0 against 1 is easy for any detector
    assert any("class 1 alone" in t for t in seen)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    compute("detector-0", model, two_digits(mnist5k, 20), lambda f, text: None)
    assert all((before[k] == v).all() for k, v in model.state_dict().items())  # fresh models: the model is untouched


def test_an_imported_graph_or_unlabelled_data_has_no_detectors(mnist5k):
    with pytest.raises(InputError, match="imported model's design is a graph"):
        compute("detector-0", SimpleNamespace(cfg=SimpleNamespace(arch="onnx")), mnist5k)
    assert decision_kinds("onnx", mnist5k) == ["probes", "compress", "speed"]
    bare = dataclasses.replace(mnist5k, y_train=None, y_test=None)
    assert decision_kinds("conv", bare) == ["compress", "speed"]
    assert decision_kinds("conv", mnist5k) == ["probes", "compress", *(f"detector-{c}" for c in range(10)), "speed"]


def test_the_timing_says_where_it_was_taken(mnist5k):
    model, _ = load_model(ZOO_DIR / "conv-ae-2.json")
    result = compute("speed", model, mnist5k)
    assert 0 < result.info["ms"] < 60_000
    assert result.info["machine"].split(",")[0] in ("CPU", "Apple MPS") or result.info["machine"].startswith("GPU")


def test_the_table_reads_each_column_from_its_analysis_or_leaves_it_empty():
    numbers = decision_numbers({"detector-0": {"auroc": 0.99}, "detector-1": {"auroc": 0.91}, "speed": {"ms": 160.0},
                                "probes": None})
    assert list(numbers) == list(COLUMNS)
    assert numbers["one-class mean AUROC"] == pytest.approx(0.95) and numbers["inference ms / 1,000"] == 160.0
    assert decision_numbers({"detector-0": {"auroc": 0.99}, "detector-1": None})["one-class mean AUROC"] is None
    assert numbers["kNN-5 accuracy"] is None and numbers["bytes per image (8 bits)"] is None


@pytest.mark.slow
def test_compare_trains_a_new_designs_detectors_only_when_asked(models_dir):
    import json
    import shutil

    from tests.helpers import app

    models_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(ZOO_DIR / "dense-ae-16.safetensors", models_dir / "mine.safetensors")
    meta = json.loads((ZOO_DIR / "dense-ae-16.json").read_text())
    (models_dir / "mine.json").write_text(json.dumps({**meta, "name": "mine"}))
    at = app("pages/compare.py", query={"cmp_models": "pretrained/conv-ae-16,yours/mine"})
    table = at.dataframe[0].value.set_index("model")
    assert 0.9 < table.loc["conv-ae-16", "one-class mean AUROC"] <= 1  # shipped
    assert np.isnan(table.loc["mine", "one-class mean AUROC"])  # the copy's own: not trained unasked
    ask = at.button(key="cmp_detectors")
    assert "10 trainings" in ask.label
    assert not [p for p in at.get("progress") if "One-class detectors" in p.proto.text]
    ask.click().run()
    bars = [p.proto.text for p in at.get("progress") if "One-class detectors" in p.proto.text]
    assert bars and "of 20 done" in bars[0]  # one bar for them all, conv-ae-16's ten already in
