"""Rate-distortion numbers, checked by independent computations: quantisation round-trips, an 8-bit code decodes
within 0.5 dB of the float code, PCA's and JPEG's numbers are reproduced by hand."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ae.data.sources import load_dataset
from ae.explore.compress import (
    Quantiser,
    bytes_at_psnr,
    codec_rows,
    decoder_bytes,
    entropy_bytes,
    model_rows,
    packed_bytes,
    payback_images,
    pca_rows,
)
from ae.store.checkpoints import load_model


@pytest.fixture(scope="module")
def data():
    return load_dataset("mnist-5k")


@pytest.fixture(scope="module")
def conv16():
    return load_model("pretrained/conv-ae-16.json")[0]


def test_quantisation_round_trips_within_half_a_step():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(500, 7)).astype(np.float32)
    for bits in (8, 6, 4):
        q = Quantiser.fit(codes, bits)
        ints = q.to_ints(codes)
        assert ints.min() >= 0 and ints.max() <= 2**bits - 1
        step = (q.hi - q.lo) / (2**bits - 1)
        assert np.all(np.abs(q.round_trip(codes) - codes) <= step / 2 + 1e-6)
        assert np.array_equal(q.to_ints(q.to_codes(ints)), ints)  # integers survive the round trip exactly
    assert packed_bytes(16, 6) == 12.0
    assert entropy_bytes(np.zeros((10, 3), np.uint16)) == 0.0  # a constant code carries no information


def test_an_8_bit_code_decodes_within_half_a_db_of_the_float_code(data, conv16):
    rows = {r["setting"]: r for r in model_rows("conv-ae-16", conv16, data, n=300)}
    assert abs(rows["8 bits, packed"]["psnr"] - rows["float32"]["psnr"]) < 0.5
    assert rows["8 bits, packed"]["bytes"] == 16 and rows["float32"]["bytes"] == 64
    assert rows["4 bits, packed"]["psnr"] < rows["8 bits, packed"]["psnr"]


def test_pca_numbers_are_reproduced_independently(data):
    from sklearn.decomposition import PCA

    rows = {r["setting"]: r for r in pca_rows(data, 16, n=300)}
    x_train = data.train_x().flatten(1).numpy().astype(np.float64)
    x = data.test_x(slice(0, 300)).flatten(1).numpy().astype(np.float64)
    pca = PCA(n_components=16, random_state=0).fit(x_train)
    rec = np.clip(pca.inverse_transform(pca.transform(x)), 0, 1)
    psnr = np.mean(10 * np.log10(1.0 / ((rec - x) ** 2).mean(1)))
    assert rows["float32"]["psnr"] == pytest.approx(psnr, abs=0.02)


def test_jpeg_numbers_are_reproduced_independently(data):
    rows = [r for r in codec_rows(data, n=100, qualities=(50,)) if r["method"] == "JPEG"]
    sizes, errors = [], []
    for img in data.test_x(slice(0, 100)):
        arr = (img[0].numpy() * 255).round().astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="JPEG", quality=50)
        sizes.append(len(buf.getvalue()))
        back = np.asarray(Image.open(io.BytesIO(buf.getvalue())), dtype=np.float64) / 255
        errors.append(10 * np.log10(1.0 / ((back - img[0].numpy()) ** 2).mean()))
    assert rows[0]["bytes"] == pytest.approx(np.mean(sizes))
    assert rows[0]["psnr"] == pytest.approx(np.mean(errors), abs=0.01)


def test_bytes_at_psnr_interpolates_and_the_decoder_is_paid_back(conv16):
    import pandas as pd

    rows = pd.DataFrame([dict(method="J", bytes=100.0, psnr=20.0), dict(method="J", bytes=200.0, psnr=30.0)])
    assert bytes_at_psnr(rows, "J", 25.0) == pytest.approx(150.0)
    assert bytes_at_psnr(rows, "J", 31.0) is None
    assert bytes_at_psnr(rows, "J", 10.0) == 100.0
    size = decoder_bytes(conv16)
    assert size == 4 * sum(p.numel() for p in conv16.decoder.parameters())
    assert payback_images(size, 16, 400) == pytest.approx(size / 384)
    assert payback_images(size, 16, 10) == float("inf")



def test_the_budget_view_uses_the_stored_ranges_and_basis_and_matches_the_curves(data, conv16):
    """side_by_side quantises with the train range stored in the compress analysis and PCA's stored basis: an 8-bit
    code of the first images costs what the chart says and decodes to the same PSNR as the analysis measured."""
    from ae.explore.analyses import compute
    from ae.explore.compress import model_coder, pca_coder, side_by_side

    a = compute("compress", conv16, data)
    p = compute("pca-16", None, data)
    x = data.test_x(list(range(8)))
    shown = side_by_side([model_coder("conv-ae-16", conv16, a.arrays["train_lo"], a.arrays["train_hi"]),
                          pca_coder("PCA 16", p.arrays["mean"], p.arrays["components"], p.arrays["train_lo"],
                                    p.arrays["train_hi"])], x, 16)
    code, pca, jpeg, webp = shown
    assert code.label == "conv-ae-16, 8 bits" and code.bytes == 16 and code.images.shape == (8, 1, 28, 28)
    assert pca.label == "PCA 16, 8 bits" and pca.bytes == 16 and pca.psnr < code.psnr
    assert jpeg.images is None and "bytes at the least" in jpeg.label  # JPEG's header alone is bigger
    by_hand = model_rows("conv-ae-16", conv16, data, n=8)
    eight = next(r for r in by_hand if r["setting"] == "8 bits, packed")
    assert code.psnr == pytest.approx(eight["psnr"], abs=1e-3)
