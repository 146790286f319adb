"""Compare's table for a decision and its offline report (issue 21)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ae.explore.decision import COLUMNS, decision_numbers
from ae.store.report import report_html


def test_the_decision_numbers_come_from_the_rows_the_other_pages_store():
    probes = [{"probe": "knn-5", "labels": 5, "accuracy": 0.4}, {"probe": "knn-5", "labels": "all", "accuracy": 0.94},
              {"probe": "logistic", "labels": "all", "accuracy": 0.91}]
    compress = [{"setting": "float32", "bytes": 64.0, "psnr": 20.2}, {"setting": "8 bits, entropy", "bytes": 14.4,
                                                                       "psnr": 20.1}]
    assert decision_numbers({"probes": {"rows": probes}, "compress": {"rows": compress}}) == {
        "kNN-5 accuracy": 0.94, "linear probe accuracy": 0.91, "bytes per image (8 bits)": 14.4, "PSNR at 8 bits": 20.1,
        "one-class mean AUROC": None, "inference ms / 1,000": None}
    assert set(decision_numbers({}).values()) == {None}


def test_the_report_is_one_offline_file_with_tables_pictures_configs_and_hashes():
    from ae.store.export import png_bytes

    table = pd.DataFrame({"model": ["<script>alert(1)</script>", "b"], "test MSE": [0.0121, 0.0137]})
    picture = png_bytes(np.zeros((1, 8, 8), dtype=np.float32))
    page = report_html("Two models", "mnist-5k", "abc123", table, [(picture, "originals & rebuilds")],
                       [{"name": "a<b", "sha256": "f" * 64, "config": {"model": {"latent_dim": 16}}}],
                       ("A against B", pd.DataFrame({"metric": ["mse"], "A - B": [-0.0016]}))).decode()
    assert "<script>" not in page and "&lt;script&gt;" in page  # names from files are text, never markup
    assert "0.0121" in page and "A against B" in page and "-0.0016" in page
    assert page.count("data:image/png;base64,") == 1 and "alt='originals &amp; rebuilds'" in page
    assert "f" * 64 in page and "&quot;latent_dim&quot;: 16" in page
    assert not re.search(r"(src|href)=['\"]?https?:", page)  # nothing fetched: it opens offline


def test_compare_page_has_the_decision_columns_and_the_report_button():
    from tests.helpers import app

    at = app("pages/compare.py")
    table = at.dataframe[0].value.set_index("model")
    for column in COLUMNS:
        assert table[column].notna().all(), column
    assert 0.8 < table.loc["conv-ae-16", "kNN-5 accuracy"] <= 1
    assert 0.9 < table.loc["conv-ae-16", "one-class mean AUROC"] <= 1  # shipped with the zoo: ten detectors each
    assert table.loc["conv-ae-16", "bytes per image (8 bits)"] < 64  # 16 numbers at 8 bits, entropy-coded
    assert (table["inference ms / 1,000"] > 0).all()
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download the report (HTML, opens offline)" in labels
