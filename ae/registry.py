"""Registries: name -> thing, filled by decorators where the things are defined. Variants are here; architectures
(ae.models.blocks) and data sources (ae.data.sources) use the same `Registry`.

Adding a variant is one class plus `@register("name")`; nothing else needs editing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import torch

from ae.config import ModelConfig
from ae.errors import InputError

if TYPE_CHECKING:
    from ae.models.base import Autoencoder

T = TypeVar("T")


class Registry(dict[str, T]):
    """A dict of named things that refuses a second registration of a name (two modules claiming one name is a
    bug to hear about at import, not a silent replacement) and names the choices when asked for an unknown one."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def register(self, name: str) -> Callable[[T], T]:
        def add(thing: T) -> T:
            if name in self:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self[name] = thing
            return thing

        return add

    def lookup(self, name: str) -> T:
        if name not in self:
            raise InputError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self)}")
        return self[name]


VARIANTS: Registry[type[Autoencoder]] = Registry("variant")


def register(name: str) -> Callable[[type[Autoencoder]], type[Autoencoder]]:
    def add(cls: type[Autoencoder]) -> type[Autoencoder]:
        cls.name = name
        return VARIANTS.register(name)(cls)

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
    variants()
    VARIANTS.lookup(cfg.variant)
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
