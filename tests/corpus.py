"""A corpus of hostile and awkward inputs, by class of failure (issue 10's list), small enough for CI.

Every case is a file a user could upload (a dataset, a model zip or a picture), written here from a seed, with what
must happen: either a clear message (a regex the InputError's text must match) or the right result (a check on the
loaded dataset or prepared image). `python -m tests.corpus OUT` writes the files into OUT to try them by hand in
the browser.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ae.limits import MAX_SIDE

DATASET, MODEL, PICTURE = "dataset", "model", "picture"


@dataclass(frozen=True)
class Case:
    id: str
    item: int  # the numbered class: 1 poisoned model JSON ... 10 leftovers
    kind: str  # DATASET (Train > Your data), MODEL (Train > Import), PICTURE (Reconstructions > your image)
    make: Callable[[], tuple[str, bytes]]  # -> (file name, bytes)
    error: str = ""  # regex the message must match; "" means the input must load
    check: Callable | None = None  # for inputs that load: asserts the result is right, not merely produced


# ------------------------------------------------------------------ builders


def png(arr: np.ndarray, mode: str | None = None, **save) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, format="PNG", **save)
    return buf.getvalue()


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def zipped(files: dict[str, bytes], compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def digits(n: int = 40, classes: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n small grey 'images' with a class-dependent bright square, uint8 [n, 12, 12], labels 0..classes-1."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.integers(0, 40, (n, 12, 12)).astype(np.uint8)
    for i, c in enumerate(y):
        x[i, 2 + c * 2 : 5 + c * 2, 3:9] = 230
    return x, y


def npz_header_claiming(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    """An .npz whose x.npy header declares `shape` but holds a few bytes of data: the lie must be caught before
    anything of that size is allocated."""
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\x00" * 64
    return zipped({"x.npy": npy})


def zero_bomb() -> bytes:
    """Zeros compress a thousandfold: 1,100 x 256 x 256 of them are a 0.07 MB file that would decode to 275 MB of
    float32, over the 256 MB budget (the issue's was 6.3 MB for 52 GB; the check is the same, this one is quick to
    write)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z, \
            z.open("x.npy", "w", force_zip64=True) as f:
        header = repr({"descr": "|u1", "fortran_order": False, "shape": (1_100, 256, 256)}).encode()
        header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header)
        chunk = bytes(2**16)
        for _ in range(1_100 * 256 * 256 // 2**16):
            f.write(chunk)
    return buf.getvalue()


def many_pngs(n: int = 3000, side: int = MAX_SIDE) -> bytes:
    """n black side x side PNGs: ~0.2 KB each zipped, n * side^2 * 4 bytes as float32 (786 MB for 3000)."""
    one = png(np.zeros((side, side), np.uint8))
    return zipped({f"img/{i:05d}.png": one for i in range(n)}, zipfile.ZIP_STORED)


def lying_zip(inner_name: str, data: bytes) -> bytes:
    """A zip whose central directory claims a smaller uncompressed size than the member really has."""
    raw = bytearray(zipped({inner_name: data}))
    cd = raw.rfind(b"PK\x01\x02")
    struct.pack_into("<I", raw, cd + 24, 10)  # uncompressed size in the central directory
    lh = raw.find(b"PK\x03\x04")
    struct.pack_into("<I", raw, lh + 22, 10)
    return bytes(raw)


def csv(text: str) -> bytes:
    return text.encode()


def exif_rotated_jpeg() -> bytes:
    """A tall bar stored sideways with EXIF Orientation 6 (rotate 90 degrees clockwise to view), as phones do."""
    arr = np.zeros((28, 28), np.uint8)
    arr[12:16, 2:26] = 255  # horizontal as stored; vertical once the orientation is applied
    ex = Image.Exif()
    ex[0x0112] = 6
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=95, exif=ex.tobytes())
    return buf.getvalue()


