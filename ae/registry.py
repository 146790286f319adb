"""Name -> model class, filled by the `@register` decorator in each variant's module.

Adding a variant is one class plus `@register("name")`; nothing else needs editing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from ae.config import ModelConfig
from ae.errors import InputError

if TYPE_CHECKING:
    from ae.models.base import Autoencoder

VARIANTS: dict[str, type[Autoencoder]] = {}


def register(name: str) -> Callable[[type[Autoencoder]], type[Autoencoder]]:
    def add(cls: type[Autoencoder]) -> type[Autoencoder]:
        if name in VARIANTS:
            raise InputError(f"variant {name!r} is registered twice")
        cls.name = name
        VARIANTS[name] = cls
        return cls

    return add


def variant_title(name: str) -> str:
    """What the pages call a variant: its class's title, else its registered name (an unknown one as given)."""
    variants()
    cls = VARIANTS.get(name)
    return (cls.title or name) if cls is not None else name


def variants() -> list[str]:
    import ae.models  # noqa: F401  (importing the package runs every @register)

    return sorted(VARIANTS)


def build_model(cfg: ModelConfig, seed: int | None = 0) -> Autoencoder:
    """Build the model `cfg` describes; the same seed gives the same initial weights.

    The config is first built on the meta device (no memory) and its parameters counted against the budget, so a
    JSON asking for `hidden: [1000000, 128]` is refused before gigabytes are allocated.
    """
    names = variants()
    if cfg.variant not in VARIANTS:
        raise InputError(f"unknown variant {cfg.variant!r}; choose one of {', '.join(names)}")
    count_parameters(cfg)
    rng = torch.random.fork_rng(devices=[]) if seed is not None else contextlib.nullcontext()
    with rng:
        if seed is not None:
            torch.manual_seed(seed)
        return VARIANTS[cfg.variant](cfg)


def count_parameters(cfg: ModelConfig) -> int:
    """The number of weights `cfg` describes, without allocating them; InputError above the budget."""
    from ae.limits import MAX_PARAMETERS

    with torch.device("meta"):
        n = sum(p.numel() for p in VARIANTS[cfg.variant](cfg).parameters())
    if n > MAX_PARAMETERS:
        raise InputError(
            f"this model would have {n:,} weights, over the limit of {MAX_PARAMETERS:,}; use smaller layers"
        )
    return n
