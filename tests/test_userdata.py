"""The user's own files: good inputs load; each malformed input gets a message that names the problem."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ae.userdata import load_csv, load_image_folder, load_npz


@pytest.mark.parametrize(
    "shape,channels",
    [((30, 12, 10), 1), ((30, 12, 10, 3), 3), ((30, 3, 12, 10), 3), ((30, 12, 10, 1), 1), ((30, 1, 12, 10), 1)],
)
def test_npz_layouts(tmp_path, shape, channels):
    x = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(30) % 3)
    d = load_npz(tmp_path / "d.npz")
    assert d.input_shape == (channels, 12, 10)
    assert len(d.x_train) == 24 and len(d.x_test) == 6
    assert float(d.x_train.max()) <= 1 and d.class_names == ["0", "1", "2"]
    assert torch.bincount(d.y_test).tolist() == [2, 2, 2]


def test_npz_float_images_in_unit_range_are_kept_and_labels_optional(tmp_path):
    x = np.random.default_rng(0).random((10, 8, 8)).astype(np.float32)
    np.savez(tmp_path / "d.npz", x=x)
    d = load_npz(tmp_path / "d.npz")
    assert d.y_train is None and d.class_names == []
    assert np.isclose(torch.cat([d.x_train, d.x_test]).sum().item(), x.sum(), rtol=1e-5)


@pytest.mark.parametrize(
    "arrays,message",
    [
        ({"x": np.zeros((5, 4))}, r"shape \[5, 4\]; expected \[N, H, W\]"),
        ({"x": np.zeros((5, 7, 8, 9))}, "must be .N, H, W, C. or .N, C, H, W. with C = 1"),
        ({"x": np.full((5, 8, 8), np.nan)}, "NaN or infinite"),
        ({"x": np.zeros((0, 8, 8))}, "is empty"),
        ({"x": -np.ones((5, 8, 8))}, r"must be in \[0, 1\] or 0..255"),
        ({"x": np.zeros((5, 8, 8)), "y": np.zeros(4)}, "one value per sample"),
        ({"images": np.zeros((5, 8, 8))}, "no array named 'x' .found: images"),
        ({"x": np.array(["a", "b"])}, "must be numeric"),
        ({"x": np.zeros((5, 300, 300), np.uint8)}, "over the limit of 256x256"),
        ({"x": np.zeros((1, 8, 8))}, "at least 2 samples"),
    ],
)
def test_npz_bad_inputs(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        load_npz(tmp_path / "bad.npz")


def test_npz_with_pickled_objects_or_not_an_npz(tmp_path):
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(ValueError, match="holds Python objects"):
        load_npz(tmp_path / "obj.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="not an .npz archive"):
        load_npz(tmp_path / "text.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="not an .npz archive"):
        load_npz(tmp_path / "empty.npz")


def save_png(path, size=(10, 12), colour=False, value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "RGB" if colour else "L"
    Image.new(mode, size, (value, 0, 255 - value) if colour else value).save(path)


def test_image_folder_with_class_subfolders(tmp_path):
    for cls in ("cat", "dog"):
        for i in range(5):
            save_png(tmp_path / "pets" / cls / f"{i}.png", value=40 * i)
    d = load_image_folder(tmp_path / "pets")
    assert d.input_shape == (1, 12, 10) and d.class_names == ["cat", "dog"]
    assert len(d.x_train) == 8 and sorted(torch.cat([d.y_train, d.y_test]).tolist()) == [0] * 5 + [1] * 5


def test_flat_image_folder_in_colour(tmp_path):
    for i in range(4):
        save_png(tmp_path / "flat" / f"{i}.jpg", colour=True, value=50 * i)
    (tmp_path / "flat" / ".DS_Store").write_text("ignored")
    d = load_image_folder(tmp_path / "flat")
    assert d.input_shape == (3, 12, 10) and d.y_train is None


def test_image_folder_errors(tmp_path):
    save_png(tmp_path / "mixed" / "a.png", size=(10, 12))
    save_png(tmp_path / "mixed" / "b.png", size=(28, 28))
    with pytest.raises(ValueError, match="images differ in size: a.png is 10x12 but b.png is 28x28"):
        load_image_folder(tmp_path / "mixed")
    save_png(tmp_path / "notes" / "a.png")
    (tmp_path / "notes" / "readme.txt").write_text("hi")
    with pytest.raises(ValueError, match="readme.txt is not an image"):
        load_image_folder(tmp_path / "notes")
    save_png(tmp_path / "broken" / "a.png")
    (tmp_path / "broken" / "b.png").write_bytes(b"\x89PNG but not really")
    with pytest.raises(ValueError, match="b.png is not a readable image"):
        load_image_folder(tmp_path / "broken")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no images"):
        load_image_folder(tmp_path / "empty")


def test_csv_standardizes_features_and_reads_labels(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["a,b,c,kind"] + [f"{rng.normal(5, 2):.3f},{rng.normal(-1, 9):.3f},{i},{'xy'[i % 2]}" for i in range(40)]
    (tmp_path / "t.csv").write_text("\n".join(rows))
    d = load_csv(tmp_path / "t.csv", label_column="kind")
    assert d.kind == "tabular" and d.input_shape == (3,) and d.feature_names == ["a", "b", "c"]
    assert d.class_names == ["x", "y"]
    assert torch.allclose(d.x_train.mean(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(d.x_train.std(0), torch.ones(3), atol=1e-5)


@pytest.mark.parametrize(
    "text,label,message",
    [
        ("", None, "is empty"),
        ("a,b\n", None, "has a header but no rows"),
        ("a,b\n1,x\n2,y\n", None, "columns must be numeric, these are not: b"),
        ("a,b\n1,2\n3,\n", None, "missing or non-finite values, first at row 3, column 'b'"),
        ("a,b\n1,2\n3,4\n", "label", "has no column 'label'"),
        ("a,label\n1,2\n3,\n", "label", "label column 'label' has empty values"),
    ],
)
def test_csv_bad_inputs(tmp_path, text, label, message):
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(ValueError, match=message):
        load_csv(tmp_path / "bad.csv", label_column=label)