def big_png(side: int = 20_000) -> bytes:
    """A 20000 x 20000 one-bit PNG: 50 KB of file, 400 million pixels to decode."""
    raw = zlib.compress(b"".join(b"\x00" + bytes((side + 7) // 8) for _ in range(side)), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


# ------------------------------------------------------------------ model zips


def model_files(name: str = "poison", edit: Callable[[dict], None] | None = None,
                weights: bytes | None = None) -> tuple[str, bytes]:
    """A real exported model (the shipped conv-ae-2) renamed, its JSON edited by `edit`."""
    root = Path(__file__).resolve().parents[1] / "pretrained"
    doc = json.loads((root / "conv-ae-2.json").read_text())
    doc["name"] = name
    if edit:
        edit(doc)
    w = (root / "conv-ae-2.safetensors").read_bytes() if weights is None else weights
    return f"{name}.zip", zipped({f"{name}.json": json.dumps(doc).encode(), f"{name}.safetensors": w})


def _set(path: str, value):
    def edit(doc: dict) -> None:
        *keys, last = path.split(".")
        d = doc
        for k in keys:
            d = d.setdefault(k, {})
        d[last] = value

    return edit


def deep_json(name: str = "deep") -> tuple[str, bytes]:
    text = '{"format_version": 1, "name": "deep", "model": ' + "[" * 100_000 + "]" * 100_000 + "}"
    w = (Path(__file__).resolve().parents[1] / "pretrained" / "conv-ae-2.safetensors").read_bytes()
    return f"{name}.zip", zipped({f"{name}.json": text.encode(), f"{name}.safetensors": w})


# ------------------------------------------------------------------ right-result checks


def _check_float_overshoot(ds) -> None:
    x = np.concatenate([ds.x_train.numpy(), ds.x_test.numpy()])
    assert x.max() <= 1.0 and x.max() > 0.9, "floats in [0, 1] were rescaled as if 0..255"


def _check_rgba_composited(ds) -> None:
    x = ds.x_train.numpy()
    assert x.mean() > 0.6, f"transparent background did not become white (mean {x.mean():.2f})"
    assert x.min() < 0.1, "the glyph disappeared"


def _check_16bit(ds) -> None:
    x = ds.x_train.numpy()
    assert 0.45 < np.median(x) < 0.55, f"16-bit mid-grey should load as ~0.5, got {np.median(x):.3f}"


def _check_decimal_commas(ds) -> None:
    assert ds.x_train.shape[1] == 3, f"expected 3 numeric columns, got {ds.x_train.shape[1]}"
    assert float(ds.x_train.std()) > 0.5, "the columns came out constant"


def _check_finite(ds) -> None:
    assert np.isfinite(ds.x_train.numpy()).all() and float(ds.x_train.std()) > 0.1


def _check_small(ds) -> None:
    assert len(ds.x_test) >= 1 and len(ds.x_train) >= 1


def _check_picture_16bit(x, notes) -> None:
    assert 0.3 < float(x.mean()) < 0.7 or float(x.max()) < 1.0, "16-bit picture clipped to white"


def _check_picture_exif(x, notes) -> None:
    img = x[0, 0].numpy()
    cols, rows = img.mean(0), img.mean(1)
    assert cols.max() > rows.max(), "EXIF orientation ignored: the bar should stand upright"


def _check_picture_rgba(x, notes) -> None:
    assert any("transparent" in n for n in notes)


# ------------------------------------------------------------------ the corpus


def _float_overshoot() -> tuple[str, bytes]:
    x, y = digits()
    xf = x.astype(np.float32) / 255.0
    xf[0, 0, 0] = 1.0001
    return "overshoot.npz", npz(x=xf, y=y)


def _rgba_zip() -> tuple[str, bytes]:
    files = {}
    for i in range(12):
        a = np.zeros((12, 12, 4), np.uint8)  # transparent black everywhere...
        a[3:9, 5:7] = (0, 0, 0, 255)  # ...and an opaque black glyph
        files[f"icons/{'ab'[i % 2]}/{i}.png"] = png(a, "RGBA")
    return "rgba.zip", zipped(files)


def _png16_zip() -> tuple[str, bytes]:
    one = png(np.full((12, 12), 32768, np.uint16))
    return "deep16.zip", zipped({f"{i}.png": one for i in range(10)})


def _few_in_first_class() -> tuple[str, bytes]:
    x, y = digits(60, 3)
    y = np.where(np.arange(60) < 6, 0, 1 + np.arange(60) % 2)  # class 0: 6 samples (under 10 training samples)
    return "rare.npz", npz(x=x, y=y)


CASES: list[Case] = [
    # 1. model JSON that imports but poisons pages
    Case("model-metric-string", 1, MODEL, lambda: model_files("metricstr", _set("metrics.mse", "n/a")),
         r"metrics 'mse' must be a number"),
    Case("model-dataset-string", 1, MODEL, lambda: model_files("datastr", _set("dataset", "mnist")),
         r"'dataset' must be an object"),
    Case("model-parameters-string", 1, MODEL, lambda: model_files("paramstr", _set("parameters", "many")),
         r"'parameters' must be a whole number"),
    Case("model-history-garbage", 1, MODEL, lambda: model_files("histstr", _set("history", "long")),
         r"'history' must be a list"),
    # 3. small files that would take the server's memory
    Case("npz-zero-bomb", 3, DATASET, lambda: ("bomb.npz", zero_bomb()), r"MB"),
    Case("npz-header-1e12", 3, DATASET, lambda: ("huge.npz", npz_header_claiming((10**6, 10**3, 10**3))),
         r"over the limit"),
    Case("model-huge-hidden", 3, MODEL,
         lambda: model_files("wide", _set("model", {"arch": "dense", "variant": "vanilla", "input_shape": [1, 28, 28],
                                                   "latent_dim": 2, "hidden": [1000000, 128]})),
         r"weights, over the limit"),
    Case("zip-3000-pngs", 3, DATASET, lambda: ("many.zip", many_pngs()), r"MB"),
    # 6. wrong results without a word
    Case("npz-float-overshoot", 6, DATASET, _float_overshoot, check=_check_float_overshoot),
    Case("npz-float-ambiguous", 6, DATASET,
         lambda: ("amb.npz", npz(x=np.linspace(0, 1.5, 40 * 144, dtype=np.float32).reshape(40, 12, 12))),
         r"neither|\[0, 1\]"),
    Case("zip-rgba", 6, DATASET, _rgba_zip, check=_check_rgba_composited),
    Case("zip-16bit-png", 6, DATASET, _png16_zip, check=_check_16bit),
    Case("csv-semicolon-decimal-comma", 6, DATASET,
         lambda: ("eu.csv", csv("a;b;c\n" + "\n".join(f"{i},5;{i * 2},25;{(i * 7) % 5},75" for i in range(30)))),
         check=_check_decimal_commas),
    Case("csv-1e39", 6, DATASET,
         lambda: ("big.csv", csv("a,b\n" + "\n".join(f"{i},1" for i in range(20)) + "\n1e39,2")),
         r"float32|too large|range"),
    Case("csv-1e30", 6, DATASET,
         lambda: ("large.csv", csv("a,b\n" + "\n".join(f"{i}e30,{i % 3}" for i in range(30)))), check=_check_finite),
    Case("csv-constant", 6, DATASET, lambda: ("flat.csv", csv("a,b\n" + "1,2\n" * 30)), r"constant"),
    Case("picture-16bit", 6, PICTURE, lambda: ("deep.png", png(np.full((28, 28), 30000, np.uint16))),
         check=_check_picture_16bit),
    Case("picture-exif", 6, PICTURE, lambda: ("phone.jpg", exif_rotated_jpeg()), check=_check_picture_exif),
    Case("picture-rgba", 6, PICTURE, lambda: ("glyph.png", png(np.dstack([np.zeros((28, 28, 3), np.uint8),
                                                                          np.eye(28, dtype=np.uint8) * 255]), "RGBA")),
         check=_check_picture_rgba),
    # 7. library errors that used to escape as tracebacks
    Case("zip-corrupt", 7, DATASET, lambda: ("bad.zip", b"PK\x03\x04" + bytes(200)), r"zip|corrupt"),
    Case("zip-lying-size", 7, DATASET, lambda: ("liar.zip", lying_zip("a/0.png", png(np.zeros((12, 12), np.uint8)))),
         r"corrupt|size|CRC|Bad"),
    Case("npz-truncated", 7, DATASET, lambda: ("cut.npz", npz(x=digits()[0])[:300]), r"npz|corrupt|truncated|zip"),
    Case("picture-bomb", 7, PICTURE, lambda: ("bomb.png", big_png()), r"too large|pixels"),
    Case("model-deep-json", 7, MODEL, deep_json, r"nested too deeply"),
    Case("model-corrupt-zip", 7, MODEL, lambda: ("broken.zip", b"PK\x05\x06" + bytes(18)), r"zip|corrupt"),
    Case("model-truncated-weights", 7, MODEL, lambda: model_files("cut", weights=b"\x10\x00\x00"),
         r"truncated or corrupted"),
    Case("zip-traversal", 7, DATASET,
         lambda: ("evil.zip", zipped({"../../etc/x.png": png(np.zeros((8, 8), np.uint8))})), r"unsafe path"),
    # 8. small valid datasets that crashed pages
    Case("npz-three-samples", 8, DATASET, lambda: ("three.npz", npz(x=digits(3)[0])), check=_check_small),
    Case("npz-rare-first-class", 8, DATASET, _few_in_first_class, check=_check_small),
    Case("npz-one-class", 8, DATASET, lambda: ("mono.npz", npz(x=digits(30)[0], y=np.zeros(30, int))),
         check=_check_small),
    Case("npz-nan", 8, DATASET, lambda: ("nan.npz", npz(x=np.full((20, 12, 12), np.nan, np.float32))), r"NaN"),
]


def by_kind(kind: str) -> list[Case]:
    return [c for c in CASES if c.kind == kind]


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus")
    out.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        name, data = case.make()
        (out / f"{case.id}--{name}").write_bytes(data)
    print(f"wrote {len(CASES)} files to {out}")
