"""Registries: name -> thing, filled by decorators where the things are defined. Variants are here; architectures
(ae.models.blocks) and data sources (ae.data.sources) use the same `Registry`.

Adding a variant is one class plus `@register("name")`; nothing else needs editing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import torch
from torch.nn.modules.module import (
    register_module_buffer_registration_hook,
    register_module_parameter_registration_hook,
)

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


def build_model(cfg: ModelConfig, seed: int | None = 0, *, on_meta: bool = False) -> Autoencoder:
    """Build the model `cfg` describes, once: on the meta device first (no memory), where its parameters are
    counted against the budget (a JSON asking for `hidden: [1000000, 128]` is refused before gigabytes are
    allocated), then given memory with `materialise`. on_meta=True returns the meta model (preflight's dry run).
    The same seed gives the same initial weights; seed=None leaves them uninitialised for a checkpoint to fill.

    `cfg` is trusted: its variant and knobs were checked when it was made (`ModelConfig`).
    """
    built: list[torch.nn.Module] = []  # modules in the order their constructors ran: the order they draw weights

    def seen(module: torch.nn.Module, _name: str, _value: object) -> None:
        if not built or built[-1] is not module:
            built.append(module)

    hooks = [register_module_parameter_registration_hook(seen), register_module_buffer_registration_hook(seen)]
    try:
        with torch.device("meta"):
            model = VARIANTS[cfg.variant](cfg)
    finally:
        for h in hooks:
            h.remove()
    mine = {id(m) for m in model.modules()}  # another thread may have built modules meanwhile
    model.init_order = [m for m in dict.fromkeys(built) if id(m) in mine]
    check_size(model)
    return model if on_meta else materialise(model, seed)


def materialise(model: Autoencoder, seed: int | None) -> Autoencoder:
    """Give a meta-device model real memory in place and initialise it as its constructor would have: each
    module's `reset_parameters` in the order the modules were built, under `seed`, so a model built this way equals
    one built directly on the CPU, bit for bit (a test holds this for every variant and architecture)."""
    model.to_empty(device="cpu")
    if seed is None:
        return model
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in model.init_order:
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()
    return model


def check_size(model: Autoencoder) -> int:
    """The model's number of weights; InputError above the budget."""
    from ae.limits import MAX_PARAMETERS

    n = sum(p.numel() for p in model.parameters())
    if n > MAX_PARAMETERS:
        raise InputError(
            f"this model would have {n:,} weights, over the limit of {MAX_PARAMETERS:,}; use smaller layers"
        )
    return n
