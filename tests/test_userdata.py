"""The user's own files: good inputs load; each malformed input gets a message that names the problem."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

import ae.data.userdata
from ae.data.imageio import decode_image, prepare_image
from ae.data.userdata import images_from_array, load_csv, load_image_folder, load_npz, load_zip
from ae.errors import InputError


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
    with pytest.raises(InputError, match=message):
        load_npz(tmp_path / "bad.npz")


def test_npz_with_pickled_objects_or_not_an_npz(tmp_path):
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(InputError, match="holds Python objects"):
        load_npz(tmp_path / "obj.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(InputError, match="not an .npz archive"):
        load_npz(tmp_path / "text.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(InputError, match="not an .npz archive"):
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
    with pytest.raises(InputError, match="images differ in size: a.png is 10x12 but b.png is 28x28"):
        load_image_folder(tmp_path / "mixed")
    save_png(tmp_path / "notes" / "a.png")
    (tmp_path / "notes" / "readme.txt").write_text("hi")
    with pytest.raises(InputError, match="readme.txt is not an image"):
        load_image_folder(tmp_path / "notes")
    save_png(tmp_path / "broken" / "a.png")
    (tmp_path / "broken" / "b.png").write_bytes(b"\x89PNG but not really")
    with pytest.raises(InputError, match="b.png is not a readable image"):
        load_image_folder(tmp_path / "broken")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no images"):
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
    with pytest.raises(InputError, match=message):
        load_csv(tmp_path / "bad.csv", label_column=label)


# --- pixel scaling ----------------------------------------------------------------------------------------------------


def test_float_images_with_a_rounding_overshoot_are_clipped_not_divided_by_255():
    x = np.random.default_rng(0).random((6, 8, 8)).astype(np.float32)
    x[0, 0, 0] = 1.0001
    out = images_from_array(x)
    assert float(out.max()) == 1.0 and float(out.mean()) > 0.3
    assert np.allclose(out[:, 0].numpy(), np.clip(x, 0, 1))


@pytest.mark.parametrize(
    "x,expected",
    [
        (np.array([[[True, False]]] * 2), [1.0, 0.0]),
        (np.array([[[1, 0]]] * 2, np.uint8), [1.0, 0.0]),  # a 0/1 mask stays 0/1
        (np.array([[[255, 51]]] * 2, np.uint8), [1.0, 0.2]),
        (np.array([[[65535, 32768]]] * 2, np.uint16), [1.0, 32768 / 65535]),
        (np.array([[[200, 100]]] * 2, np.uint16), [200 / 255, 100 / 255]),
        (np.array([[[255.0, 127.5]]] * 2, np.float64), [1.0, 0.5]),
    ],
)
def test_images_from_array_scales_by_dtype_and_range(x, expected):
    assert np.allclose(images_from_array(x)[0, 0, 0].numpy(), expected, atol=1e-6)


@pytest.mark.parametrize(
    "x,message",
    [
        (np.full((2, 4, 4), 1.5, np.float32), r"neither \[0, 1\] nor 0..255"),
        (np.full((2, 4, 4), 300, np.int64), "found 300..300 .save 16-bit images as uint16"),
        (np.full((2, 4, 4), 256.0), r"must be in \[0, 1\] or 0..255"),
        (np.full((2, 4, 4), np.inf), "NaN or infinite"),
    ],
)
def test_images_from_array_refuses_an_unclear_range(x, message):
    with pytest.raises(InputError, match=message):
        images_from_array(x)


# --- the shared decoder: alpha, 16 bit, EXIF -------------------------------------------------------------------------


def png_bytes(im):
    b = io.BytesIO()
    im.save(b, format="PNG")
    return b.getvalue()


def glyph():
    """A black square on a fully transparent background whose hidden colour is black too."""
    a = np.zeros((16, 16, 4), np.uint8)
    a[4:12, 4:12, 3] = 255
    return Image.fromarray(a)


def test_rgba_glyph_in_a_zip_loads_dark_on_white(tmp_path):
    path = tmp_path / "glyphs.zip"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(4):
            z.writestr(f"g/{i}.png", png_bytes(glyph()))
    x = torch.cat([(d := load_zip(path)).x_train, d.x_test]).numpy()
    assert d.input_shape == (1, 16, 16)  # black on white is grey, though the files are RGBA
    assert x[:, 0, :4].mean() > 0.99 and x[:, 0, 4:12, 4:12].max() < 0.01


def test_16_bit_grey_png_reads_by_its_range(tmp_path):
    im = Image.fromarray(np.full((8, 8), 32768, np.uint16))
    for i in range(3):
        im.save(tmp_path / f"{i}.png")
    d = load_image_folder(tmp_path)
    assert d.input_shape == (1, 8, 8) and abs(float(d.x_train.mean()) - 0.5) < 1e-3
    x, _ = prepare_image(png_bytes(im), (3, 8, 8))
    assert abs(float(x.mean()) - 0.5) < 0.01 and float(x.std()) < 0.01
    x, _ = prepare_image(png_bytes(im), (1, 28, 28))
    assert abs(float(x[0, 0, 14, 14]) - 0.5) < 0.01


@pytest.mark.parametrize(
    "im,expected",
    [
        (Image.fromarray(np.full((4, 4), 32768, np.int32)), 32768 / 65535),
        (Image.fromarray(np.full((4, 4), 0.25, np.float32)), 0.25),
        (Image.fromarray(np.full((4, 4), 51.0, np.float32)), 0.2),
        (Image.new("LA", (4, 4), (0, 0)), 1.0),
    ],
)
def test_decode_image_modes(im, expected):
    arr = decode_image(im)
    assert arr.shape == (4, 4, 1) and arr.dtype == np.float32 and np.allclose(arr, expected, atol=1e-6)


def rotated_jpeg():
    """Stored 20 wide x 10 high with a dark left half; EXIF 6 says: turn 90 degrees clockwise to view."""
    a = np.full((10, 20), 230, np.uint8)
    a[:, :10] = 20
    exif = Image.Exif()
    exif[0x0112] = 6
    b = io.BytesIO()
    Image.fromarray(a).save(b, format="JPEG", exif=exif, quality=95)
    return b.getvalue()


def test_exif_rotated_photo_loads_upright(tmp_path):
    (tmp_path / "a.jpg").write_bytes(rotated_jpeg())
    Image.new("L", (10, 20), 128).save(tmp_path / "b.png")  # already upright: one size with the rotated photo
    d = load_image_folder(tmp_path)
    x = torch.cat([d.x_train, d.x_test])
    assert d.input_shape == (1, 20, 10)
    photo = x[x.std(dim=(1, 2, 3)) > 0.1][0, 0]
    assert float(photo[:10].mean()) < 0.2 and float(photo[10:].mean()) > 0.8  # the dark left half is now on top
    x, notes = prepare_image(rotated_jpeg(), (3, 20, 10))
    assert float(x[0, :, :10].mean()) < 0.2 and any("upright" in n for n in notes)


# --- CSV ------------------------------------------------------------------------------------------------------------


def csv_rows(sep=",", decimal="."):
    rng = np.random.default_rng(1)
    rows = [sep.join(["a", "b", "kind"])]
    for i in range(20):
        a, b = rng.normal(3, 2), rng.normal(-1, 5)
        rows.append(sep.join([f"{a:.3f}".replace(".", decimal), f"{b:.3f}".replace(".", decimal), "xy"[i % 2]]))
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("sep,decimal", [(";", ","), ("\t", ","), ("|", "."), (";", ".")])
def test_csv_delimiters_and_decimal_commas(tmp_path, sep, decimal):
    (tmp_path / "plain.csv").write_text(csv_rows())
    (tmp_path / "euro.csv").write_text(csv_rows(sep, decimal))
    plain = load_csv(tmp_path / "plain.csv", label_column="kind")
    euro = load_csv(tmp_path / "euro.csv", label_column="kind")
    assert euro.feature_names == ["a", "b"] and euro.class_names == ["x", "y"]
    assert torch.equal(euro.x_train, plain.x_train) and torch.equal(euro.x_test, plain.x_test)


def test_csv_from_european_excel_in_windows_1252(tmp_path):
    (tmp_path / "excel.csv").write_bytes("größe;wert\n0,5;1\n1,5;2\n2,5;7\n".encode("cp1252"))
    d = load_csv(tmp_path / "excel.csv")
    assert d.feature_names == ["größe", "wert"] and len(d.x_train) + len(d.x_test) == 3


@pytest.mark.parametrize(
    "text,message",
    [
        ("a,b\n1,2\n3,1e39\n4,5\n", "1e.39 at row 3, column 'b' is too large for 32-bit floats"),
        ("a,b\n1,7\n1,7\n1,7\n", "every feature column is constant .a, b., so there is nothing to learn"),
        ("value\n5\n5\n5\n", "nothing to learn .only one column was found"),
        ("a b\n1 2\n3 4\n", "must be numeric.*only one column was found"),
        ("\ufeff", "is empty"),
        ("a;b\n1,234;2\n3,500;4\n", "must be numeric, these are not: a"),  # 1.234 or 1234? not guessed
    ],
)
def test_csv_values_that_cannot_train(tmp_path, text, message):
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(InputError, match=message):
        load_csv(tmp_path / "bad.csv")


def test_csv_huge_values_standardize_in_float64(tmp_path):
    rows = ["a,b"] + [f"{(i % 7 + 1) * 1e30:g},{i}" for i in range(30)]
    (tmp_path / "big.csv").write_text("\n".join(rows))
    d = load_csv(tmp_path / "big.csv")
    assert torch.isfinite(d.x_train).all() and torch.isfinite(d.x_test).all()
    assert torch.allclose(d.x_train.std(0), torch.ones(2), atol=1e-4)


def test_csv_rows_and_columns_are_bounded_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(ae.data.userdata, "MAX_SAMPLES", 10)
    (tmp_path / "long.csv").write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(50)))
    with pytest.raises(InputError, match="more than 10 rows, over the limit of 10"):
        load_csv(tmp_path / "long.csv")
    monkeypatch.setattr(ae.data.userdata, "MAX_FEATURES", 5)
    (tmp_path / "wide.csv").write_text(",".join(f"c{i}" for i in range(8)) + "\n" + ",".join("1" * 8) + "\n")
    with pytest.raises(InputError, match="has 8 columns, over the limit of 5"):
        load_csv(tmp_path / "wide.csv")


# --- .npz: headers before data ----------------------------------------------------------------------------------------


def npz_with_header(path, shape, descr="|u1", data=b"", zeros=0):
    """An .npz whose x.npy header declares `shape`, followed by `data` and `zeros` bytes of zeros (deflated)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, z.open("x.npy", "w", force_zip64=True) as f:
        np.lib.format.write_array_header_1_0(f, {"descr": descr, "fortran_order": False, "shape": shape})
        f.write(data)
        block = bytes(2**20)
        for _ in range(zeros // len(block)):
            f.write(block)


def test_npz_zero_bomb_is_refused_from_its_header(tmp_path):
    path = tmp_path / "bomb.npz"
    npz_with_header(path, (200_000, 256, 256), zeros=64 * 2**20)
    assert path.stat().st_size < 2**20
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"shape \[200000, 256, 256\] takes .* over the budget of 256 MB"):
        load_npz(path)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 2 and peak < 20 * 2**20


