"""Metrics on known inputs, and the VAE likelihood estimates against each other."""

from __future__ import annotations

import math

import pytest
import torch

from ae.config import ModelConfig
from ae.explore.metrics import (
    bce_per_sample,
    elbo_per_sample,
    evaluate,
    iw_nll_per_sample,
    mse_per_sample,
    pca_mse,
    psnr_per_sample,
    ssim_per_sample,
)
from ae.registry import build_model


def test_mse_psnr_known_values():
    x = torch.zeros(2, 1, 4, 4)
    y = torch.full_like(x, 0.1)
    assert mse_per_sample(x, y).tolist() == pytest.approx([0.01, 0.01])
    assert psnr_per_sample(x, y).tolist() == pytest.approx([20.0, 20.0], abs=1e-4)  # 10 log10(1 / 0.01)
    assert bce_per_sample(x, y).tolist() == pytest.approx([-math.log(0.9)] * 2, rel=1e-5)


def test_ssim_is_one_for_a_copy_and_drops_with_noise():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 1, 28, 28, generator=g)
    assert ssim_per_sample(x, x).tolist() == pytest.approx([1.0, 1.0, 1.0])
    noisy = (x + 0.3 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    assert (ssim_per_sample(x, noisy) < 0.9).all()
    assert ssim_per_sample(torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)).shape == (2,)


def test_pca_baseline_improves_with_components(mnist5k):
    assert pca_mse(mnist5k.x_train, mnist5k.x_test, 32) < pca_mse(mnist5k.x_train, mnist5k.x_test, 16)
    assert 0.02 < pca_mse(mnist5k.x_train, mnist5k.x_test, 16) < 0.03


def test_iw_nll_is_tighter_than_the_elbo(mnist5k):
    torch.manual_seed(0)
    vae = build_model(ModelConfig(arch="dense", variant="vae", latent_dim=4, hidden=(64,)), seed=0)
    x = mnist5k.test_x(slice(0, 50))
    neg_elbo = -elbo_per_sample(vae, x).mean()
    nll_1 = iw_nll_per_sample(vae, x, k=1).mean()
    nll_64 = iw_nll_per_sample(vae, x, k=64).mean()
    assert nll_64 < nll_1  # more importance samples, tighter bound
    assert nll_64 < neg_elbo
    assert float(nll_1) == pytest.approx(float(neg_elbo), rel=0.05)  # k = 1 is the ELBO itself


def test_evaluate_reports_what_applies(mnist5k):
    ae16 = build_model(ModelConfig(arch="dense", latent_dim=4, hidden=(32,)))
    m = evaluate(ae16, mnist5k.x_test[:20])
    assert set(m) == {"n", "mse", "bce", "psnr", "ssim"}
    vae = build_model(ModelConfig(arch="dense", variant="vae", latent_dim=4, hidden=(32,)))
    mv = evaluate(vae, mnist5k.x_test[:20], iw_samples=8)
    assert {"elbo", "iw_nll"} <= set(mv) and mv["iw_samples"] == 8
    tab = build_model(ModelConfig(arch="dense", input_shape=(5,), recon_loss="mse", latent_dim=2, hidden=(8,)))
    assert set(evaluate(tab, torch.randn(10, 5))) == {"n", "mse"}
    with pytest.raises(ValueError, match="has no ELBO"):
        elbo_per_sample(ae16, mnist5k.x_test[:2])


def test_batched_ssim_equals_scikit_image_per_image():
    from skimage.metrics import structural_similarity

    gen = torch.Generator().manual_seed(0)
    for shape in ((5, 1, 28, 28), (3, 3, 8, 8), (2, 1, 5, 9)):
        x = torch.rand(shape, generator=gen)
        y = (x + 0.2 * torch.randn(shape, generator=gen)).clamp(0, 1)
        win = min(7, min(shape[-2:]) if min(shape[-2:]) % 2 else min(shape[-2:]) - 1)
        expected = [structural_similarity(x[i].double().numpy(), y[i].double().numpy(), data_range=1.0,
                                          channel_axis=0, win_size=win) for i in range(shape[0])]
        assert ssim_per_sample(x, y).tolist() == pytest.approx(expected, abs=1e-6)
