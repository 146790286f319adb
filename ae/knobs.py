"""A variant's knobs, declared once: a dataclass field whose metadata holds its bounds, choices and help.

The Train page's widgets, the CLI's `--param` help, `python -m ae list` and the range checks of every config read
them from here, so adding a variant (or a knob) is one edit and defaults cannot drift between layers.

    @dataclass
    class VAEParams:
        beta: float = knob(1.0, min=0.0, max=100.0, label="beta (KL weight)", help="weight of the KL term")
"""

from __future__ import annotations

import typing
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from ae.errors import InputError

KEY = "knob"


def knob(default: Any, *, help: str, label: str = "", min: float | None = None, max: float | None = None,
         choices: tuple[str, ...] | None = None, tabular_choices: tuple[str, ...] | None = None,
         step: float | None = None, ui_max: float | None = None, fmt: str | None = None,
         only: tuple[str, Any] | None = None) -> Any:
    """A dataclass field that is also a knob.

    min/max bound the value (inclusive); choices list the allowed texts (tabular_choices narrows them for tabular
    data); step makes the page draw a slider, ui_max caps what the page offers below the library's own max; fmt is
    the page's number format; only=("mode", "kl") shows the knob only when another knob has that value.
    """
    meta = dict(help=help, label=label, min=min, max=max, choices=choices, tabular_choices=tabular_choices, step=step,
                ui_max=ui_max, fmt=fmt, only=only)
    return field(default=default, metadata={KEY: meta})


@dataclass(frozen=True)
class Knob:
    name: str
    kind: type  # float, int or str
    default: Any
    help: str
    label: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    tabular_choices: tuple[str, ...] | None = None
    step: float | None = None
    ui_max: float | None = None
    fmt: str | None = None
    only: tuple[str, Any] | None = None

    def options(self, image: bool = True) -> tuple[str, ...]:
        return (self.choices if image else self.tabular_choices or self.choices) or ()

    def describe(self) -> str:
        """One line for help texts: `beta (number, 0-100, default 1.0): weight of the KL term`."""
        if self.choices:
            what = "one of " + "|".join(self.choices)
        else:
            what = {float: "number", int: "whole number", str: "text"}.get(self.kind, self.kind.__name__)
            if self.min is not None and self.max is not None:
                what += f", {self.min:g}-{self.max:g}"
            elif self.min is not None:
                what += f", >= {self.min:g}"
        when = f"; only when {self.only[0]}={self.only[1]}" if self.only else ""
        return f"{self.name} ({what}, default {self.default!r}{when}): {self.help}"

    def check(self, value: Any) -> None:
        if self.choices and value not in self.choices:
            raise InputError(f"{self.name} must be one of {', '.join(self.choices)}; got {value!r}")
        if self.min is not None and value < self.min:
            raise InputError(f"{self.name} must be at least {self.min:g}; got {value!r}")
        if self.max is not None and value > self.max:
            raise InputError(f"{self.name} must be at most {self.max:g}; got {value!r}")


def knobs(params_cls: type) -> list[Knob]:
    """The knobs a Params dataclass declares, in field order (fields without knob metadata are not knobs)."""
    hints = typing.get_type_hints(params_cls)
    out = []
    for f in fields(params_cls):
        meta = f.metadata.get(KEY)
        if meta is None:
            continue
        default = f.default if f.default is not MISSING else None
        out.append(Knob(name=f.name, kind=hints.get(f.name, type(default)), default=default,
                        **{**meta, "label": meta["label"] or f.name.replace("_", " ").capitalize()}))
    return out


def check_knobs(params: Any) -> None:
    """Bounds and choices of every knob of a built Params object (from_dict calls it after the type checks)."""
    for k in knobs(type(params)):
        k.check(getattr(params, k.name))
