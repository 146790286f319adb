"""Configs that fit a dataset: the defaults every entry point (CLI, zoo, Train page) starts from (the input-shape
check itself is `ae.config.check_fits`)."""

from __future__ import annotations

from typing import Any

from ae.config import ModelConfig
from ae.data.sources import Dataset


def model_config_for(data: Dataset, **kwargs: Any) -> ModelConfig:
    """A ModelConfig whose input_shape and loss fit the dataset (BCE for images, MSE for tabular rows)."""
    kwargs.setdefault("recon_loss", "bce" if data.kind == "image" else "mse")
    if data.kind != "image" and kwargs.get("arch", "conv") == "conv":
        kwargs["arch"] = "dense"
    return ModelConfig(input_shape=data.input_shape, **kwargs)
