"""The shipped zoo in pretrained/: every file present, every number measured, every quality bar met."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ae.config import TrainConfig
from ae.data.noise import corrupt
from ae.explore.analyses import model_kinds
from ae.explore.embed import embed_2d
from ae.explore.learning import movement, sample_indices
from ae.explore.metrics import encode, evaluate, pca_mse, psnr_per_sample, reconstruct
from ae.run.analyse import find
from ae.run.zoo import build_entry, dataset_analyses, knn_accuracy
from ae.store.checkpoints import load_model
from ae.store.recording import load_recording
from ae.store.zoo import ZOO, ZOO_DIR, ZooEntry, read_manifest, shipped_models

NAMES = [e.name for e in ZOO]


@pytest.fixture(scope="module")
def manifest():
    return read_manifest()


@pytest.fixture(scope="module")
def models():
    return {p.stem: load_model(p) for p in shipped_models()}


def row(manifest, name):
    return next(r for r in manifest["models"] if r["name"] == name)


def test_every_entry_ships_with_weights_config_recording_analyses_and_a_manifest_row(manifest, mnist5k):
    assert [r["name"] for r in manifest["models"]] == NAMES
    for name in NAMES:
        for suffix in (".safetensors", ".json", ".recording.safetensors"):
            assert (ZOO_DIR / f"{name}{suffix}").exists(), name + suffix
        for key in model_kinds(mnist5k):  # what every page reads: a fresh server computes nothing for the zoo
            assert find(key, ZOO_DIR / f"{name}.json", mnist5k) is not None, f"{name}: {key}"
    for key in dataset_analyses(mnist5k, [r["latent_dim"] for r in manifest["models"]]):
        assert find(key, None, mnist5k, [ZOO_DIR]) is not None, key
    readme = (ZOO_DIR / "README.md").read_text()
    assert all(f"| {name} |" in readme for name in NAMES)
    assert {"dense", "conv"} == {r["arch"] for r in manifest["models"]}
    assert {"vanilla", "denoising", "sparse", "contractive", "vae", "beta-vae"} == {r["variant"] for r in
                                                                                   manifest["models"]}


def test_the_zoo_folder_is_small():
    """Eleven models with their training recordings and every analysis the pages read (about 0.1 MB a model), and
    mnist-5k's one-class models and baselines (2 MB), stay a small clone."""
    total = sum(p.stat().st_size for p in ZOO_DIR.rglob("*") if p.is_file())
    assert total < 10 * 2**20, f"{total / 2**20:.1f} MiB"


@pytest.mark.slow
def test_manifest_numbers_are_what_the_shipped_weights_measure(manifest, models, mnist5k):
    for name, (model, meta) in models.items():
        r = row(manifest, name)
        m = evaluate(model, mnist5k.x_test, iw_samples=2)  # the IW estimate itself is checked on one model below
        assert m["mse"] == pytest.approx(r["mse"], rel=1e-4), name
        assert m["psnr"] == pytest.approx(r["psnr"], rel=1e-4), name
        assert m["ssim"] == pytest.approx(r["ssim"], rel=1e-4), name
        if model.has_elbo:
            assert m["elbo"] == pytest.approx(r["elbo"], rel=1e-4), name
        assert r["parameters"] == sum(p.numel() for p in model.parameters())
        assert r["epochs"] == len(meta["history"]) and meta["dataset"]["name"] == "mnist-5k"
        assert abs(r["mse"] - r["fp32_mse"]) < 0.01 * r["fp32_mse"], "float16 storage must cost nothing measurable"


@pytest.mark.slow
def test_iw_nll_of_a_shipped_vae_is_reproduced(manifest, models, mnist5k):
    model, _ = models["conv-vae-2"]
    assert evaluate(model, mnist5k.x_test)["iw_nll"] == pytest.approx(row(manifest, "conv-vae-2")["iw_nll"], rel=1e-4)
    assert row(manifest, "conv-vae-2")["iw_nll"] < -row(manifest, "conv-vae-2")["elbo"]


@pytest.mark.slow
def test_every_non_variational_model_beats_pca_with_as_many_components(manifest, models, mnist5k):
    for name, (model, _) in models.items():
        if model.samples_prior or row(manifest, name)["reference"]:
            continue
        k = model.cfg.latent_dim
        mse = evaluate(model, mnist5k.x_test)["mse"]
        assert mse < pca_mse(mnist5k.x_train, mnist5k.x_test, k), name


def test_the_tutorial_model_is_its_recipe_and_the_readme_sets_it_beside_ours(manifest, models):
    model, meta = models["tutorial-dense-64"]
    r = row(manifest, "tutorial-dense-64")
    assert r["reference"] and r["epochs"] == 10 and r["batch_size"] == 256 and r["train_images"] == 3600
    assert meta["train"]["batch_size"] == 256 and meta["train"]["keep_best"] is False
    assert meta["model"]["recon_loss"] == "mse" and meta["model"]["hidden"] == []
    assert [type(m).__name__ for m in model.encoder[1:]] == ["Linear", "ReLU"] and model.cfg.latent_dim == 64
    assert r["parameters"] == 784 * 64 + 64 + 64 * 784 + 784
    section = (ZOO_DIR / "README.md").read_text().split("## The Keras tutorial's model")[1]
    assert f"| tutorial-dense-64 | {r['mse']:.4f} |" in section and "| 0.0051 |" in section
    assert f"| conv-ae-64 (60 epochs) | {row(manifest, 'conv-ae-64')['mse']:.4f} |" in section
    assert f"| PCA, 64 components | {manifest['pca_mse']['64']:.4f} |" in section
    assert "are 150 Adam steps against the tutorial's 2,350" in section


