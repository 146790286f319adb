"""Checkpoints: NAME.safetensors (weights only) + NAME.json (config, data, training, metrics).

Loading never unpickles; it validates the JSON, the tensor names and shapes, and raises CheckpointError with a
plain reason for a truncated, corrupted or mismatched pair. Saving writes temporary files and renames them, so a
crash never leaves half a model.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ae.config import ModelConfig, from_dict
from ae.errors import InputError, user_input
from ae.files import atomic_write, json_default, owner_gone, owner_tag
from ae.limits import MAX_CONFIG_BYTES
from ae.models import imported
from ae.models.base import Autoencoder
from ae.registry import build_model

FORMAT_VERSION = 1
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
REQUIRED_KEYS = {"format_version", "name", "model"}
STALE_S = 3600.0  # a temp file or orphan this old is left over from a killed process, wherever it ran
ORPHAN_GRACE_S = 120.0  # weights without their JSON younger than this may be a save in progress


class CheckpointError(InputError):
    """A checkpoint cannot be used; the message says why."""


class ModelName(str):
    """A name that passed `check_name`: the functions it travels through afterwards (reservation, save, a job on a
    worker) see the type and do not check it again."""


def check_name(name: str) -> ModelName:
    """A model name is 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit, so it can never
    reach outside its folder ('../x', '/etc/x', '.hidden'). Checked once, where a name enters (the CLI's --name,
    a job's reservation, an imported bundle); a ModelName passes straight through."""
    if isinstance(name, ModelName):
        return name
    if not isinstance(name, str) or not NAME_RE.match(name) or ".." in name:
        raise InputError(
            f"model name {name!r} is not allowed: use 1-64 letters, digits, '_', '-' or '.', "
            f"starting with a letter or digit"
        )
    return ModelName(name)


def paths(folder: str | Path, name: str) -> tuple[Path, Path]:
    folder = Path(folder)
    check_name(name)
    w, c = folder / f"{name}.safetensors", folder / f"{name}.json"
    if w.resolve().parent != folder.resolve():
        raise InputError(f"model name {name!r} escapes its folder")
    return w, c


def check_folder(folder: str | Path) -> Path:
    """The models folder, created if needed; InputError if it is a file or cannot be written (checked before
    training, so minutes of work never end in a refusal to save)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file, not a folder to save models in")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create the models folder {folder} ({e.__class__.__name__}: {e})") from e
    if not os.access(folder, os.W_OK):
        raise InputError(f"the models folder {folder} is not writable")
    return folder


def name_taken(folder: str | Path, name: str) -> bool:
    """A name is taken by a complete model (JSON and weights). Weights left without their JSON by a killed save are
    an orphan: not listed, so they must not block the name either; the next save replaces them."""
    weights, config = paths(folder, name)
    return config.exists() and weights.exists()


def ensure_free(folder: str | Path, name: str) -> None:
    """The one "name already taken" check, made before any work (training, import) starts: a complete model, or
    a name another run has reserved (see `reserve_name`)."""
    if name_taken(folder, name):
        raise FileExistsError(f"a model named {name!r} already exists; choose another name")
    marker = _marker(folder, name)
    if marker.exists() and _reservation_live(marker):
        raise FileExistsError(f"a model named {name!r} is being trained already; choose another name")


def _marker(folder: str | Path, name: str) -> Path:
    return Path(folder) / f".{name}.reserved"


def _reservation_live(marker: Path) -> bool:
    """A marker holds its owner's host-pid tag; an empty or unreadable one (its writer died between creating and
    writing it, or an older format) counts as live only while it is young."""
    try:
        tag = marker.read_text(errors="replace").strip()
        age = time.time() - marker.stat().st_mtime
    except FileNotFoundError:
        return False
    if not re.fullmatch(r"[0-9a-f]{8}-\d+", tag):
        return age < (10.0 if not tag else STALE_S)
    return not owner_gone(tag)


def reserve_name(folder: str | Path, name: str) -> Path:
    """Claim `name` in folder for a run, across every process sharing the folder (O_EXCL marker file holding this
    host and pid); raise FileExistsError if a model or a live run has it. Release by deleting the marker; a marker
    whose process died is taken over."""
    folder = check_folder(folder)
    name = check_name(name)
    for _ in range(3):
        ensure_free(folder, name)  # a model, or a live reservation: refused here
        marker = _marker(folder, name)
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if not _reservation_live(marker):
                marker.unlink(missing_ok=True)  # its process died: take it over
            continue
        with os.fdopen(fd, "w") as f:
            f.write(owner_tag())
        return marker
    raise FileExistsError(f"a model named {name!r} is being trained already; choose another name")


@contextlib.contextmanager
def reserved(folder: str | Path, name: str) -> Iterator[Path]:
    """`reserve_name` for the length of a block (the CLI's training run)."""
    marker = reserve_name(folder, name)
    try:
        yield marker
    finally:
        marker.unlink(missing_ok=True)


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
    check_folder(folder)
    if not overwrite and name_taken(folder, name):  # a reservation is its holder's: the caller checked it at start
        raise FileExistsError(f"a model named {name!r} already exists; choose another name")
    # Save the plain module's weights (an uncompiled, CPU copy), contiguous as safetensors requires.
    base = getattr(model, "_orig_mod", model)
    tensors = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
               for k, v in base.state_dict().items()}  # an imported model's graphs are bytes: never cast
    doc = {
        **(meta or {}),
        "format_version": FORMAT_VERSION,
        "name": name,
        "model": base.cfg.to_dict(),
        "weights_dtype": str(dtype).removeprefix("torch."),
        "parameters": base.n_weights(),
    }
    text = json.dumps(doc, indent=2, default=json_default)
    atomic_write(weights, lambda tmp: save_file(tensors, tmp, metadata={"format_version": str(FORMAT_VERSION)}))
    atomic_write(config, lambda tmp: Path(tmp).write_text(text))  # last: a model is listed only once complete
    return config


