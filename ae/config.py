"""Plain dataclass configs for models, training and data.

Every config round-trips through a dict (the JSON beside a checkpoint), and `from_dict` refuses unknown keys so a
typo in a config file is an error instead of a silently ignored setting.
"""

from __future__ import annotations

import math
import typing
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

from ae.errors import InputError
from ae.knobs import check_knobs

T = TypeVar("T")
CODE_ACTIVATIONS = ("linear", "relu")


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build dataclass `cls` from `data`, naming any key it does not know and any value of the wrong type.

    Values come from JSON files and `--param key=value`, so "high" for a float, [1, 2] for a level or NaN for a
    weight must be refused here, in words, rather than fail later as a TypeError or a diverged training run.
    """
    if not isinstance(data, dict):
        raise InputError(f"{cls.__name__} must be a JSON object, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"unknown {cls.__name__} keys: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    hints = typing.get_type_hints(cls)
    try:
        obj = cls(**{k: _checked(k, v, hints.get(k, Any)) for k, v in data.items()})
    except InputError:
        raise
    except (ValueError, TypeError) as e:
        raise InputError(str(e)) from e
    check_knobs(obj)
    return obj


def _checked(key: str, value: Any, hint: Any) -> Any:
    """`value` if it is what `hint` (float, int, str, bool, tuple[int, ...], dict) asks for; else InputError."""
    origin = typing.get_origin(hint) or hint
    if hint is Any:
        return value
    if origin is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"{key} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise InputError(f"{key} must be a finite number, got {value!r}")
        return float(value)
    if origin is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"{key} must be a whole number, got {value!r}")
        return value
    if origin in (str, bool) and not isinstance(value, origin):
        raise InputError(f"{key} must be {'text' if origin is str else 'true or false'}, got {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise InputError(f"{key} must be a list of whole numbers, got {value!r}")
        return tuple(_checked(key, v, int) for v in value)
    if origin is dict and not isinstance(value, dict):
        raise InputError(f"{key} must be a JSON object, got {value!r}")
    return value


def variant_knobs(variant: str, params: dict[str, Any]) -> Any:
    """`params` read into `variant`'s Params dataclass: the one check of a variant's name and knobs, made where a
    ModelConfig is made (a page, the CLI, a JSON being read), so a bad knob is refused on entry, never at build."""
    from ae.registry import VARIANTS, variants

    variants()
    return from_dict(VARIANTS.lookup(variant).Params, params)


@dataclass
class ModelConfig:
    """What to build: architecture, variant and their sizes.

    input_shape is `[C, H, W]` for images in [0, 1] (sigmoid output) or `[D]` for standardized tabular rows
    (linear output). `params` holds the variant's own knobs (noise level, beta, ...); the variant validates them.
    """

    arch: str = "conv"
    variant: str = "vanilla"
    input_shape: tuple[int, ...] = (1, 28, 28)
    latent_dim: int = 16
    hidden: tuple[int, ...] = (512, 256)  # dense layer widths
    channels: tuple[int, ...] = (32, 64)  # conv channels, one stride-2 layer each
    recon_loss: str = "bce"  # "mse" or "bce"
    code_activation: str = "linear"  # "relu" clamps the code at 0, as the Keras tutorial's Dense(64, 'relu') does
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.input_shape = tuple(int(s) for s in self.input_shape)
        self.hidden = tuple(int(h) for h in self.hidden)
        self.channels = tuple(int(c) for c in self.channels)
        if len(self.input_shape) not in (1, 3) or min(self.input_shape) < 1:
            raise InputError(f"input_shape must be [C, H, W] or [D] with positive sizes, got {list(self.input_shape)}")
        if not 1 <= int(self.latent_dim) <= 4096:
            raise InputError(f"latent_dim must be between 1 and 4096, got {self.latent_dim}")
        self.latent_dim = int(self.latent_dim)
        if self.recon_loss not in ("mse", "bce"):
            raise InputError(f"recon_loss must be 'mse' or 'bce', got {self.recon_loss!r}")
        if self.code_activation not in CODE_ACTIVATIONS:
            raise InputError(f"code_activation must be one of {', '.join(CODE_ACTIVATIONS)}, "
                             f"got {self.code_activation!r}")
        if self.recon_loss == "bce" and not self.is_image:
            raise InputError("recon_loss 'bce' needs inputs in [0, 1]; tabular data is standardized, use 'mse'")
        if any(h < 1 for h in self.hidden) or any(c < 1 for c in self.channels):
            raise InputError("hidden sizes and channels must be positive")
        self._knobs = variant_knobs(self.variant, self.params)

    @property
    def knobs(self) -> Any:
        """The variant's knobs as its Params dataclass, checked (types, bounds, choices) when this config was made."""
        return self._knobs

    @property
    def is_image(self) -> bool:
        return len(self.input_shape) == 3

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["input_shape"] = list(self.input_shape)
        d["hidden"] = list(self.hidden)
        d["channels"] = list(self.channels)
        return d


@dataclass
class TrainConfig:
    """How to fit: optimisation settings plus the seed that makes a run repeatable."""

    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    val_fraction: float = 0.1  # carved from the train split; the test split is never seen while training
    seed: int = 0
    device: str = "auto"
    keep_best: bool = True  # end with the weights of the epoch with the lowest validation loss

    def __post_init__(self) -> None:
        if int(self.epochs) < 1:
            raise InputError(f"epochs must be at least 1, got {self.epochs}")
        if int(self.batch_size) < 1:
            raise InputError(f"batch_size must be at least 1, got {self.batch_size}")
        if not float(self.lr) > 0:
            raise InputError(f"lr must be positive, got {self.lr}")
        if float(self.weight_decay) < 0:
            raise InputError(f"weight_decay must be non-negative, got {self.weight_decay}")
        if not 0 <= float(self.val_fraction) < 1:
            raise InputError(f"val_fraction must be in [0, 1), got {self.val_fraction}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def incompatibility(model_shape: tuple[int, ...], data_shape: tuple[int, ...], data_name: str) -> str | None:
    """None when the model can read the dataset, else a sentence a person can act on."""
    model_shape, data_shape = tuple(model_shape), tuple(data_shape)
    if model_shape == data_shape:
        return None

    def fmt(s: tuple[int, ...]) -> str:
        return f"{s[1]}x{s[2]} {'grey' if s[0] == 1 else 'colour'} images" if len(s) == 3 else f"rows of {s[0]} numbers"

    return (
        f"This model reads {fmt(model_shape)}, but {data_name} holds {fmt(data_shape)}. "
        f"Pick a model trained on data like {data_name}, or switch the dataset back."
    )


def check_fits(model_shape: tuple[int, ...], data_shape: tuple[int, ...], data_name: str) -> None:
    """The one input-shape check, for every entry point: a config before training, a loaded model before a page
    or `eval` uses it, a tensor before `fit`."""
    problem = incompatibility(model_shape, data_shape, data_name)
    if problem:
        raise InputError(problem)
