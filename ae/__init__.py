"""Latent Lab's library: datasets, autoencoders, training, checkpoints and metrics. Never imports streamlit."""

from ae.config import ModelConfig, TrainConfig
from ae.registry import build_model, variants

__all__ = ["ModelConfig", "TrainConfig", "build_model", "variants"]