def test_every_zoo_model_ships_its_training_recording(manifest):
    """One frame per epoch of the same 500 test digits, consecutive frames aligned (they move less than the same
    frames turned by 90 degrees would)."""
    for r in manifest["models"]:
        frames, index = load_recording(ZOO_DIR / f"{r['name']}.json")
        assert frames.shape == (r["epochs"], 500, 2), r["name"]
        assert np.array_equal(index, sample_indices(1000))
        turned = frames[1:] @ np.array([[0.0, -1.0], [1.0, 0.0]])
        assert movement(frames[1:].reshape(-1, 2), frames[:-1].reshape(-1, 2)) < movement(
            turned.reshape(-1, 2), frames[:-1].reshape(-1, 2)), r["name"]


def test_conv_ae_16_reaches_half_the_pca_16_error(models, mnist5k):
    mse = evaluate(models["conv-ae-16"][0], mnist5k.x_test)["mse"]
    assert mse <= 0.5 * pca_mse(mnist5k.x_train, mnist5k.x_test, 16)


def test_denoising_ae_restores_noisy_digits_better_than_the_vanilla_ae(models, mnist5k):
    clean = mnist5k.test_x()
    noisy = corrupt(clean, "gaussian", 0.3, generator=torch.Generator().manual_seed(1))
    noisy_psnr = float(psnr_per_sample(clean, noisy).mean())
    dae = float(psnr_per_sample(clean, reconstruct(models["conv-dae-16"][0], noisy)).mean())
    ae = float(psnr_per_sample(clean, reconstruct(models["conv-ae-16"][0], noisy)).mean())
    assert 12.8 < noisy_psnr < 13.8
    assert dae > ae + 1.0 and dae > noisy_psnr + 3


def test_the_2d_vae_map_separates_digits(manifest, models, mnist5k):
    model, _ = models["conv-vae-2"]
    acc = knn_accuracy(encode(model, mnist5k.x_train).numpy(), mnist5k.y_train.numpy(),
                       encode(model, mnist5k.x_test).numpy(), mnist5k.y_test.numpy())
    assert acc == pytest.approx(row(manifest, "conv-vae-2")["knn5_accuracy"])
    assert acc > 0.5  # chance is 0.1


def test_shipped_maps_are_what_the_shipped_weights_encode(models, mnist5k):
    for name, (model, _) in models.items():
        maps = find("maps", ZOO_DIR / f"{name}.json", mnist5k)
        assert set(maps.arrays) == {"codes", "pca", "umap", "tsne"}
        assert all(maps.arrays[k].shape == (1000, 2) for k in ("pca", "umap", "tsne"))
        codes = encode(model, mnist5k.x_test).numpy()
        np.testing.assert_allclose(maps.arrays["codes"].astype(np.float32), codes, atol=2e-2 * np.abs(codes).max())
        pca = embed_2d(codes, "pca")
        np.testing.assert_allclose(np.abs(maps.arrays["pca"].astype(np.float32)), np.abs(pca),
                                   atol=2e-2 * np.abs(pca).max())
        assert maps.info["fitted"] == {"pca": 1000, "umap": 1000, "tsne": 1000}


def test_shipped_errors_are_what_the_shipped_weights_make(models, mnist5k, manifest):
    from ae.explore.metrics import errors_per_sample

    for name, (model, _) in models.items():
        recon = find("recon", ZOO_DIR / f"{name}.json", mnist5k)
        np.testing.assert_allclose(recon.arrays["mse"], errors_per_sample(model, mnist5k.x_test)["mse"], rtol=1e-4)
        assert float(recon.arrays["mse"].mean()) == pytest.approx(row(manifest, name)["mse"], rel=1e-4), name


@pytest.mark.slow
def test_pretrain_builds_an_entry_with_files_and_row(mnist5k, tmp_path):
    entry = ZooEntry("tiny-vae-2", dict(arch="conv", variant="vae", latent_dim=2, channels=(8, 16)), 2, "test")
    r = build_entry(entry, mnist5k, tmp_path, log=lambda s: None)
    assert r["epochs"] == 2 and r["elbo"] < 0 and r["iw_nll"] > 0
    model, meta = load_model(tmp_path / "tiny-vae-2.json")
    assert meta["weights_dtype"] == "float16" and meta["train"] == TrainConfig(epochs=2).to_dict()
    assert find("maps", tmp_path / "tiny-vae-2.json", mnist5k).arrays["umap"].shape == (1000, 2)
    assert {p.name.split("-")[0] for p in (tmp_path / "tiny-vae-2.analyses").iterdir()} == set(model_kinds(mnist5k))
