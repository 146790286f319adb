"""The one seeded command that rebuilds the pretrained zoo (`ae.store.zoo` says what it holds).

    python -m ae pretrain            # trains every model on mnist-5k, measures and analyses it, writes the manifest
    python -m ae pretrain --analyses  # only (re)computes the shipped analyses of the shipped weights
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ae.config import TrainConfig
from ae.data.sources import Dataset, load_dataset
from ae.explore.metrics import encode, pca_mse
from ae.run.experiment import model_config_for
from ae.run.pipeline import preflight, train_and_save
from ae.store.zoo import DATASET, MANIFEST, ZOO, ZOO_DIR, ZooEntry, render_readme, shipped_models
from ae.train import validation_size


def knn_accuracy(train_codes: np.ndarray, y_train: np.ndarray, test_codes: np.ndarray, y_test: np.ndarray) -> float:
    """How well the codes separate classes: a 5-nearest-neighbour classifier fitted on train codes, scored on test
    codes (chance is 1 / classes)."""
    from sklearn.neighbors import KNeighborsClassifier

    return float(KNeighborsClassifier(n_neighbors=5).fit(train_codes, y_train).score(test_codes, y_test))


def build_entry(entry: ZooEntry, data: Dataset, out: Path, seed: int = 0, log: Callable[[str], None] = print) -> dict:
    """Train through the one pipeline with float16 weights (metrics measured on them), return the manifest row."""
    cfg = model_config_for(data, **entry.model)

    def knn(model, data: Dataset) -> dict[str, float]:
        train_codes, test_codes = encode(model, data.x_train).numpy(), encode(model, data.x_test).numpy()
        return {"knn5_accuracy": knn_accuracy(train_codes, data.y_train.numpy(), test_codes, data.y_test.numpy())}

    tcfg = TrainConfig(epochs=entry.epochs, lr=entry.lr, seed=seed, **entry.train)
    r = train_and_save(data, preflight(cfg, tcfg, data), out, entry.name,
                       dtype=torch.float16, overwrite=True, about=entry.about, extra_metrics=knn, log=log)
    metrics, fp32 = r.metrics, r.meta["fp32_metrics"]
    log(f"{entry.name}: test MSE {metrics['mse']:.4f} (float32 {fp32['mse']:.4f}), "
        f"{r.meta['train_seconds']} s on {r.meta['train_device']}")
    return {
        "name": entry.name,
        "variant": r.model.name,
        "arch": r.model.cfg.arch,
        "latent_dim": r.model.cfg.latent_dim,
        "parameters": sum(p.numel() for p in r.model.parameters()),
        "epochs": r.meta["epochs_run"],
        "batch_size": tcfg.batch_size,
        "train_images": len(data.x_train) - validation_size(len(data.x_train), tcfg.val_fraction),
        "reference": entry.reference,
        "train_seconds": r.meta["train_seconds"],
        "train_device": r.meta["train_device"],
        "about": entry.about,
        **{k: metrics[k] for k in ("mse", "psnr", "ssim", "knn5_accuracy")},
        "elbo": metrics.get("elbo"),
        "iw_nll": metrics.get("iw_nll"),
        "fp32_mse": fp32["mse"],
    }


def build_zoo(out: Path = ZOO_DIR, only: list[str] | None = None, log: Callable[[str], None] = print) -> Path:
    """Rebuild the zoo (or the named entries) and rewrite the manifest and the README table."""
    out.mkdir(parents=True, exist_ok=True)
    data = load_dataset(DATASET)
    entries = [e for e in ZOO if not only or e.name in only]
    unknown = set(only or []) - {e.name for e in ZOO}
    if unknown:
        raise ValueError(f"no zoo entry named {', '.join(sorted(unknown))}; entries: {', '.join(e.name for e in ZOO)}")
    manifest_path = out / MANIFEST
    old = json.loads(manifest_path.read_text()) if manifest_path.exists() and only else {"models": []}
    rows = {r["name"]: r for r in old.get("models", [])}
    for entry in entries:
        rows[entry.name] = build_entry(entry, data, out, log=log)
    latents = sorted({r["latent_dim"] for r in rows.values()})
    manifest = {
        "format_version": 1,
        "dataset": DATASET,
        "split": "test (1,000 digits); trained on the 4,000-digit train split, 10% of it held out for validation",
        "pca_mse": {str(k): pca_mse(data.x_train, data.x_test, k) for k in latents},
        "iw_samples": 100,
        "torch": torch.__version__,
        "models": [rows[e.name] for e in ZOO if e.name in rows],
    }
    manifest_path.write_text(json.dumps(manifest, indent=2))
    (out / "README.md").write_text(render_readme(manifest))
    analyse_zoo(out, data, log)
    return manifest_path


def dataset_analyses(data: Dataset, latents: list[int]) -> list[str]:
    """What the zoo ships about its dataset alone: a one-class model per class, the codecs, the raw-input probes and
    PCA with each latent size a zoo model has (the Compress and Features pages set PCA beside the first model)."""
    return [*(f"oneclass-{c}" for c in range(len(data.class_names))), "codecs", "raw-probes",
            *(f"pca-{k}" for k in sorted(set(latents)))]


def analyse_zoo(out: Path = ZOO_DIR, data: Dataset | None = None, log: Callable[[str], None] = print) -> None:
    """Store every analysis the pages read for the shipped models and their dataset, so a fresh server computes
    nothing before its first visitor (the files are stamped with the weights' and the data's hashes)."""
    from ae.explore.analyses import detector_keys, model_kinds
    from ae.run.analyse import ensure
    from ae.store.checkpoints import load_model

    data = data if data is not None else load_dataset(DATASET)
    latents = []
    for path in shipped_models(out):
        model, _ = load_model(path)
        latents.append(model.cfg.latent_dim)
        # Compare asks for each design's one-class detectors too (ten trainings a model): shipped; never its "speed",
        # a timing of the machine that takes it
        ensure([*model_kinds(data), *detector_keys(data)], path, data, model)
        log(f"{path.stem}: analyses stored")
    ensure(dataset_analyses(data, latents), None, data, root=out)
    log(f"{data.name}: one-class models, codecs and baselines stored")
