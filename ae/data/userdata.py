"""Datasets from the user's own files: an .npz of images, a folder or .zip of images, or a CSV of numeric columns.

Every malformed input raises an InputError that names the file and the problem, because these messages reach the UI
verbatim. Sizes are measured from what a file declares (.npy headers, image headers, the CSV header row) and checked
against `ae.limits` before anything of that size is allocated; pixels are decoded straight into the train and test
arrays, so the peak stays near the dataset's final size.
"""

from __future__ import annotations

import csv
import functools
import math
import re
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

import numpy as np
import pandas as pd
import torch

from ae.data.imageio import TOLERANCE, channels, decode_image, open_image, upright_size
from ae.data.sources import Dataset, stratified_split
from ae.errors import InputError, user_input
from ae.limits import MAX_DATASET_BYTES, MAX_FEATURES, MAX_FILES, MAX_SAMPLES, MAX_SIDE, MiB, mb

__all__ = [  # the limits are re-exported: pages import them from here
    "MAX_FEATURES", "MAX_SAMPLES", "MAX_SIDE", "images_from_array", "load_csv", "load_image_folder", "load_npz",
    "load_zip",
]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
TEST_FRACTION = 0.2
MAX_ZIP_BYTES = MAX_DATASET_BYTES  # members' total unpacked size; encoded images are far smaller than float32 pixels
ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}  # what zipfile reads
JUNK_FILES = {"Thumbs.db", "desktop.ini"}  # what Windows leaves in folders
CHUNK_BYTES = 16 * MiB  # rows are converted a block at a time, so a cast never holds a second full copy
SNIFF_BYTES = 64 * 1024
HEADER_BYTES = MAX_FEATURES * 100  # a CSV header row longer than this is not a table we can take
DELIMITERS = ",;\t|"
FLOAT32_MAX = float(np.finfo(np.float32).max)
NUMBER_WITH_COMMA = re.compile(r"(?<![\w.,])-?(\d+),(\d+)(?![\w.,])")


# --- shared: labels, split, block-wise conversion -------------------------------------------------------------------


def _labels(y: np.ndarray | None, n: int) -> tuple[np.ndarray | None, list[str]]:
    """Map any label values to 0..K-1 and keep their names."""
    if y is None:
        return None, []
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise InputError(f"labels must be one value per sample: got shape {list(y.shape)} for {n} samples")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise InputError("labels contain NaN")
    names, codes = np.unique(y, return_inverse=True)
    return codes.astype(np.int64), [str(v) for v in names]


