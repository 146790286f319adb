"""Precomputed latent maps stored beside a model: NAME.maps.safetensors.

A map belongs to the exact weights it was made from: the file records the SHA-256 of NAME.safetensors, and a map
whose weights have changed is treated as absent (stale), never shown.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from ae.store.files import atomic_write


def maps_path(model_path: str | Path) -> Path:
    p = Path(model_path)
    return p.with_name(p.name.removesuffix(p.suffix) + ".maps.safetensors")


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_maps(model_path: str | Path, arrays: dict[str, np.ndarray], info: dict | None = None) -> Path:
    """Store named arrays (e.g. 'codes', 'pca', 'umap', 'tsne' [N, k], the training recording [epochs, n, 2]) as
    float16, integer arrays (indices) as int64, stamped with the weights' hash."""
    weights = Path(model_path).with_suffix(".safetensors")
    out = maps_path(model_path)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.int64)) if np.issubdtype(v.dtype, np.integer)
               else torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)).half() for k, v in arrays.items()}
    meta = {"weights_sha256": file_sha256(weights), "info": json.dumps(info or {})}
    atomic_write(out, lambda tmp: save_file(tensors, tmp, metadata=meta))
    return out


def load_maps(model_path: str | Path) -> dict[str, np.ndarray] | None:
    """The stored arrays (float32; indices int64), or None when there are none or they were made from other
    weights."""
    path = maps_path(model_path)
    weights = Path(model_path).with_suffix(".safetensors")
    if not path.exists() or not weights.exists():
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            stamp = (f.metadata() or {}).get("weights_sha256")
        if stamp != file_sha256(weights):
            return None
        return {k: v.numpy() if v.dtype == torch.int64 else v.float().numpy() for k, v in load_file(str(path)).items()}
    except (SafetensorError, OSError, ValueError):
        return None


def maps_info(model_path: str | Path) -> dict:
    """What the maps file says about how it was made (seconds per method, data split)."""
    with safe_open(str(maps_path(model_path)), framework="pt") as f:
        return json.loads((f.metadata() or {}).get("info", "{}"))
