"""Checkpoints: NAME.safetensors (weights only) + NAME.json (config, data, training, metrics).

Loading never unpickles; it validates the JSON, the tensor names and shapes, and raises CheckpointError with a
plain reason for a truncated, corrupted or mismatched pair. Saving writes temporary files and renames them, so a
crash never leaves half a model.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ae.config import ModelConfig, from_dict
from ae.models.base import Autoencoder
from ae.registry import build_model

FORMAT_VERSION = 1
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
REQUIRED_KEYS = {"format_version", "name", "model"}


class CheckpointError(ValueError):
    """A checkpoint cannot be used; the message says why."""


def check_name(name: str) -> str:
    """A model name is 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit, so it can never
    reach outside its folder ('../x', '/etc/x', '.hidden')."""
    if not isinstance(name, str) or not NAME_RE.match(name) or ".." in name:
        raise ValueError(
            f"model name {name!r} is not allowed: use 1-64 letters, digits, '_', '-' or '.', "
            f"starting with a letter or digit"
        )
    return name


def paths(folder: str | Path, name: str) -> tuple[Path, Path]:
    folder = Path(folder)
    check_name(name)
    w, c = folder / f"{name}.safetensors", folder / f"{name}.json"
    if w.resolve().parent != folder.resolve():
        raise ValueError(f"model name {name!r} escapes its folder")
    return w, c


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; a model is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_model(
    model: Autoencoder,
    folder: str | Path,
    name: str,
    meta: dict[str, Any] | None = None,
    *,
    overwrite: bool = False,
    dtype: torch.dtype = torch.float32,
) -> Path:
    """Write NAME.safetensors and NAME.json into folder; returns the JSON path.

    meta adds the dataset, training config, history and metrics. dtype=float16 halves the file; loading casts back.
    """
    weights, config = paths(folder, name)
    Path(folder).mkdir(parents=True, exist_ok=True)
    if not overwrite and (weights.exists() or config.exists()):
        raise FileExistsError(f"a model named {name!r} already exists in {folder}")
    # Save the plain module's weights (an uncompiled, CPU copy), contiguous as safetensors requires.
    base = getattr(model, "_orig_mod", model)
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in base.state_dict().items()}
    doc = {
        **(meta or {}),
        "format_version": FORMAT_VERSION,
        "name": name,
        "model": base.cfg.to_dict(),
        "weights_dtype": str(dtype).removeprefix("torch."),
        "parameters": sum(p.numel() for p in base.parameters()),
    }
    text = json.dumps(doc, indent=2, default=_json_default)
    _atomic_write(weights, lambda tmp: save_file(tensors, tmp, metadata={"format_version": str(FORMAT_VERSION)}))
    _atomic_write(config, lambda tmp: Path(tmp).write_text(text))
    return config


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def read_meta(config_path: str | Path) -> dict[str, Any]:
    """Parse and validate a checkpoint's JSON without touching the weights."""
    config_path = Path(config_path)
    try:
        doc = json.loads(config_path.read_text())
    except FileNotFoundError as e:
        raise CheckpointError(f"{config_path.name} does not exist") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{config_path.name} is not valid JSON ({e})") from e
    if not isinstance(doc, dict) or not REQUIRED_KEYS <= set(doc):
        raise CheckpointError(f"{config_path.name} is not a Latent Lab model config (needs {sorted(REQUIRED_KEYS)})")
    if doc["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{config_path.name} has format version {doc['format_version']}; this Latent Lab reads {FORMAT_VERSION}"
        )
    return doc


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[Autoencoder, dict[str, Any]]:
    """Load a model from NAME.json or NAME.safetensors (the other is found beside it). Returns (model in eval mode,
    its metadata)."""
    path = Path(path)
    if path.suffix not in (".json", ".safetensors"):
        raise CheckpointError(f"{path.name}: a model is a .safetensors file with a .json beside it; nothing else loads")
    config, weights = path.with_suffix(".json"), path.with_suffix(".safetensors")
    meta = read_meta(config)
    try:
        cfg = from_dict(ModelConfig, meta["model"])
        model = build_model(cfg, seed=None)
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{config.name} describes a model that cannot be built: {e}") from e
    if not weights.exists():
        raise CheckpointError(f"{weights.name} is missing beside {config.name}")
    try:
        tensors = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{weights.name} is truncated or corrupted ({e})") from e
    expected = model.state_dict()
    missing, extra = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    if missing or extra:
        raise CheckpointError(
            f"{weights.name} does not match its config: missing {missing[:3]}, unexpected {extra[:3]}"
        )
    for k, v in expected.items():
        if tuple(tensors[k].shape) != tuple(v.shape):
            raise CheckpointError(
                f"{weights.name} does not match its config: {k} is {list(tensors[k].shape)}, expected {list(v.shape)}"
            )
        if not tensors[k].is_floating_point() or not torch.isfinite(tensors[k]).all():
            raise CheckpointError(f"{weights.name}: tensor {k} holds non-finite or non-float values")
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()}, strict=True)
    return model.to(device).eval(), meta


def list_models(folder: str | Path) -> list[dict[str, Any]]:
    """The metadata of every readable model in folder (unreadable ones are reported with an 'error' key)."""
    out = []
    for config in sorted(Path(folder).glob("*.json")):
        if not config.with_suffix(".safetensors").exists():
            continue
        try:
            meta = read_meta(config)
            out.append({**meta, "name": config.stem, "path": str(config)})  # the file name is what identifies it
        except CheckpointError as e:
            out.append({"name": config.stem, "path": str(config), "error": str(e)})
    return out
