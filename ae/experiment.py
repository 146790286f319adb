"""Dataset + configs -> a trained, evaluated model and the metadata its checkpoint carries.

The CLI, the pretrained zoo and (later) the Train page all go through here, so every saved model records the same
facts: data, configs, history, test metrics, seconds and device.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from ae.config import ModelConfig, TrainConfig
from ae.data import Dataset
from ae.device import describe_device, pick_device
from ae.io import save_model
from ae.metrics import evaluate
from ae.models.base import Autoencoder
from ae.registry import build_model
from ae.train import Callback, fit


@dataclass
class Trained:
    model: Autoencoder
    history: pd.DataFrame
    metrics: dict[str, float]
    meta: dict[str, Any]


def model_config_for(data: Dataset, **kwargs: Any) -> ModelConfig:
    """A ModelConfig whose input_shape and loss fit the dataset (BCE for images, MSE for tabular rows)."""
    kwargs.setdefault("recon_loss", "bce" if data.kind == "image" else "mse")
    if data.kind != "image" and kwargs.get("arch", "conv") == "conv":
        kwargs["arch"] = "dense"
    return ModelConfig(input_shape=data.input_shape, **kwargs)


def train_on(
    data: Dataset, model_cfg: ModelConfig, train_cfg: TrainConfig, callbacks: Sequence[Callback] = ()
) -> Trained:
    """Build, fit on the train split, evaluate on the test split."""
    if tuple(model_cfg.input_shape) != data.input_shape:
        raise ValueError(
            f"the model expects inputs of {list(model_cfg.input_shape)} but {data.name} has {list(data.input_shape)}"
        )
    device = pick_device(train_cfg.device)
    model = build_model(model_cfg, seed=train_cfg.seed)
    t0 = time.perf_counter()
    history = fit(model, data.x_train, train_cfg, callbacks=callbacks)
    seconds = time.perf_counter() - t0
    metrics = evaluate(model, data.x_test)
    meta = {
        "dataset": {"name": data.name, "split": "test", "source": data.source, "kind": data.kind},
        "train": train_cfg.to_dict(),
        "history": history.to_dict(orient="records"),
        "metrics": metrics,
        "train_seconds": round(seconds, 2),
        "train_device": describe_device(device),
        "epochs_run": int(len(history)),
        "torch": torch.__version__,
    }
    return Trained(model=model, history=history, metrics=metrics, meta=meta)


def save_trained(trained: Trained, folder: str | Path, name: str, **kwargs: Any) -> Path:
    return save_model(trained.model, folder, name, trained.meta, **kwargs)