def _split(n: int, y: np.ndarray | None, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/test indices, computed before the data is converted so each row is copied once."""
    if n < 2:
        raise InputError(f"{name}: need at least 2 samples to make a train and a test split, got {n}")
    if n > MAX_SAMPLES:
        raise InputError(f"{name}: {n:,} samples is over the limit of {MAX_SAMPLES:,}")
    return stratified_split(n, y, test=TEST_FRACTION, seed=0)


def _dataset(name: str, x_train: np.ndarray, x_test: np.ndarray, y: np.ndarray | None,
             split: tuple[np.ndarray, np.ndarray], **kw) -> Dataset:
    yt = torch.from_numpy(y) if y is not None else None
    tr, te = split
    return Dataset(name=name, x_train=torch.from_numpy(x_train), x_test=torch.from_numpy(x_test),
                   y_train=yt[tr] if yt is not None else None, y_test=yt[te] if yt is not None else None, **kw)


def _blocks(n: int, row_elements: int) -> Iterator[slice]:
    step = max(1, CHUNK_BYTES // max(1, 8 * row_elements))
    for s in range(0, n, step):
        yield slice(s, s + step)


def _gather(x: np.ndarray, idx: np.ndarray, convert: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """float32 `convert(x[idx])`, one block of rows at a time: the peak is the result plus one block."""
    out = np.empty((len(idx), *x.shape[1:]), dtype=np.float32)
    for s in _blocks(len(idx), math.prod(x.shape[1:])):
        out[s] = convert(x[idx[s]])
    return out


def _budget(shape: tuple[int, ...], what: str) -> None:
    need = math.prod(shape) * 4
    if need > MAX_DATASET_BYTES:
        raise InputError(f"{what}: shape {list(shape)} takes {mb(need)} as float32, over the budget of "
                         f"{mb(MAX_DATASET_BYTES)}; use fewer or smaller samples")


# --- arrays of images -----------------------------------------------------------------------------------------------


def _check_side(h: int, w: int, what: str) -> None:
    if max(h, w) > MAX_SIDE:
        raise InputError(f"{what}: images of {h}x{w} are over the limit of {MAX_SIDE}x{MAX_SIDE} pixels")


def _image_layout(x: np.ndarray, what: str) -> np.ndarray:
    """A view of x as [N, C, H, W] (no copy), or InputError saying which layouts are accepted."""
    if x.dtype.kind not in "buif":
        raise InputError(f"{what} must be numeric, got dtype {x.dtype}")
    if x.size == 0:
        raise InputError(f"{what} is empty")
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4:
        if x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
            x = x.transpose(0, 3, 1, 2)
        elif x.shape[1] not in (1, 3):
            raise InputError(
                f"{what} has shape {list(x.shape)}: with 4 dimensions it must be [N, H, W, C] or [N, C, H, W] "
                f"with C = 1 (grey) or 3 (RGB)"
            )
    else:
        raise InputError(
            f"{what} has shape {list(x.shape)}; expected [N, H, W], [N, H, W, C] or [N, C, H, W] images"
        )
    _check_side(x.shape[2], x.shape[3], what)
    return x


def _pixel_scale(x: np.ndarray, what: str) -> float:
    """The factor that brings x to [0, 1], read from its dtype and range; refuses a range that could mean two things."""
    if x.dtype.kind == "b":
        return 1.0
    lo, hi = x.min(), x.max()
    if x.dtype.kind == "f":
        lo, hi = float(lo), float(hi)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise InputError(f"{what} contains NaN or infinite values")
        if lo < -TOLERANCE or hi > 255:
            raise InputError(f"{what} values must be in [0, 1] or 0..255; found {lo:g}..{hi:g}")
        if hi <= 1 + TOLERANCE:
            return 1.0
        if hi < 2:
            raise InputError(f"{what} values run {lo:g}..{hi:g}: that is neither [0, 1] nor 0..255, so the scale "
                             f"is unclear; rescale them to [0, 1]")
        return 1 / 255
    lo, hi = int(lo), int(hi)
    if lo < 0:
        raise InputError(f"{what} values must be in [0, 1] or 0..255; found {lo}..{hi}")
    if hi <= 1:
        return 1.0  # a binary mask (0/1) stays 0/1 whatever its integer type
    if x.dtype == np.uint16 and hi > 255:
        return 1 / 65535
    if hi > 255:
        raise InputError(f"{what} values must be in [0, 1] or 0..255; found {lo}..{hi} (save 16-bit images as "
                         f"uint16, which is read as 0..65535)")
    return 1 / 255


def _scaler(factor: float) -> Callable[[np.ndarray], np.ndarray]:
    def convert(block: np.ndarray) -> np.ndarray:
        block = block.astype(np.float32)
        if factor != 1.0:
            block *= np.float32(factor)
        return np.clip(block, 0.0, 1.0, out=block)  # float rounding may overshoot [0, 1] by up to TOLERANCE

    return convert


def images_from_array(x: np.ndarray, what: str = "x") -> torch.Tensor:
    """[N, H, W], [N, H, W, C] or [N, C, H, W] (C in 1, 3) -> float32 [N, C, H, W] in [0, 1].

    Scaling follows the dtype and range, and a range that could mean two things is refused rather than guessed:
    bool and integer 0/1 -> as is; other integers must lie in 0..255 (/255), except uint16 with values above 255,
    which is 16-bit (/65535); floats up to 1 (+1e-3 of rounding, clipped) are [0, 1], from 2 to 255 are 0..255 (/255),
    and anything between, negative, above 255, NaN or infinite is an InputError.
    """
    with user_input(what):
        x = _image_layout(np.asarray(x), what)
        _budget(x.shape, what)
        return torch.from_numpy(_gather(x, np.arange(len(x)), _scaler(_pixel_scale(x, what))))


# --- .npz -----------------------------------------------------------------------------------------------------------


def _zip_entries(path: Path) -> int:
    """How many members a zip's end record declares, read before zipfile builds an object for each of them."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - 65_557))  # the end record (22 bytes) follows at most a 64 KB comment
        tail = f.read()
        i = tail.rfind(b"PK\x05\x06")
        if i < 0 or len(tail) < i + 22:
            return 0
        count = struct.unpack("<H", tail[i + 10 : i + 12])[0]
        if count != 0xFFFF or i < 20 or tail[i - 20 : i - 16] != b"PK\x06\x07":
            return count
        f.seek(struct.unpack("<Q", tail[i - 12 : i - 4])[0])  # zip64: the locator points at the zip64 end record
        record = f.read(40)
        return struct.unpack("<Q", record[32:40])[0] if record[:4] == b"PK\x06\x06" else count


def _check_zip(path: Path, should_be: str) -> None:
    """A zip-based upload (an .npz is one) with no more members than the limit, counted before zipfile reads its
    whole directory."""
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path.name} is not {should_be}")
    count = _zip_entries(path)
    if count > MAX_FILES:
        raise InputError(f"{path.name} holds {count:,} files, over the limit of {MAX_FILES:,}")


