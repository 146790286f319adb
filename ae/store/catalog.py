"""Every model the app can offer: the shipped zoo in pretrained/ and the user's own folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ae import settings
from ae.models.imported import ARCH
from ae.registry import variant_title
from ae.store.checkpoints import clean_stale, list_models
from ae.store.zoo import ZOO, ZOO_DIR


def user_models_dir() -> Path:
    """$LATENT_LAB_MODELS, else models/ beside the app (where `python -m ae train` saves by default)."""
    return settings.models_dir() or ZOO_DIR.parent / "models"


@dataclass(frozen=True)
class ModelEntry:
    key: str  # "pretrained/NAME" or "yours/NAME": unique even when a user reuses a shipped name
    name: str
    path: str  # the JSON
    source: str
    variant: str = ""
    arch: str = ""
    latent_dim: int = 0
    input_shape: tuple[int, ...] = ()
    dataset: str = ""
    mse: float | None = None
    parameters: int = 0
    about: str = ""
    error: str = ""
    trained_by: str = ""  # the first name a student gave when training it in class (issue 20's class board)
    train_seconds: float | None = None
    stamp: int = 0  # the weights file's mtime when listed: caches keyed on it never serve stale results

    def label(self) -> str:
        if self.error:
            return f"{self.name} (unreadable)"
        mse = f", test MSE {self.mse:.4f}" if self.mse is not None else ""
        mine = " [yours]" if self.source == "yours" else ""
        kind = variant_title(self.variant) + (", imported" if self.arch == ARCH else "")
        return f"{self.name}{mine} · {kind}, latent {self.latent_dim}{mse}"


def weights_stamp(path: str) -> int:
    """Changes whenever the weights file does (read once per listing, not on every access: a rerun reads it often)."""
    try:
        return Path(path).with_suffix(".safetensors").stat().st_mtime_ns
    except OSError:
        return 0


def _entry(meta: dict, source: str) -> ModelEntry:
    """One row of the catalog; a file that read_meta let through but still cannot be shown is one error row."""
    key = f"{source}/{meta['name']}"
    if "error" not in meta:
        try:
            return _readable_entry(meta, source, key)
        except (TypeError, ValueError, AttributeError, KeyError) as e:
            meta = {**meta, "error": f"its JSON cannot be shown ({e.__class__.__name__}: {e})"}
    return ModelEntry(key=key, name=meta["name"], path=meta["path"], source=source, error=meta["error"],
                      stamp=weights_stamp(meta["path"]))


def _readable_entry(meta: dict, source: str, key: str) -> ModelEntry:
    m = meta["model"]
    mse = meta.get("metrics", {}).get("mse")
    return ModelEntry(
        key=key,
        name=meta["name"],
        path=meta["path"],
        source=source,
        variant=m.get("variant", ""),
        arch=m.get("arch", ""),
        latent_dim=int(m.get("latent_dim", 0)),
        input_shape=tuple(m.get("input_shape", ())),
        dataset=meta.get("dataset", {}).get("name", ""),
        mse=None if mse is None else float(mse),
        parameters=int(meta.get("parameters", 0)),
        about=meta.get("about", ""),
        trained_by=str(meta.get("trained_by", "")),
        train_seconds=None if meta.get("train_seconds") is None else float(meta["train_seconds"]),
        stamp=weights_stamp(meta["path"]),
    )


_cleaned: set[Path] = set()


def list_catalog() -> list[ModelEntry]:
    """Shipped models in zoo order, then the user's models by name. The first listing of a folder in a process
    clears what killed saves left there (ae.store.checkpoints.clean_stale)."""
    mine_dir = user_models_dir()
    if mine_dir not in _cleaned:
        _cleaned.add(mine_dir)
        clean_stale(mine_dir)
    order = {e.name: i for i, e in enumerate(ZOO)}
    shipped = sorted((_entry(m, "pretrained") for m in list_models(ZOO_DIR)), key=lambda e: order.get(e.name, 99))
    mine = [_entry(m, "yours") for m in list_models(mine_dir)] if mine_dir.is_dir() else []
    return shipped + mine
