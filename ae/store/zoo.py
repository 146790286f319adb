"""The pretrained zoo: which models ship in pretrained/, and the one seeded command that rebuilds them all.

    python -m ae pretrain            # trains every model on mnist-5k, measures and analyses it, writes the manifest
    python -m ae pretrain --analyses  # only (re)computes the shipped analyses of the shipped weights

Every number in pretrained/manifest.json and pretrained/README.md is measured here on the shipped (float16) weights,
never typed by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ae.config import TrainConfig
from ae.data.sources import Dataset, load_dataset
from ae.explore.metrics import encode, pca_mse
from ae.run.experiment import model_config_for
from ae.run.pipeline import preflight, train_and_save
from ae.run.train import validation_size

ZOO_DIR = Path(__file__).resolve().parents[2] / "pretrained"
DATASET = "mnist-5k"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ZooEntry:
    name: str
    model: dict[str, Any]
    epochs: int
    about: str
    lr: float = 1e-3
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig settings other than epochs, lr and seed
    reference: bool = False  # someone else's recipe, reproduced to compare against: held to no quality bar of ours


def _entry(name: str, variant: str, latent: int, epochs: int, about: str, arch: str = "conv",
           **model: Any) -> ZooEntry:
    return ZooEntry(name, dict(arch=arch, variant=variant, latent_dim=latent, **model), epochs, about)


DENSE = dict(arch="dense", hidden=(256, 128))

# The model of TensorFlow's "Intro to autoencoders" (Keras): Flatten, Dense(64, relu), Dense(784, sigmoid), Reshape;
# Adam (learning rate 0.001), MSE, batch 256, 10 epochs, the final epoch's weights. It reports a validation MSE of
# 0.0051 after training on the full 60,000 MNIST digits.
TUTORIAL = ZooEntry(
    "tutorial-dense-64",
    dict(arch="dense", variant="vanilla", latent_dim=64, hidden=(), code_activation="relu", recon_loss="mse"),
    10, "the Keras tutorial's model, exactly: dense 64 (ReLU) then dense 784 (sigmoid), Adam, MSE, batch 256, "
    "10 epochs", train=dict(batch_size=256, keep_best=False), reference=True,
)
TUTORIAL_VAL_MSE = 0.0051
TUTORIAL_TRAIN_IMAGES = 60_000

# name, variant, latent size, epochs, what it shows (conv 32,64 unless said)
ZOO: list[ZooEntry] = [
    _entry("dense-ae-16", "vanilla", 16, 60, "dense autoencoder, the MLP baseline", **DENSE),
    _entry("conv-ae-16", "vanilla", 16, 60, "convolutional autoencoder, the best reconstructions"),
    _entry("conv-ae-2", "vanilla", 2, 40, "a 2-D code: the raw latent plane can be drawn and decoded directly"),
    _entry("conv-dae-16", "denoising", 16, 40, "denoising autoencoder trained on Gaussian noise, sigma 0.3",
           params={"noise": "gaussian", "level": 0.3}),
    _entry("conv-sparse-16", "sparse", 16, 40, "sparse autoencoder, L1 penalty on the code",
           params={"mode": "l1", "weight": 0.1}),
    _entry("dense-cae-16", "contractive", 16, 60, "contractive autoencoder, Jacobian penalty on the encoder",
           params={"weight": 0.01}, **DENSE),
    _entry("conv-vae-2", "vae", 2, 40, "VAE with a 2-D latent: sample and walk the whole plane"),
    _entry("conv-vae-16", "vae", 16, 40, "VAE with a 16-D latent: sharper samples"),
    _entry("conv-bvae-10", "beta-vae", 10, 40, "beta-VAE (beta 4): a smoother, more factorised code",
           params={"beta": 4.0}),
    _entry("conv-ae-64", "vanilla", 64, 60, "convolutional autoencoder with a 64-D code, beside the tutorial's"),
    TUTORIAL,
]


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
    from ae.explore.analyses import model_kinds
    from ae.run.analyse import ensure
    from ae.store.checkpoints import load_model

    data = data if data is not None else load_dataset(DATASET)
    latents = []
    for path in shipped_models(out):
        model, _ = load_model(path)
        latents.append(model.cfg.latent_dim)
        ensure(model_kinds(data), path, data, model)
        log(f"{path.stem}: analyses stored")
    ensure(dataset_analyses(data, latents), None, data, root=out)
    log(f"{data.name}: one-class models, codecs and baselines stored")


def read_manifest(folder: Path = ZOO_DIR) -> dict:
    return json.loads((folder / MANIFEST).read_text())


def render_readme(manifest: dict) -> str:
    def f(v: float | None, fmt: str) -> str:
        return "—" if v is None else format(v, fmt)

    lines = [
        "# Pretrained models",
        "",
        "Generated by `python -m ae pretrain` (do not edit by hand): every model trained with seed 0 on the "
        f"`{manifest['dataset']}` train split and measured on its {manifest['split']}. Weights are stored in float16; "
        "the metrics are those of the shipped float16 weights (`fp32 MSE` is the same model before rounding). "
        "Each model has `NAME.safetensors` (weights), `NAME.json` (config, training history, metrics) and "
        "`NAME.maps.safetensors` (test-set codes and their PCA, UMAP and t-SNE maps, and the training recording: "
        "500 test codes mapped after every epoch; stamped with the weights' SHA-256).",
        "",
        "| model | variant | arch | latent | params | epochs | train s (device) | test MSE | PCA MSE, same k | PSNR dB "
        "| SSIM | kNN-5 acc. | ELBO nats | IW-NLL nats | fp32 MSE |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in manifest["models"]:
        pca = manifest["pca_mse"].get(str(r["latent_dim"]))
        lines.append(
            f"| {r['name']} | {r['variant']} | {r['arch']} | {r['latent_dim']} | {r['parameters']:,} | {r['epochs']} "
            f"| {r['train_seconds']:.0f} ({r['train_device']}) | {r['mse']:.4f} | {f(pca, '.4f')} | {r['psnr']:.2f} "
            f"| {r['ssim']:.3f} | {r['knn5_accuracy']:.3f} | {f(r['elbo'], '.1f')} | {f(r['iw_nll'], '.1f')} "
            f"| {r['fp32_mse']:.4f} |"
        )
    lines += [
        "",
        f"ELBO and IW-NLL are per image in nats (Bernoulli decoder; IW-NLL with {manifest['iw_samples']} importance "
        "samples, Burda et al. 2016). kNN-5 accuracy: a 5-nearest-neighbour classifier fitted on the train codes, "
        "scored on the test codes (chance 0.100). PCA MSE: PCA with as many components as the model's latent size, "
        "fitted on the train split, reconstructions clipped to [0, 1].",
        "",
        *tutorial_section(manifest),
    ]
    return "\n".join(lines)


def tutorial_section(manifest: dict) -> list[str]:
    """The Keras tutorial's model beside its published number and our models of the same latent size."""
    ref = next((r for r in manifest["models"] if r["name"] == TUTORIAL.name), None)
    if ref is None:
        return []
    k = ref["latent_dim"]
    peers = [r for r in manifest["models"] if r["latent_dim"] == k and r["name"] != ref["name"]]
    train_images = ref["train_images"]
    steps, their_steps = ref["epochs"] * -(-train_images // ref["batch_size"]), 10 * -(-TUTORIAL_TRAIN_IMAGES // 256)
    lines = [
        "## The Keras tutorial's model, as a reference point",
        "",
        f"`{ref['name']}` is the network the classic Keras tutorial starts from: flatten, dense {k} with ReLU, dense "
        f"784 with sigmoid; Adam (learning rate 0.001), MSE, batch {ref['batch_size']}, {ref['epochs']} epochs, the "
        "last epoch's weights. It ships as a reference point and is held to none of our quality bars.",
        "",
        "| model | test MSE here | PSNR dB | kNN-5 acc. | params |",
        "|---|---|---|---|---|",
        f"| {ref['name']} | {ref['mse']:.4f} | {ref['psnr']:.2f} | {ref['knn5_accuracy']:.3f} | "
        f"{ref['parameters']:,} |",
        *(f"| {r['name']} ({r['epochs']} epochs) | {r['mse']:.4f} | {r['psnr']:.2f} | {r['knn5_accuracy']:.3f} | "
          f"{r['parameters']:,} |" for r in peers),
        f"| PCA, {k} components | {manifest['pca_mse'][str(k)]:.4f} | — | — | — |",
        f"| the tutorial's published validation MSE | {TUTORIAL_VAL_MSE} | — | — | — |",
        "",
        f"Why {ref['mse']:.4f} here is not {TUTORIAL_VAL_MSE}: the tutorial trains on {TUTORIAL_TRAIN_IMAGES:,} "
        f"images and validates on 10,000; here the same recipe sees the {train_images:,} digits of "
        f"{manifest['dataset']}'s train split left after holding out a validation tenth and is measured on its "
        f"1,000 test digits, so its {ref['epochs']} epochs are {steps} Adam steps against the tutorial's "
        f"{their_steps:,}. Smaller differences: Keras averages the squared error over pixels where we sum it per "
        "image (Adam is nearly blind to that scale), and Keras starts weights with Glorot-uniform where PyTorch "
        "uses its own default. The published figure is quoted as issue 12 gives it, not re-run here (no Keras, no "
        "60k download offline); TensorFlow's \"Intro to autoencoders\" notebook trains this network on "
        "Fashion-MNIST with Keras's default batch of 32.",
        "",
    ]
    return lines


def shipped_models(folder: Path = ZOO_DIR) -> list[Path]:
    """JSON paths of the shipped models, in zoo order."""
    return [folder / f"{e.name}.json" for e in ZOO if (folder / f"{e.name}.json").exists()]
