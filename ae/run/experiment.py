"""Configs that fit a dataset: the defaults every entry point (CLI, zoo, Train page) starts from."""

from __future__ import annotations

from typing import Any

from ae.config import ModelConfig
from ae.data.sources import Dataset
from ae.errors import InputError


def model_config_for(data: Dataset, **kwargs: Any) -> ModelConfig:
    """A ModelConfig whose input_shape and loss fit the dataset (BCE for images, MSE for tabular rows)."""
    kwargs.setdefault("recon_loss", "bce" if data.kind == "image" else "mse")
    if data.kind != "image" and kwargs.get("arch", "conv") == "conv":
        kwargs["arch"] = "dense"
    return ModelConfig(input_shape=data.input_shape, **kwargs)


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
