"""Datasets from the user's own files: an .npz of images, a folder of images, or a CSV of numeric columns.

Every malformed input raises a ValueError that names the problem, because these messages reach the UI verbatim.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ae.data import Dataset, stratified_split

MAX_SAMPLES = 200_000
MAX_SIDE = 256  # pixels; larger images are out of scope for a laptop-CPU autoencoder
MAX_FEATURES = 10_000
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
TEST_FRACTION = 0.2


def _labels(y: np.ndarray | None, n: int) -> tuple[np.ndarray | None, list[str]]:
    """Map any label values to 0..K-1 and keep their names."""
    if y is None:
        return None, []
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"labels must be one value per sample: got shape {list(y.shape)} for {n} samples")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError("labels contain NaN")
    names, codes = np.unique(y, return_inverse=True)
    return codes.astype(np.int64), [str(v) for v in names]


def _build(name: str, x: torch.Tensor, y: np.ndarray | None, class_names: list[str], source: str, kind: str,
           feature_names: list[str] | None = None) -> Dataset:
    if len(x) < 2:
        raise ValueError(f"{name}: need at least 2 samples to make a train and a test split, got {len(x)}")
    if len(x) > MAX_SAMPLES:
        raise ValueError(f"{name}: {len(x):,} samples is over the limit of {MAX_SAMPLES:,}")
    tr, te = stratified_split(len(x), y, test=TEST_FRACTION, seed=0)
    yt = torch.from_numpy(y) if y is not None else None
    return Dataset(
        name=name,
        x_train=x[tr],
        x_test=x[te],
        y_train=yt[tr] if yt is not None else None,
        y_test=yt[te] if yt is not None else None,
        class_names=class_names,
        source=source,
        kind=kind,
        feature_names=feature_names or [],
    )


def _check_side(h: int, w: int, what: str) -> None:
    if max(h, w) > MAX_SIDE:
        raise ValueError(f"{what}: images of {h}x{w} are over the limit of {MAX_SIDE}x{MAX_SIDE} pixels")


def images_from_array(x: np.ndarray, what: str = "x") -> torch.Tensor:
    """Accept [N, H, W], [N, H, W, C] or [N, C, H, W] (C in 1, 3); uint8 0..255 or floats in [0, 1] or 0..255.

    Returns float32 [N, C, H, W] in [0, 1].
    """
    if x.dtype.kind == "b":
        x = x.astype(np.float32)
    if x.dtype.kind not in "uif":
        raise ValueError(f"{what} must be numeric, got dtype {x.dtype}")
    if x.size == 0:
        raise ValueError(f"{what} is empty")
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4:
        if x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
            x = x.transpose(0, 3, 1, 2)
        elif x.shape[1] not in (1, 3):
            raise ValueError(
                f"{what} has shape {list(x.shape)}: with 4 dimensions it must be [N, H, W, C] or [N, C, H, W] "
                f"with C = 1 (grey) or 3 (RGB)"
            )
    else:
        raise ValueError(
            f"{what} has shape {list(x.shape)}; expected [N, H, W], [N, H, W, C] or [N, C, H, W] images"
        )
    _check_side(x.shape[2], x.shape[3], what)
    x = x.astype(np.float32)
    if not np.isfinite(x).all():
        raise ValueError(f"{what} contains NaN or infinite values")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0 or hi > 255:
        raise ValueError(f"{what} values must be in [0, 1] or 0..255; found {lo:g}..{hi:g}")
    if hi > 1:
        x = x / 255.0
    return torch.from_numpy(np.ascontiguousarray(x))


def load_npz(path: str | Path, name: str | None = None) -> Dataset:
    """An .npz with array `x` (images) and optional `y` (one label per image). Never unpickles."""
    path = Path(path)
    name = name or path.stem
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path.name} is not an .npz archive (save one with numpy.savez(path, x=images, y=labels))")
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = list(f.keys())
            if "x" not in keys:
                raise ValueError(f"{path.name} has no array named 'x' (found: {', '.join(keys) or 'nothing'})")
            x = f["x"]
            y = f["y"] if "y" in keys else None
    except ValueError as e:
        if "pickle" in str(e).lower() or "object arrays" in str(e).lower():
            raise ValueError(f"{path.name} holds Python objects; only plain numeric arrays are accepted") from e
        if "no array named" in str(e):
            raise
        raise ValueError(f"{path.name} is not a readable .npz file ({e})") from e
    except (OSError, EOFError, KeyError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path.name} is not a readable .npz file ({e})") from e
    images = images_from_array(x, f"{path.name}: x")
    y_codes, names = _labels(y, len(images))
    return _build(name, images, y_codes, names, f"uploaded file {path.name}", "image")


def load_image_folder(path: str | Path, name: str | None = None) -> Dataset:
    """A folder of images: one subfolder per class (labelled) or the images directly inside (unlabelled).

    All images must share one size; colour images make an RGB dataset, otherwise grey.
    """
    from PIL import Image, UnidentifiedImageError

    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder")
    name = name or root.name
    visible = sorted(p for p in root.iterdir() if not p.name.startswith((".", "__")))
    subdirs = [p for p in visible if p.is_dir()]
    if subdirs:
        stray = [p.name for p in visible if p.is_file()]
        if stray:
            raise ValueError(f"{root.name} mixes class subfolders with loose files ({', '.join(stray[:3])})")
        items = [(f, d.name) for d in subdirs for f in sorted(d.iterdir()) if not f.name.startswith(".")]
        items_dirs = [f for f, _ in items if f.is_dir()]
        if items_dirs:
            raise ValueError(f"nested folders are not supported: {items_dirs[0].relative_to(root)}")
    else:
        items = [(f, None) for f in visible]
    if not items:
        raise ValueError(f"{root.name} holds no images")
    if len(items) > MAX_SAMPLES:
        raise ValueError(f"{root.name} holds {len(items):,} files, over the limit of {MAX_SAMPLES:,}")
    arrays, labels, size, first = [], [], None, None
    for f, label in items:
        rel = f.relative_to(root)
        if f.suffix.lower() not in IMAGE_SUFFIXES:
            raise ValueError(f"{rel} is not an image (accepted: {', '.join(sorted(IMAGE_SUFFIXES))})")
        try:
            with Image.open(f) as im:
                im.load()
                img = im.convert("RGB")
        except (UnidentifiedImageError, OSError) as e:
            raise ValueError(f"{rel} is not a readable image ({e.__class__.__name__})") from e
        if size is None:
            size, first = img.size, rel
            _check_side(size[1], size[0], str(rel))
        elif img.size != size:
            raise ValueError(
                f"images differ in size: {first} is {size[0]}x{size[1]} but {rel} is {img.size[0]}x{img.size[1]}; "
                f"resize them to one size first"
            )
        arrays.append(np.asarray(img, dtype=np.uint8))
        labels.append(label)
    x = np.stack(arrays)  # [N, H, W, 3]
    grey = (x[..., 0] == x[..., 1]).all() and (x[..., 0] == x[..., 2]).all()
    x = x[..., :1] if grey else x
    images = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).float().div_(255.0)
    y_codes, names = _labels(np.array(labels), len(images)) if subdirs else (None, [])
    return _build(name, images, y_codes, names, f"image folder {root.name}", "image")


def load_csv(path: str | Path, name: str | None = None, label_column: str | None = None) -> Dataset:
    """A CSV with a header row of numeric feature columns and an optional label column.

    Features are standardized with the train split's mean and std (kept in `source`) so every column counts alike.
    """
    path = Path(path)
    name = name or path.stem
    try:
        df = pd.read_csv(path)
    except pd.errors.EmptyDataError as e:
        raise ValueError(f"{path.name} is empty") from e
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise ValueError(f"{path.name} is not a readable CSV ({e.__class__.__name__}: {str(e)[:120]})") from e
    if df.empty:
        raise ValueError(f"{path.name} has a header but no rows")
    y = None
    if label_column is not None:
        if label_column not in df.columns:
            cols = ", ".join(map(str, df.columns[:10]))
            raise ValueError(f"{path.name} has no column {label_column!r} (columns: {cols})")
        y = df.pop(label_column).to_numpy()
        if pd.isna(y).any():
            raise ValueError(f"label column {label_column!r} has empty values")
        y = y.astype(str) if y.dtype.kind == "O" else y
    bad = [str(c) for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise ValueError(f"{path.name}: columns must be numeric, these are not: {', '.join(bad[:5])}")
    if df.shape[1] == 0:
        raise ValueError(f"{path.name} has no feature columns")
    if df.shape[1] > MAX_FEATURES:
        raise ValueError(f"{path.name} has {df.shape[1]:,} columns, over the limit of {MAX_FEATURES:,}")
    values = df.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        rows, cols = np.where(~np.isfinite(values))
        raise ValueError(
            f"{path.name} has missing or non-finite values, first at row {rows[0] + 2}, column {df.columns[cols[0]]!r}"
        )
    y_codes, names = _labels(y, len(values))
    ds = _build(name, torch.from_numpy(values.astype(np.float32)), y_codes, names, f"CSV {path.name}", "tabular",
                [str(c) for c in df.columns])
    mean = ds.x_train.mean(0)
    std = ds.x_train.std(0).clamp_min(1e-8)  # a constant column stays 0 rather than dividing by zero
    ds.x_train = (ds.x_train - mean) / std
    ds.x_test = (ds.x_test - mean) / std
    ds.source += ", standardized with the train split's mean and std"
    return ds


MAX_ZIP_BYTES = 200 * 2**20  # uncompressed


def load_zip(path: str | Path, name: str | None = None) -> Dataset:
    """A .zip of images: class subfolders or flat, optionally inside one top folder. Extracted safely (no absolute
    paths, no '..', bounded size and count) into a temporary folder, then read as an image folder."""
    import tempfile

    path = Path(path)
    name = name or path.stem
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise ValueError(f"{path.name} is not a zip file") from e
    infos = [i for i in z.infolist() if not i.is_dir() and not Path(i.filename).name.startswith(".")
             and "__MACOSX" not in i.filename]
    if not infos:
        raise ValueError(f"{path.name} holds no files")
    if len(infos) > MAX_SAMPLES:
        raise ValueError(f"{path.name} holds {len(infos):,} files, over the limit of {MAX_SAMPLES:,}")
    if sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
        raise ValueError(f"{path.name} unpacks to more than {MAX_ZIP_BYTES // 2**20} MB")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp).resolve()
        for info in infos:
            target = (root / info.filename).resolve()
            if root not in target.parents:
                raise ValueError(f"{path.name} has an unsafe path: {info.filename}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(info))
        top = list(root.iterdir())
        folder = top[0] if len(top) == 1 and top[0].is_dir() else root  # zips often wrap everything in one folder
        ds = load_image_folder(folder, name)
    ds.source = f"uploaded zip {path.name}"
    return ds