def _check_member(info: zipfile.ZipInfo, what: str) -> None:
    """zipfile raises RuntimeError or NotImplementedError for these, types no caller would catch."""
    if info.flag_bits & 0x1:
        raise InputError(f"{what}: {info.filename} is encrypted; zip it again without a password")
    if info.compress_type not in ZIP_METHODS:
        raise InputError(f"{what}: {info.filename} uses a compression method this server cannot read "
                         f"(number {info.compress_type}); zip it again with the usual 'deflate'")


def _npy_header(z: zipfile.ZipFile, member: str, what: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from a member's .npy header; only its first bytes are decompressed."""
    fmt = np.lib.format
    _check_member(z.getinfo(member), what)
    with z.open(member) as f:
        try:
            version = fmt.read_magic(f)
            read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, _, dtype = read(f)
        except ValueError as e:
            raise InputError(f"{what}: {member} is not a readable NumPy array ({e})") from e
    return tuple(shape), dtype


def _npz_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and dtype of `x` and `y`, checked against the limits before np.load allocates anything."""
    what = path.name
    with zipfile.ZipFile(path) as z:
        members = {n[:-4] if n.endswith(".npy") else n: n for n in z.namelist()}
        if "x" not in members:
            raise InputError(f"{what} has no array named 'x' (found: {', '.join(sorted(members)) or 'nothing'})")
        headers = {k: _npy_header(z, members[k], what) for k in ("x", "y") if k in members}
    for key, (shape, dtype) in headers.items():
        if dtype.hasobject:
            raise InputError(f"{what} holds Python objects; only plain numeric arrays are accepted")
        if dtype.kind not in ("buif" if key == "x" else "buifUS"):
            raise InputError(f"{what}: {key} must be numeric, got dtype {dtype}")
        if shape and shape[0] > MAX_SAMPLES:
            raise InputError(f"{what}: {key} holds {shape[0]:,} samples, over the limit of {MAX_SAMPLES:,}")
        if key == "x":
            _budget(shape, f"{what}: x")
        elif math.prod(shape) * dtype.itemsize > MAX_DATASET_BYTES:
            raise InputError(f"{what}: the labels y of shape {list(shape)} and dtype {dtype} take "
                             f"{mb(math.prod(shape) * dtype.itemsize)}, over the budget of {mb(MAX_DATASET_BYTES)}")
    return headers


def _read_array(f: np.lib.npyio.NpzFile, key: str, what: str) -> np.ndarray:
    try:
        return f[key]
    except ValueError as e:  # numpy's words for data shorter than its header says
        raise InputError(f"{what}: array '{key}' cannot be read; the file is truncated or corrupt ({e})") from e


def load_npz(path: str | Path, name: str | None = None) -> Dataset:
    """An .npz with array `x` (images) and optional `y` (one label per image). Never unpickles.

    Headers are read first, so a small file that declares a huge array is refused without allocating it.
    """
    path = Path(path)
    name = name or path.stem  # the dataset's name, unless the caller chose one
    with user_input(path.name):
        _check_zip(path, "an .npz archive (save one with numpy.savez(path, x=images, y=labels))")
        headers = _npz_headers(path)
        with np.load(path, allow_pickle=False) as f:
            x = _read_array(f, "x", path.name)
            y = _read_array(f, "y", path.name) if "y" in headers else None
        what = f"{path.name}: x"
        x = _image_layout(x, what)
        convert = _scaler(_pixel_scale(x, what))
        y_codes, names = _labels(y, len(x))
        tr, te = _split(len(x), y_codes, name)
        x_train, x_test = _gather(x, tr, convert), _gather(x, te, convert)
    return _dataset(name, x_train, x_test, y_codes, (tr, te), class_names=names,
                    source=f"uploaded file {path.name}", kind="image")


# --- folders and zips of images -------------------------------------------------------------------------------------


@dataclass
class _Item:
    rel: str  # path inside the folder or zip, for messages
    label: str | None
    open: Callable[[], IO[bytes]]


def _hidden(part: str) -> bool:
    return part.startswith((".", "__")) or part in JUNK_FILES


def _arrange(entries: list[tuple[tuple[str, ...], Callable[[], IO[bytes]]]], what: str) -> list[_Item]:
    """Relative paths -> items: one subfolder per class (labelled) or the images directly inside (unlabelled)."""
    if not entries:
        raise InputError(f"{what} holds no images")
    depth = {len(parts) for parts, _ in entries}
    deep = [parts for parts, _ in entries if len(parts) > 2]
    if deep:
        raise InputError(f"{what}: nested folders are not supported: {'/'.join(deep[0][:-1])}")
    if depth == {1, 2}:
        stray = [parts[0] for parts, _ in entries if len(parts) == 1]
        raise InputError(f"{what} mixes class subfolders with loose files ({', '.join(stray[:3])})")
    items = [_Item("/".join(parts), parts[0] if len(parts) == 2 else None, opener) for parts, opener in entries]
    for item in items:
        if PurePosixPath(item.rel).suffix.lower() not in IMAGE_SUFFIXES:
            raise InputError(f"{what}: {item.rel} is not an image (accepted: {', '.join(sorted(IMAGE_SUFFIXES))})")
    return items


def _image_headers(items: list[_Item], what: str) -> tuple[int, int, int]:
    """(C, H, W) of the dataset from each image's header alone: one size, sides and the float32 budget checked."""
    if len(items) > MAX_SAMPLES:
        raise InputError(f"{what} holds {len(items):,} files, over the limit of {MAX_SAMPLES:,}")
    size, c = None, 1
    for item in items:
        label = f"{what}: {item.rel}"
        with user_input(label), item.open() as f, open_image(f, label) as im:
            here, c_here = upright_size(im), channels(im)
        if size is None:
            size, first = here, item.rel
            _check_side(size[1], size[0], label)
            _budget((len(items), 1, size[1], size[0]), f"{what}: {len(items):,} images")  # fail before reading all
        elif here != size:
            raise InputError(f"{what}: images differ in size: {first} is {size[0]}x{size[1]} but {item.rel} is "
                             f"{here[0]}x{here[1]}; resize them to one size first")
        c = max(c, c_here)
    _budget((len(items), c, size[1], size[0]), f"{what}: {len(items):,} {'colour' if c == 3 else 'grey'} images")
    return c, size[1], size[0]


def _decode_into(item: _Item, dest: np.ndarray, what: str) -> None:
    """Decode one image into its slot [C, H, W] of the preallocated dataset; grey fills every channel."""
    label = f"{what}: {item.rel}"
    with user_input(label), item.open() as f, open_image(f, label) as im:
        arr = decode_image(im, label)
    if arr.shape[:2] != dest.shape[1:] or arr.shape[2] > dest.shape[0]:
        raise InputError(f"{label} decodes to {arr.shape[1]}x{arr.shape[0]} pixels, unlike the other images; "
                         f"resize them to one size first")
    dest[...] = arr.transpose(2, 0, 1)


def _all_grey(x: np.ndarray) -> bool:
    return bool((x[:, 0] == x[:, 1]).all() and (x[:, 0] == x[:, 2]).all())


def _images_dataset(items: list[_Item], name: str, what: str, source: str) -> Dataset:
    """Headers first, then every image decoded straight into its train or test slot (no list of arrays, no stack)."""
    c, h, w = _image_headers(items, what)
    labelled = items[0].label is not None
    y_codes, names = _labels(np.array([i.label for i in items]), len(items)) if labelled else (None, [])
    tr, te = _split(len(items), y_codes, name)
    parts = np.empty((len(tr), c, h, w), np.float32), np.empty((len(te), c, h, w), np.float32)
    where = {int(i): (parts[0], k) for k, i in enumerate(tr)} | {int(i): (parts[1], k) for k, i in enumerate(te)}
    for i, item in enumerate(items):
        out, k = where[i]
        _decode_into(item, out[k], what)
    if c == 3 and all(_all_grey(p) for p in parts):  # palette or RGB files that hold grey pictures
        parts = tuple(np.ascontiguousarray(p[:, :1]) for p in parts)
    return _dataset(name, parts[0], parts[1], y_codes, (tr, te), class_names=names, source=source, kind="image")


def _folder_entries(root: Path) -> list[tuple[tuple[str, ...], Callable[[], IO[bytes]]]]:
    out = []
    for p in sorted(root.iterdir()):
        if _hidden(p.name):
            continue
        if not p.is_dir():
            out.append(((p.name,), functools.partial(open, p, "rb")))
            continue
        for f in sorted(p.iterdir()):
            if _hidden(f.name):
                continue
            if f.is_dir():
                raise InputError(f"{root.name}: nested folders are not supported: {p.name}/{f.name}")
            out.append(((p.name, f.name), functools.partial(open, f, "rb")))
    return out


def load_image_folder(path: str | Path, name: str | None = None) -> Dataset:
    """A folder of images: one subfolder per class (labelled) or the images directly inside (unlabelled).

    All images must share one size; the dataset is grey when every image is grey, otherwise RGB.
    """
    root = Path(path)
    name = name or root.name
    with user_input(root.name):
        if not root.is_dir():
            raise InputError(f"{root} is not a folder")
        items = _arrange(_folder_entries(root), root.name)
        return _images_dataset(items, name, root.name, f"image folder {root.name}")


def _zip_members(z: zipfile.ZipFile, what: str) -> list[tuple[tuple[str, ...], Callable[[], IO[bytes]]]]:
    """Safe member paths (no absolute path, no '..', no drive) without hidden files, one wrapping folder removed."""
    members = []
    for info in z.infolist():
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
            raise InputError(f"{what} has an unsafe path: {info.filename}")
        if not info.is_dir() and parts and not any(_hidden(p) for p in parts):
            _check_member(info, what)
            members.append((parts, info))
    if sum(info.file_size for _, info in members) > MAX_ZIP_BYTES:
        raise InputError(f"{what} unpacks to more than {mb(MAX_ZIP_BYTES)}")
    if members and all(len(p) > 1 for p, _ in members) and len({p[0] for p, _ in members}) == 1:
        members = [(p[1:], info) for p, info in members]  # zips often wrap everything in one folder
    return [(p, functools.partial(z.open, info)) for p, info in members]


def load_zip(path: str | Path, name: str | None = None) -> Dataset:
    """A .zip of images: class subfolders or flat, optionally inside one top folder.

    Members are read from the zip, never extracted; every header is checked (count, one size, sides, the float32
    budget) before any pixel is decoded, and a member whose declared size lies fails its CRC check.
    """
    path, name = Path(path), name or Path(path).stem
    with user_input(path.name):
        _check_zip(path, "a zip file")
        with zipfile.ZipFile(path) as z:
            items = _arrange(_zip_members(z, path.name), path.name)
            return _images_dataset(items, name, path.name, f"uploaded zip {path.name}")


# --- CSV ------------------------------------------------------------------------------------------------------------


def _head(path: Path) -> bytes:
    """The first complete lines (about 64 KB; more when the header row alone is longer): enough to sniff the format."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
        if b"\n" not in head:
            head += f.read(HEADER_BYTES)
        at_end = not f.read(1)
    if at_end:
        return head
    cut = head.rfind(b"\n")
    if cut < 0:
        raise InputError(f"{path.name}: the first line is longer than {mb(HEADER_BYTES)}; this is not a CSV table")
    return head[: cut + 1]


def _encoding(head: bytes) -> str:
    """UTF-8 (with or without Excel's byte-order mark), else Windows-1252, which European Excel still writes."""
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def _decimal_comma(text: str) -> bool:
    """True when some number is written like `0,5` or `1,25`: `1,234` alone could be a thousands separator, and
    guessing would silently divide by 1000, so such a file keeps "." and its column is reported as not numeric."""
    return any(whole == "0" or len(frac) != 3 for whole, frac in NUMBER_WITH_COMMA.findall(text))


def _dialect(text: str) -> tuple[str, str]:
    """(delimiter, decimal mark): European Excel writes `0,5;1,5`, separated by ";" or tabs with decimal commas."""
    try:
        sep = csv.Sniffer().sniff(text, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sep = ","
    return sep, "," if sep != "," and _decimal_comma(text) else "."


def _read_table(path: Path, label_column: str | None) -> pd.DataFrame:
    """Parse with the sniffed dialect, reading no more rows than the limits allow (+1 to tell that there are more)."""
    head = _head(path)
    if not head.strip():
        raise InputError(f"{path.name} is empty")
    encoding = _encoding(head)
    text = head.decode(encoding)
    sep, decimal = _dialect(text)
    header = next(csv.reader((text.splitlines() or [""])[:1], delimiter=sep), [])
    n_features = len(header) - (label_column in header)
    if n_features > MAX_FEATURES:
        raise InputError(f"{path.name} has {n_features:,} columns, over the limit of {MAX_FEATURES:,}")
    max_rows = min(MAX_SAMPLES, MAX_DATASET_BYTES // (4 * max(1, n_features)))
    try:
        df = pd.read_csv(path, sep=sep, decimal=decimal, nrows=max_rows + 1, encoding=encoding,
                         skipinitialspace=True, index_col=False)
    except pd.errors.EmptyDataError as e:
        raise InputError(f"{path.name} is empty") from e
    except pd.errors.ParserError as e:
        raise InputError(f"{path.name} is not a readable CSV ({e.__class__.__name__}: {str(e).strip()[:120]})") from e
    if len(df) > max_rows:
        limit = f"the limit of {MAX_SAMPLES:,}" if max_rows == MAX_SAMPLES else (
            f"{max_rows:,}, what {n_features:,} columns fit in the budget of {mb(MAX_DATASET_BYTES)}")
        raise InputError(f"{path.name} has more than {max_rows:,} rows, over {limit}")
    empty = [c for c in df.columns if str(c).startswith("Unnamed: ") and df[c].isna().all()]
    return df.drop(columns=empty)  # a trailing delimiter on every line makes an empty unnamed column


def _one_column_hint(df: pd.DataFrame) -> str:
    if df.shape[1] != 1:
        return ""
    return " (only one column was found; if the file has more, separate them with , ; tab or |)"


def _feature_values(df: pd.DataFrame, what: str) -> np.ndarray:
    """float64 [N, D] of the feature columns; every value finite and within float32's range."""
    bad = [str(c) for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise InputError(f"{what}: columns must be numeric, these are not: {', '.join(bad[:5])}{_one_column_hint(df)}")
    if df.shape[1] == 0:
        raise InputError(f"{what} has no feature columns")
    if df.shape[1] > MAX_FEATURES:
        raise InputError(f"{what} has {df.shape[1]:,} columns, over the limit of {MAX_FEATURES:,}")
    values = df.to_numpy(dtype=np.float64)
    lo, hi = values.min(), values.max()
    if not (np.isfinite(lo) and np.isfinite(hi)):
        rows, cols = np.where(~np.isfinite(values))
        raise InputError(f"{what} has missing or non-finite values, first at row {rows[0] + 2}, "
                         f"column {df.columns[cols[0]]!r}")
    if max(-lo, hi) > FLOAT32_MAX:
        rows, cols = np.where(np.abs(values) > FLOAT32_MAX)
        raise InputError(f"{what}: the value {values[rows[0], cols[0]]:g} at row {rows[0] + 2}, column "
                         f"{df.columns[cols[0]]!r} is too large for 32-bit floats (largest about 3.4e38)")
    return values


def _standardize(values: np.ndarray, tr: np.ndarray, te: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) as float32, standardized in float64 with the train rows' mean and std (1e30s overflow float32).

    A column constant over the train rows keeps std 1, so it stays 0 there rather than dividing by zero.
    """
    mean = sum(values[tr[s]].sum(0) for s in _blocks(len(tr), values.shape[1])) / len(tr)
    sq = sum(((values[tr[s]] - mean) ** 2).sum(0) for s in _blocks(len(tr), values.shape[1]))
    std = np.sqrt(sq / max(1, len(tr) - 1))  # unbiased, as torch's std
    std[std == 0] = 1.0
    return _gather(values, tr, lambda v: (v - mean) / std), _gather(values, te, lambda v: (v - mean) / std)


def load_csv(path: str | Path, name: str | None = None, label_column: str | None = None) -> Dataset:
    """A CSV with a header row of numeric feature columns and an optional label column.

    The delimiter (, ; tab |) and decimal commas are detected. Features are standardized with the train split's mean
    and std (noted in `source`) so every column counts alike.
    """
    path = Path(path)
    name = name or path.stem
    with user_input(path.name):
        df = _read_table(path, label_column)
        if df.empty:
            raise InputError(f"{path.name} has a header but no rows")
        y = None
        if label_column is not None:
            if label_column not in df.columns:
                cols = ", ".join(map(str, df.columns[:10]))
                raise InputError(f"{path.name} has no column {label_column!r} (columns: {cols})")
            y = df.pop(label_column).to_numpy()
            if pd.isna(y).any():
                raise InputError(f"label column {label_column!r} has empty values")
            y = y.astype(str) if y.dtype.kind == "O" else y
        values = _feature_values(df, path.name)
        columns, hint = [str(c) for c in df.columns], _one_column_hint(df)
        del df
        y_codes, names = _labels(y, len(values))
        tr, te = _split(len(values), y_codes, name)
        if (values.max(0) == values.min(0)).all():
            raise InputError(f"{path.name}: every feature column is constant ({', '.join(columns[:5])}), so there is "
                             f"nothing to learn{hint}")
        x_train, x_test = _standardize(values, tr, te)
        if not (np.isfinite(x_train).all() and np.isfinite(x_test).all()):
            raise InputError(f"{path.name}: the test rows lie too far from the train rows to standardize in 32 bits")
    return _dataset(name, x_train, x_test, y_codes, (tr, te), class_names=names,
                    source=f"CSV {path.name}, standardized with the train split's mean and std", kind="tabular",
                    feature_names=columns)


LOADERS = {".npz": load_npz, ".zip": load_zip, ".csv": load_csv}


def load_file(path: str | Path, name: str | None = None, label_column: str | None = None) -> Dataset:
    """Any user dataset by its suffix (.npz, .zip, .csv) or a folder of images: the one door the browser and the
    command line share, with the same limits and messages."""
    path = Path(path)
    if path.is_dir():
        return load_image_folder(path, name)
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        raise InputError(f"{path.name}: a dataset is an .npz, a .zip of images, a .csv or a folder of images")
    if not path.exists():
        raise InputError(f"{path} does not exist")
    if suffix == ".csv":
        return load_csv(path, name, label_column)
    return LOADERS[suffix](path, name)
