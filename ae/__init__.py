"""Latent Lab's library: datasets, autoencoders, training, checkpoints and what a model can show. Never imports
streamlit. The names a notebook needs are importable from here (loaded on first use, so `import ae` is cheap):

    from ae import load_dataset, ModelConfig, TrainConfig, build_model, fit, evaluate, save_model, load_model
    data = load_dataset("mnist-5k")
    model = build_model(ModelConfig(variant="vae", latent_dim=2))
    fit(model, data.x_train, TrainConfig(epochs=5))
    evaluate(model, data.x_test)

The folders: data/ (where samples come from), models/ (the variants), run/ (training, the pipeline, jobs, analyses
on the cluster), store/ (checkpoints, analyses, recordings, the zoo), explore/ (metrics, maps, generation, denoising,
anomalies, and the analyses that gather them: `compute("maps", model, data)`).
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "ModelConfig": "ae.config", "TrainConfig": "ae.config", "from_dict": "ae.config",
    "InputError": "ae.errors", "knob": "ae.knobs",
    "build_model": "ae.registry", "register": "ae.registry", "variants": "ae.registry",
    "Dataset": "ae.data.sources", "load_dataset": "ae.data.sources", "dataset_names": "ae.data.sources",
    "load_file": "ae.data.userdata", "prepare_image": "ae.data.imageio",
    "Autoencoder": "ae.models.base",
    "fit": "ae.train", "pick_device": "ae.device", "model_config_for": "ae.run.experiment",
    "preflight": "ae.run.pipeline", "train_and_save": "ae.run.pipeline",
    "save_model": "ae.store.checkpoints", "load_model": "ae.store.checkpoints", "list_catalog": "ae.store.catalog",
    "evaluate": "ae.explore.metrics", "encode": "ae.explore.metrics", "reconstruct": "ae.explore.metrics",
    "embed_2d": "ae.explore.embed", "sample_prior": "ae.explore.generate", "interpolate": "ae.explore.generate",
    "denoise": "ae.explore.denoise", "scores": "ae.explore.anomaly",
    "compute": "ae.explore.analyses", "analyse": "ae.run.analyse", "find": "ae.run.analyse",
    "import_onnx": "ae.run.importer", "from_graphs": "ae.models.imported",
    "paired_table": "ae.explore.paired", "paired_interval": "ae.explore.paired",
    "agreement": "ae.explore.agreement", "align": "ae.explore.agreement",
}
__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'ae' has no attribute {name!r}")
    value = getattr(importlib.import_module(_NAMES[name]), name)
    globals()[name] = value
    return value
