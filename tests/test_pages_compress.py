"""The Compress page (AppTest): the rate-distortion chart for the chosen models, the same digits at a byte budget
with each method's bytes and PSNR, and the decoder's cost."""

from __future__ import annotations

import pytest

from tests.helpers import app

pytestmark = pytest.mark.slow


def test_compress_page_charts_every_method_and_fits_each_budget():
    at = app("pages/compress.py")
    assert not at.exception
    chart = at.get("plotly_chart")[0]
    import json

    names = {trace["name"] for trace in json.loads(chart.proto.spec)["data"]}
    assert {"conv-ae-16 (packed)", "conv-ae-16 (zlib)", "conv-ae-16 (entropy)", "PCA 16 (packed)", "JPEG",
            "Webp"} <= names
    pictures = [img.caption for img in at.image[0].proto.imgs]
    assert pictures[0] == "original: 784 bytes each"
    assert any(p.startswith("conv-ae-16, 8 bits: 16 bytes,") for p in pictures), pictures
    small = [c.value for c in at.caption]
    assert any("JPEG" in c and "does not fit in 16 bytes" in c for c in small), small
    at.select_slider(key="cp_budget").set_value(512).run()
    assert not at.exception
    assert not any("does not fit" in c.value for c in at.caption)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["conv-ae-16: decoder"].endswith("KB")
    assert int(metrics["images to pay the decoder back"].replace(",", "")) > 0
