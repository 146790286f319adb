"""A model's training recording stored beside it: NAME.recording.safetensors, the map of a fixed sample of test codes
after every epoch (`ae.explore.learning`), which the Latent space page plays back.

It belongs to the exact weights it was recorded for: the file carries the SHA-256 of NAME.safetensors, and a
recording whose weights have changed since is treated as absent. Models saved before recordings had a file of their
own keep theirs in NAME.maps.safetensors, which is read the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from ae.files import atomic_write
from ae.store.analyses import weights_sha256

SUFFIX = ".recording.safetensors"
LEGACY_SUFFIX = ".maps.safetensors"
FRAMES, INDEX = "learning", "learning_index"


def recording_path(model_path: str | Path, suffix: str = SUFFIX) -> Path:
    p = Path(model_path)
    return p.with_name(p.name.removesuffix(p.suffix) + suffix)


def save_recording(model_path: str | Path, frames: np.ndarray, index: np.ndarray) -> Path:
    """frames [epochs, n, 2] (stored as float16), index [n] (which test samples they show), stamped with the
    weights' hash."""
    out = recording_path(model_path)
    tensors = {FRAMES: torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32)).half(),
               INDEX: torch.from_numpy(np.ascontiguousarray(index, dtype=np.int64))}
    meta = {"weights_sha256": weights_sha256(model_path)}
    atomic_write(out, lambda tmp: save_file(tensors, tmp, metadata=meta))
    return out


def load_recording(model_path: str | Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(frames [epochs, n, 2] float32, test indices [n]) for these weights, or None for a model trained without a
    recording, or whose weights changed since."""
    for suffix in (SUFFIX, LEGACY_SUFFIX):
        path = recording_path(model_path, suffix)
        if not path.exists():
            continue
        try:
            with safe_open(str(path), framework="pt") as f:
                stamp = (f.metadata() or {}).get("weights_sha256")
            if stamp != weights_sha256(model_path):
                return None
            arrays = load_file(str(path))
        except (SafetensorError, OSError, ValueError):
            return None
        if FRAMES in arrays and INDEX in arrays:
            return arrays[FRAMES].float().numpy(), arrays[INDEX].numpy().astype(np.int64)
    return None