def test_npz_header_claiming_a_trillion_elements(tmp_path):
    npz_with_header(tmp_path / "huge.npz", (1000, 1000, 1000, 1000), descr="<f4", data=bytes(64))
    with pytest.raises(InputError, match="over the budget of 256 MB"):
        load_npz(tmp_path / "huge.npz")


def test_npz_truncated_or_corrupt_data(tmp_path):
    npz_with_header(tmp_path / "short.npz", (100, 8, 8), data=bytes(1000))
    with pytest.raises(InputError, match="short.npz: array 'x' cannot be read; the file is truncated"):
        load_npz(tmp_path / "short.npz")
    np.savez_compressed(tmp_path / "ok.npz", x=np.random.default_rng(0).integers(0, 256, (50, 16, 16), np.uint8))
    raw = bytearray((tmp_path / "ok.npz").read_bytes())
    raw[200:260] = bytes(60)  # inside the deflated data
    (tmp_path / "flipped.npz").write_bytes(bytes(raw))
    with pytest.raises(InputError, match="flipped.npz"):
        load_npz(tmp_path / "flipped.npz")


# --- zips of images --------------------------------------------------------------------------------------------------


def test_zip_of_3000_pngs_over_budget_is_refused_before_decoding(tmp_path, monkeypatch):
    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded pixels before checking the budget")

    monkeypatch.setattr(ae.data.userdata, "decode_image", no_decoding)
    png = png_bytes(Image.new("L", (256, 256)))
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(3000):
            z.writestr(f"imgs/{i}.png", png)
    assert path.stat().st_size < 2 * 2**20
    start = time.perf_counter()
    with pytest.raises(InputError, match="3,000 images: shape .* over the budget of 256 MB"):
        load_zip(path)
    assert time.perf_counter() - start < 2