def read_meta(config_path: str | Path) -> dict[str, Any]:
    """Parse and validate a checkpoint's JSON without touching the weights.

    Every field a page or the CLI reads is type-checked here, once, so a hand-edited or hostile JSON
    (`"metrics": {"mse": "n/a"}`, a string `dataset`, a knob out of its bounds) costs its own row a warning
    ("unreadable") and never a page.
    """
    return _read(config_path)[0]


def _read(config_path: str | Path) -> tuple[dict[str, Any], ModelConfig]:
    """The JSON and the ModelConfig it describes (made once: its variant and knobs checked here)."""
    config_path = Path(config_path)
    what = config_path.name
    try:
        if config_path.stat().st_size > MAX_CONFIG_BYTES:
            raise CheckpointError(f"{what} is over {MAX_CONFIG_BYTES // 2**20} MB; a model's JSON is a few KB")
        with user_input(what):
            text = config_path.read_text()
        doc = json.loads(text)
    except FileNotFoundError as e:
        raise CheckpointError(f"{what} does not exist") from e
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{what} is not valid JSON ({e})") from e
    except RecursionError as e:
        raise CheckpointError(f"{what} is nested too deeply to be a model's JSON") from e
    except CheckpointError:
        raise
    except InputError as e:
        raise CheckpointError(str(e)) from e
    except OSError as e:
        raise CheckpointError(f"{what} cannot be read ({e.__class__.__name__})") from e
    if not isinstance(doc, dict) or not REQUIRED_KEYS <= set(doc):
        raise CheckpointError(f"{what} is not a Latent Lab model config (needs {sorted(REQUIRED_KEYS)})")
    if doc["format_version"] != FORMAT_VERSION:
        raise CheckpointError(f"{what} has format version {doc['format_version']!r}; this Latent Lab reads "
                              f"{FORMAT_VERSION}")
    try:
        cfg = from_dict(ModelConfig, doc["model"])
    except InputError as e:
        raise CheckpointError(f"{what} describes an invalid model: {e}") from e
    problem = _meta_problem(doc)
    if problem:
        raise CheckpointError(f"{what}: {problem}")
    return doc, cfg


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _meta_problem(doc: dict[str, Any]) -> str | None:
    """What is wrong with the optional fields, or None. Unknown extra keys are allowed and never read."""
    if not isinstance(doc["name"], str):
        return "'name' must be text"
    for key in ("dataset", "train"):
        if key in doc and not isinstance(doc[key], dict):
            return f"{key!r} must be an object"
    for key in ("name", "split", "source", "kind"):
        if not isinstance(doc.get("dataset", {}).get(key, ""), str):
            return f"dataset {key!r} must be text"
    for key in ("metrics", "fp32_metrics"):
        metrics = doc.get(key, {})
        if not isinstance(metrics, dict):
            return f"{key!r} must be an object of numbers"
        bad = [k for k, v in metrics.items() if v is not None and not _is_number(v)]
        if bad:
            return f"{key} {bad[0]!r} must be a number, got {metrics[bad[0]]!r}"
    for key in ("parameters", "epochs_run"):
        if key in doc and (not isinstance(doc[key], int) or isinstance(doc[key], bool) or doc[key] < 0):
            return f"{key!r} must be a whole number"
    if "train_seconds" in doc and not (_is_number(doc["train_seconds"]) and math.isfinite(doc["train_seconds"])):
        return "'train_seconds' must be a number"
    for key in ("about", "train_device", "torch", "weights_dtype"):
        if key in doc and not isinstance(doc[key], str):
            return f"{key!r} must be text"
    history = doc.get("history", [])
    if not isinstance(history, list) or not all(
        isinstance(row, dict) and all(v is None or _is_number(v) for v in row.values()) for row in history
    ):
        return "'history' must be a list of rows of numbers"
    return None


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[Autoencoder, dict[str, Any]]:
    """Load a model from NAME.json or NAME.safetensors (the other is found beside it). Returns (model in eval mode,
    its metadata)."""
    path = Path(path)
    if path.suffix not in (".json", ".safetensors"):
        raise CheckpointError(f"{path.name}: a model is a .safetensors file with a .json beside it; nothing else loads")
    config, weights = path.with_suffix(".json"), path.with_suffix(".safetensors")
    meta, cfg = _read(config)
    if not weights.is_file():
        raise CheckpointError(f"{weights.name} is missing beside {config.name}")
    try:
        with user_input(weights.name):
            tensors = load_file(str(weights))
    except (SafetensorError, InputError) as e:
        raise CheckpointError(f"{weights.name} is truncated or corrupted ({e})") from e
    return _assemble(cfg, tensors, config.name, weights.name).to(device).eval(), meta


