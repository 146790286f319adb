"""The paired comparison of two models (issue 21): intervals that are right where the answer is known."""

from __future__ import annotations

import numpy as np

from ae.explore.analysis import ReconReport
from ae.explore.paired import differ_most, paired_interval, paired_table


def report(mse, seed=0):
    rng = np.random.default_rng(seed)
    return ReconReport(np.asarray(mse), 10 * np.log10(1 / np.asarray(mse)), rng.uniform(0.5, 1, len(mse)))


def test_a_model_against_itself_differs_by_exactly_nothing():
    mse = np.random.default_rng(0).gamma(2.0, 0.01, 1000)
    iv = paired_interval(mse, mse)
    assert iv.diff == iv.lo == iv.hi == 0.0 and not iv.excludes_zero
    table = paired_table(report(mse), report(mse), np.arange(1000) % 10, [str(i) for i in range(10)])
    assert (table["A - B"] == 0).all() and (table["95% high"] - table["95% low"] == 0).all()
    assert set(table["better"]) == {"no clear difference"}


def test_a_clearly_worse_model_is_told_apart_and_the_interval_holds_the_truth():
    rng = np.random.default_rng(1)
    a = rng.gamma(2.0, 0.01, 1000)
    b = a * 1.2 + rng.normal(0, 0.001, 1000)  # B is 20% worse on every image, with a little noise
    iv = paired_interval(a, b)
    assert iv.hi < 0 and iv.excludes_zero
    assert iv.lo <= float(np.mean(a - b)) <= iv.hi
    table = paired_table(report(a), report(np.abs(b)), None)
    assert table.loc[table["metric"] == "mse", "better"].item() == "A"


def test_noise_alone_gives_an_interval_around_zero_and_the_same_seed_the_same_interval():
    rng = np.random.default_rng(2)
    a = rng.normal(0.02, 0.005, 2000)
    b = a + rng.normal(0, 0.005, 2000)
    iv = paired_interval(a, b)
    assert iv.lo < 0 < iv.hi
    assert paired_interval(a, b, seed=0) == iv and paired_interval(a, b, seed=1) != iv


def test_where_they_differ_most():
    a = np.array([0.1, 0.5, 0.2, 0.9, 0.3])
    b = np.array([0.4, 0.1, 0.2, 0.2, 0.3])
    a_wins, b_wins = differ_most(a, b, k=2)
    assert list(a_wins) == [0, 2] and list(b_wins) == [3, 1]


def test_compare_page_sets_two_models_side_by_side_image_by_image():
    from tests.helpers import app

    at = app("pages/compare.py")
    assert not at.exception
    paired = next(d.value for d in at.dataframe if "95% low" in d.value.columns)
    whole = paired[paired["images"] == "all"].set_index("metric")
    assert list(whole.index) == ["mse", "psnr", "ssim"]
    assert (whole["95% low"] <= whole["A - B"]).all() and (whole["A - B"] <= whole["95% high"]).all()
    assert set(paired["images"]) == {"all", *[str(i) for i in range(10)]}
    sentences = [m.value for m in at.markdown if m.value.startswith("- **MSE**")]
    assert len(sentences) == 1 and "95% interval" in sentences[0]
    strips = [i for i in at.image if "by the most" in (i.proto.imgs[0].caption or "")]
    assert len(strips) == 2 and all(len(s.proto.imgs) == 3 for s in strips)  # originals, A's and B's rebuilds
    at.selectbox(key="cmp_b").set_value(at.selectbox(key="cmp_a").value).run()
    assert any("Pick two different models" in i.value for i in at.info)


def test_a_link_chooses_compares_models_and_its_pair_and_a_wrong_one_is_said():
    from tests.helpers import app

    at = app("pages/compare.py", query={"cmp_models": "pretrained/conv-ae-2,pretrained/conv-vae-2",
                                        "cmp_b": "pretrained/conv-ae-2", "cmp_a": "pretrained/conv-vae-2"})
    assert list(at.dataframe[0].value["model"]) == ["conv-ae-2", "conv-vae-2"]
    assert at.selectbox(key="cmp_a").value == "pretrained/conv-vae-2"
    bad = app("pages/compare.py", query={"cmp_models": "pretrained/conv-ae-16,../../etc/passwd"})
    assert any("does not fit here" in i.value for i in bad.info)
    assert len(bad.dataframe[0].value) == 4  # the defaults kept
