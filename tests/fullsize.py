"""Full-size datasets written to disk in the formats torchvision reads, built from the shipped digits: never
downloaded. The tests and `bench/first_visit.py` point $LATENT_LAB_DATA at the folder, so the real torchvision
reading path (`ae.data.sources`, source "mnist" / "cifar10") is what they exercise.

    python -m tests.fullsize FOLDER            # 70,000 MNIST-format digits (IDX files) in FOLDER/MNIST/raw
"""

from __future__ import annotations

import pickle
import struct
import sys
from pathlib import Path

import numpy as np

IDX_TYPES = {np.uint8: 0x08}


def write_idx(path: Path, array: np.ndarray) -> None:
    """An uncompressed IDX file (LeCun's MNIST format): magic, dimension sizes (big-endian), then the bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, IDX_TYPES[np.uint8], array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.tobytes())


def digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n 28x28 uint8 digits with labels: the 5,000 shipped MNIST digits, each repeated with a seeded shift of up to
    two pixels (so copies are not identical rows)."""
    from ae.data.sources import load_dataset

    shipped = load_dataset("mnist-5k")
    x = np.concatenate([shipped.x_train, shipped.x_test])[:, 0]
    y = np.concatenate([shipped.y_train.numpy(), shipped.y_test.numpy()])
    if x.dtype != np.uint8:
        x = np.rint(np.asarray(x, dtype=np.float32) * 255).astype(np.uint8)
    rng = np.random.default_rng(seed)
    pick = np.arange(n) % len(x)
    shifts = rng.integers(-2, 3, size=(n, 2))
    shifts[: len(x)] = 0  # the first copy of each digit is the digit itself
    out = np.empty((n, 28, 28), dtype=np.uint8)
    for dy, dx in {(int(a), int(b)) for a, b in shifts}:  # one roll per shift (25 of them), not one per image
        rows = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
        out[rows] = np.roll(x[pick[rows]], (dy, dx), axis=(1, 2))
    return out, y[pick].astype(np.uint8)


def write_mnist(root: Path, n_train: int = 60_000, n_test: int = 10_000, seed: int = 0) -> Path:
    """MNIST's four IDX files in root/MNIST/raw, as torchvision.datasets.MNIST reads them. Returns root."""
    raw = Path(root) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    x, y = digits(n_train + n_test, seed)
    write_idx(raw / "train-images-idx3-ubyte", x[:n_train])
    write_idx(raw / "train-labels-idx1-ubyte", y[:n_train])
    write_idx(raw / "t10k-images-idx3-ubyte", x[n_train:])
    write_idx(raw / "t10k-labels-idx1-ubyte", y[n_train:])
    return Path(root)


CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def colour_images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n 32x32 RGB uint8 images [n, 32, 32, 3] with 10 classes: the shipped digits padded to 32x32, each class
    tinted its own colour over a textured background, so a model has something to learn."""
    x, y = digits(n, seed)
    rng = np.random.default_rng(seed + 1)
    tints = rng.integers(60, 256, size=(10, 3)).astype(np.float32)
    background = rng.integers(0, 60, size=(n, 32, 32)).astype(np.uint8)
    ink = np.pad(x, ((0, 0), (2, 2), (2, 2)))
    # each pixel is background + ink / 255 * tint: a table over (class, background, ink) of 460,800 colours,
    # looked up per pixel, is the same arithmetic as float32 over 184 million values in a fifth of the time
    level, ground = np.arange(256, dtype=np.float32) / 255, np.arange(60, dtype=np.float32)
    table = np.clip(ground[None, :, None, None] + level[None, None, :, None] * tints[:, None, None, :], 0, 255)
    labels = (y % 10).astype(np.int64)
    return table.astype(np.uint8)[labels[:, None, None], background, ink], labels


def write_cifar10(root: Path, n_train: int = 50_000, n_test: int = 10_000, seed: int = 0) -> Path:
    """CIFAR-10's python batches in root/cifar-10-batches-py, as torchvision.datasets.CIFAR10 reads them (five
    train batches, a test batch, batches.meta; rows of 3072 bytes, channel-major). Returns root."""
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    x, y = colour_images(n_train + n_test, seed)
    rows = x.transpose(0, 3, 1, 2).reshape(len(x), -1)
    per = n_train // 5
    for b in range(5):
        part = slice(b * per, (b + 1) * per if b < 4 else n_train)
        _pickle(folder / f"data_batch_{b + 1}", {"data": rows[part], "labels": y[part].tolist()})
    _pickle(folder / "test_batch", {"data": rows[n_train:], "labels": y[n_train:].tolist()})
    _pickle(folder / "batches.meta", {"label_names": CIFAR_CLASSES})
    return Path(root)


def _pickle(path: Path, obj: dict) -> None:
    """CIFAR-10's own format is a pickle (latin1 strings); we write it, torchvision's loader reads it."""
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "full-data")
    write_mnist(target)
    print(f"wrote 70,000 digits as IDX files in {target / 'MNIST' / 'raw'}; LATENT_LAB_DATA={target}")