def model_from_bytes(weights: bytes, meta: dict[str, Any], what: str = "the model") -> Autoencoder:
    """A model from its weights file's bytes and its (already read) metadata: how a Dask worker with no access to
    the app's disk gets the model it analyses. The same checks as `load_model`."""
    from safetensors.torch import load

    try:
        tensors = load(weights)
    except (SafetensorError, ValueError) as e:
        raise CheckpointError(f"{what}'s weights are truncated or corrupted ({e})") from e
    try:
        cfg = from_dict(ModelConfig, meta["model"])  # the metadata came over the wire: read here, once
    except InputError as e:
        raise CheckpointError(f"{what} describes an invalid model: {e}") from e
    return _assemble(cfg, tensors, what, f"{what}'s weights").eval()


def _assemble(cfg: ModelConfig, tensors: dict[str, torch.Tensor], config_name: str,
              weights_name: str) -> Autoencoder:
    """Build the model `cfg` describes and load `tensors` into it, strictly: names, shapes, finite floats. An
    imported model (arch "onnx") is built from its tensors, the graphs' bytes, and checked by reading them."""
    if cfg.arch == imported.ARCH:
        try:
            return imported.from_tensors(cfg, tensors, weights_name)
        except InputError as e:
            raise CheckpointError(f"{config_name}: {e}") from e
    try:
        with user_input(config_name):
            model = build_model(cfg, seed=None)
    except InputError as e:
        raise CheckpointError(f"{config_name} describes a model that cannot be built: {e}") from e
    expected = model.state_dict()
    missing, extra = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    if missing or extra:
        raise CheckpointError(
            f"{weights_name} does not match its config: missing {missing[:3]}, unexpected {extra[:3]}"
        )
    for k, v in expected.items():
        if tuple(tensors[k].shape) != tuple(v.shape):
            raise CheckpointError(
                f"{weights_name} does not match its config: {k} is {list(tensors[k].shape)}, expected "
                f"{list(v.shape)}"
            )
        if not tensors[k].is_floating_point() or not torch.isfinite(tensors[k]).all():
            raise CheckpointError(f"{weights_name}: tensor {k} holds non-finite or non-float values")
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()}, strict=True)
    return model


def clean_stale(folder: str | Path, now: float | None = None) -> list[Path]:
    """Remove what killed processes left in a models folder: temp files of writers that are gone (or older than an
    hour), here and in the analysis folders; weights, recordings and analysis folders whose JSON never arrived (or
    was deleted). Returns what was removed. Called when an app or CLI starts.
    """
    import shutil

    folder = Path(folder)
    if not folder.is_dir():
        return []
    now = time.time() if now is None else now
    removed = []
    inner = [d for d in folder.iterdir() if d.is_dir() and (d.name.endswith(".analyses") or d.name == "datasets")]
    inner += [d for parent in inner if parent.name == "datasets" for d in parent.iterdir() if d.is_dir()]
    for f in [*folder.iterdir(), *(f for d in inner for f in d.iterdir())]:
        try:
            age = now - f.stat().st_mtime
        except OSError:
            continue
        stale = False
        if f.name.startswith(".") and f.name.endswith(".reserved"):
            stale = not _reservation_live(f)
        elif f.name.startswith(".") and f.name.endswith(".tmp"):
            parts = f.name.split(".")
            tag = parts[-3] if len(parts) >= 4 else ""
            stale = age > STALE_S or owner_gone(tag)
        elif f.parent == folder and not f.name.startswith(".") and (f.suffix == ".safetensors" or
                                                                     f.name.endswith(".analyses")):
            base = f.name.removesuffix(".safetensors").removesuffix(".analyses")
            owners = {base, base.removesuffix(".maps"), base.removesuffix(".recording")}
            stale = age > ORPHAN_GRACE_S and not any((folder / f"{o}.json").exists() for o in owners)
        if stale:
            if f.is_dir():
                shutil.rmtree(f, ignore_errors=True)
            else:
                f.unlink(missing_ok=True)
            removed.append(f)
    return removed


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
