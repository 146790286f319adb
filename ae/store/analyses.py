"""Where analyses live: what was computed once from a model (or a dataset alone) and is read by every process.

An analysis of a model on a dataset is `NAME.analyses/KIND-FINGERPRINT.safetensors` beside the model's JSON; an
analysis of a dataset alone (the one-class models, the codecs, PCA and raw-input baselines) is
`datasets/FINGERPRINT/KIND.safetensors` in a models folder (the shipped ones in pretrained/). Each file holds its
arrays and, in its metadata, the kind, the SHA-256 of the weights and the dataset's content fingerprint it was made
from, and a small JSON `info`. A file whose weights or data have changed since is stale: `read` treats it as absent,
so nothing is ever shown for other weights or other data, and the next computation replaces it. Files are written
whole or not at all (`ae.files.atomic_write`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save

from ae.files import atomic_write, json_default

FORMAT = "1"
SUFFIX = ".analyses"
DATASETS = "datasets"
_DTYPES = (np.float16, np.float32, np.int64, np.uint8, np.int32, np.bool_)


@dataclass
class Analysis:
    """Arrays by name (numpy, as stored: float16 maps, float32 metrics, int64 indices and counts) and `info`, the
    JSON-able facts beside them (tables as lists of rows, seconds taken, subset sizes)."""

    kind: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


def model_folder(model_json: str | Path) -> Path:
    p = Path(model_json)
    return p.with_name(p.name.removesuffix(".json").removesuffix(".safetensors") + SUFFIX)


def model_path(model_json: str | Path, kind: str, fingerprint: str) -> Path:
    return model_folder(model_json) / f"{kind}-{fingerprint}.safetensors"


def dataset_path(root: str | Path, kind: str, fingerprint: str) -> Path:
    return Path(root) / DATASETS / fingerprint / f"{kind}.safetensors"


_SHA: dict[tuple[str, int, int], str] = {}
_SHA_LOCK = threading.Lock()


def weights_sha256(model_json: str | Path) -> str:
    """SHA-256 of the model's weights file, hashed once per (path, size, modification time) in a process."""
    weights = Path(model_json).with_suffix(".safetensors")
    st = weights.stat()
    key = (str(weights), st.st_size, st.st_mtime_ns)
    with _SHA_LOCK:
        if key in _SHA:
            return _SHA[key]
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    with _SHA_LOCK:
        if len(_SHA) > 512:
            _SHA.clear()
        _SHA[key] = digest
    return digest


def to_bytes(analysis: Analysis, weights: str, fingerprint: str, dataset: str, version: int = 1) -> bytes:
    """The analysis as a safetensors file's bytes, stamped with what it was made from and its kind's version."""
    tensors = {}
    for name, a in analysis.arrays.items():
        a = np.ascontiguousarray(a)
        if a.dtype == np.float64:
            a = a.astype(np.float32)
        if a.dtype not in _DTYPES:
            raise TypeError(f"analysis array {name!r} has dtype {a.dtype}, which is not stored")
        tensors[name] = torch.from_numpy(a.copy())
    meta = {"format": FORMAT, "kind": analysis.kind, "version": str(version), "weights_sha256": weights,
            "fingerprint": fingerprint, "dataset": dataset, "info": json.dumps(analysis.info, default=json_default)}
    return save(tensors, metadata=meta)


def write(path: Path, blob: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(blob))
    return path


def stamp(path: str | Path) -> dict[str, str] | None:
    """The file's metadata (kind, weights_sha256, fingerprint, dataset), or None when it is missing or unreadable."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError):
        return None


def read(path: str | Path, weights: str, fingerprint: str, version: int = 1) -> Analysis | None:
    """The analysis at `path` if it was made from these weights (SHA-256; "" for a dataset's own analysis), this
    data (fingerprint) and this version of its kind; None when it is missing, unreadable or stale."""
    meta = stamp(path)
    if not meta or meta.get("format") != FORMAT or meta.get("weights_sha256") != weights \
            or meta.get("fingerprint") != fingerprint or meta.get("version") != str(version):
        return None
    try:
        arrays = {k: v.numpy() for k, v in load_file(str(path)).items()}
        info = json.loads(meta.get("info") or "{}")
    except (SafetensorError, OSError, ValueError):
        return None
    return Analysis(meta["kind"], arrays, info)