def test_one_colour_image_makes_the_whole_zip_rgb_in_the_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(ae.data.userdata, "MAX_DATASET_BYTES", 10 * 8 * 8 * 4 * 2)  # room for grey, not for colour
    path = tmp_path / "g.zip"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(10):
            z.writestr(f"{i}.png", png_bytes(Image.new("L", (8, 8), 20 * i)))
    assert load_zip(path).input_shape == (1, 8, 8)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("colour.png", png_bytes(Image.new("RGB", (8, 8), (200, 10, 10))))
    with pytest.raises(InputError, match="11 colour images: shape .11, 3, 8, 8. takes"):
        load_zip(path)


def test_zip_decodes_into_one_array(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "rgb.zip"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(300):
            pixels = rng.integers(0, 256, (32, 32, 3), np.uint8)
            z.writestr(f"{'ab'[i % 2]}/{i}.png", png_bytes(Image.fromarray(pixels)))
    final = 300 * 3 * 32 * 32 * 4
    load_zip(path)  # imports (scikit-learn, Pillow's plugins) would count towards the peak otherwise
    tracemalloc.start()
    d = load_zip(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert d.input_shape == (3, 32, 32) and d.class_names == ["a", "b"] and len(d.x_train) == 240
    assert peak < 1.5 * final  # a list of arrays, np.stack and a split copy would each add a full copy


def test_zip_layouts_and_unsafe_paths(tmp_path):
    path = tmp_path / "mac.zip"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(4):
            z.writestr(f"top/cls{i % 2}/{i}.png", png_bytes(Image.new("L", (6, 6), 50 * i)))
        z.writestr("__MACOSX/top/._0.png", b"resource fork")
        z.writestr("top/.DS_Store", b"finder")
    d = load_zip(path)
    assert d.class_names == ["cls0", "cls1"] and d.input_shape == (1, 6, 6)
    for member, message in [("/etc/x.png", "unsafe path"), ("a/../../x.png", "unsafe path"),
                            ("a/b/c/x.png", "nested folders are not supported: b/c"), ("C:/x.png", "unsafe path")]:
        bad = tmp_path / "bad.zip"
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("a/b/y.png", png_bytes(Image.new("L", (6, 6))))
            z.writestr(member, png_bytes(Image.new("L", (6, 6))))
        with pytest.raises(InputError, match=message):
            load_zip(bad)


def test_corrupt_zip_and_lying_size_field(tmp_path):
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(3):
            z.writestr(f"{i}.png", png_bytes(Image.new("L", (20, 20), 40 * i)))
    (tmp_path / "cut.zip").write_bytes(good.getvalue()[:-40])
    with pytest.raises(InputError, match="cut.zip is not a zip file"):
        load_zip(tmp_path / "cut.zip")
    raw = bytearray(good.getvalue())
    for sig, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):  # central and local header: 30 bytes unpacked
        at = raw.find(sig)
        struct.pack_into("<I", raw, at + offset, 30)
    (tmp_path / "lying.zip").write_bytes(bytes(raw))
    with pytest.raises(InputError, match="lying.zip: 0.png"):
        load_zip(tmp_path / "lying.zip")


@pytest.mark.parametrize(
    "offset,value,message",
    [(8, 0x1, "0.png is encrypted"), (10, 9, "0.png uses a compression method this server cannot read .number 9")],
)
def test_zip_members_zipfile_cannot_open(tmp_path, offset, value, message):
    """An encrypted or deflate64 member makes zipfile raise RuntimeError or NotImplementedError; both are refused."""
    for name, maker in (("pics.zip", load_zip), ("arrays.npz", load_npz)):
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("0.png" if maker is load_zip else "x.npy", png_bytes(Image.new("L", (4, 4))))
        raw = bytearray(b.getvalue())
        struct.pack_into("<H", raw, raw.find(b"PK\x01\x02") + offset, value)  # the central directory's field
        (tmp_path / name).write_bytes(bytes(raw))
        with pytest.raises(InputError, match=message if maker is load_zip else message.replace("0.png", "x.npy")):
            maker(tmp_path / name)


# --- one picture to reconstruct ---------------------------------------------------------------------------------------


def blank_png(width, height):
    """A valid 1-bit PNG of any declared size, a few hundred KB at most: deflated zero rows."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer, row, body = zlib.compressobj(1), bytes(1 + (width + 7) // 8), []
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "side,message",
    [
        (20_000, "too large to decode safely .DecompressionBombError"),
        (10_000, "too large to decode safely .DecompressionBombWarning"),
        (7_000, "7000x7000 pixels, over the limit of 40,000,000"),
    ],
)
def test_prepare_image_refuses_huge_pictures_from_their_header(side, message):
    data = blank_png(side, side)
    start = time.perf_counter()
    with pytest.raises(InputError, match=message):
        prepare_image(data, (1, 28, 28))
    assert time.perf_counter() - start < 2


def test_huge_picture_in_a_zip_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "huge.zip", "w") as z:
        z.writestr("a.png", blank_png(20_000, 20_000))
        z.writestr("b.png", blank_png(8, 8))
    with pytest.raises(InputError, match="huge.zip: a.png is an image too large"):
        load_zip(tmp_path / "huge.zip")


@pytest.mark.parametrize(
    "data,shape,message",
    [
        (b"", (1, 28, 28), "the file is empty"),
        (b"not an image", (1, 28, 28), "not a readable PNG or JPEG image"),
        (b"GIF89a" + bytes(30), (1, 28, 28), "not a readable PNG or JPEG image|only PNG and JPEG"),
        (png_bytes(Image.new("L", (4, 4))), (784,), "tabular rows, not images"),
    ],
)
def test_prepare_image_errors(data, shape, message):
    with pytest.raises(InputError, match=message):
        prepare_image(data, shape)


def test_prepare_image_keeps_its_notes():
    a = np.full((40, 30, 4), 255, np.uint8)
    a[..., 3] = 0
    a[10:30, 10:20] = (0, 0, 0, 255)  # a dark stroke on transparent paper
    x, notes = prepare_image(png_bytes(Image.fromarray(a)), (1, 28, 28))
    assert x.shape == (1, 1, 28, 28)
    expected = {"transparent areas filled with white", "converted to grayscale", "resized from 30x40 to 28x28"}
    assert expected <= set(notes)
    assert any(n.startswith("inverted") for n in notes) and float(x[0, 0, 14, 14]) > 0.9
    assert float(x[0, 0, 0, 0]) < 0.05  # the paper, transparent in the file, is white, then inverted to black
