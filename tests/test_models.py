"""One suite over the whole registry: every variant x architecture x input shape."""

from __future__ import annotations

import pytest
import torch

from ae.config import ModelConfig
from ae.models.blocks import ARCHS
from ae.registry import build_model, variants
from ae.store.checkpoints import load_model, save_model

SHAPES = [(1, 28, 28), (1, 8, 8), (3, 32, 32), (20,)]


def make_cfg(variant: str, arch: str, shape: tuple[int, ...], **kw) -> ModelConfig:
    return ModelConfig(arch=arch, variant=variant, input_shape=shape, latent_dim=4,
                       hidden=(64, 32), channels=(8, 16), recon_loss="bce" if len(shape) == 3 else "mse", **kw)


def batch(shape: tuple[int, ...], n: int = 32) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    if len(shape) == 3:
        # smooth blobs rather than pure noise, so there is structure to learn
        base = torch.rand(n, shape[0], 1, 1, generator=g) * torch.linspace(0, 1, shape[1]).view(1, 1, -1, 1)
        return (base + 0.1 * torch.rand(n, *shape, generator=g)).clamp(0, 1)
    return torch.randn(n, *shape, generator=g)


CASES = [(v, a, s) for v in variants() for a in sorted(ARCHS) for s in SHAPES if not (a == "conv" and len(s) == 1)]


def test_registry_has_every_variant():
    assert set(variants()) >= {"vanilla", "denoising", "sparse", "contractive", "vae", "beta-vae"}
    assert set(ARCHS) == {"dense", "conv"}


@pytest.mark.parametrize("variant,arch,shape", CASES, ids=[f"{v}-{a}-{'x'.join(map(str, s))}" for v, a, s in CASES])
def test_variant_builds_learns_and_round_trips(variant, arch, shape, tmp_path):
    model = build_model(make_cfg(variant, arch, shape), seed=0)
    x = batch(shape)
    model.train()
    out = model(x)
    assert out.x_hat.shape == x.shape
    assert out.z.shape == (len(x), 4)
    assert torch.isfinite(out.loss) and torch.isfinite(out.recon_loss) and torch.isfinite(out.reg_loss)
    assert model.encode(x).shape == (len(x), 4)
    assert model.decode(torch.zeros(3, 4)).shape == (3, *shape)
    if len(shape) == 3:
        with torch.no_grad():
            sample = model.decode(3 * torch.randn(50, 4))
        assert 0 <= float(sample.min()) and float(sample.max()) <= 1

    # a few Adam steps on one fixed batch lower the loss (evaluated the same way before and after)
    torch.manual_seed(0)
    model.eval()
    with torch.no_grad():
        before = float(model(x).loss)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(25):
        opt.zero_grad()
        model(x).loss.backward()
        opt.step()
    model.eval()
    torch.manual_seed(0)
    with torch.no_grad():
        after = float(model(x).loss)
    assert after < before

    # save then load gives identical outputs
    save_model(model, tmp_path, "m")
    loaded, meta = load_model(tmp_path / "m.json")
    assert meta["model"]["variant"] == variant
    with torch.no_grad():
        assert torch.equal(loaded.encode(x), model.encode(x))
        assert torch.equal(loaded.reconstruct(x), model.reconstruct(x))


def test_conv_refuses_tabular_and_too_small_images():
    with pytest.raises(ValueError, match="conv architecture needs image input"):
        build_model(make_cfg("vanilla", "conv", (20,)))
    with pytest.raises(ValueError, match="too small for 4 stride-2 conv layers"):
        build_model(ModelConfig(arch="conv", input_shape=(1, 8, 8), channels=(8, 8, 8, 8)))


def test_conv_restores_odd_sizes():
    model = build_model(ModelConfig(arch="conv", input_shape=(3, 13, 27), channels=(4, 8, 8), latent_dim=3))
    assert model.decode(torch.zeros(2, 3)).shape == (2, 3, 13, 27)


def test_the_same_seed_gives_the_same_weights_and_another_seed_others():
    a = build_model(make_cfg("vae", "conv", (1, 28, 28)), seed=3)
    b = build_model(make_cfg("vae", "conv", (1, 28, 28)), seed=3)
    c = build_model(make_cfg("vae", "conv", (1, 28, 28)), seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_a_misspelt_knob_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown VAEParams keys: btea"):
        build_model(make_cfg("vae", "dense", (20,), params={"btea": 2}))


def test_an_unknown_variant_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown variant 'nope'"):
        build_model(make_cfg("nope", "dense", (20,)))


def test_bce_is_refused_for_tabular_rows():
    with pytest.raises(ValueError, match="'bce' needs inputs in"):
        ModelConfig(arch="dense", input_shape=(20,), recon_loss="bce")


def test_a_relu_code_is_never_negative_and_a_vae_refuses_one():
    """The Keras tutorial's Dense(64, 'relu') code: no hidden layer, the ReLU right after the code layer."""
    model = build_model(ModelConfig(arch="dense", input_shape=(1, 28, 28), hidden=(), latent_dim=64,
                                    code_activation="relu", recon_loss="mse"), seed=0)
    assert [type(m).__name__ for m in model.encoder[1:]] == ["Linear", "ReLU"]
    assert sum(p.numel() for p in model.parameters()) == 784 * 64 + 64 + 64 * 784 + 784
    z = model.encode(torch.randn(50, 1, 28, 28))
    assert z.min() == 0 and (z > 0).any()
    assert build_model(make_cfg("vanilla", "dense", (20,))).encode(torch.randn(50, 20)).min() < 0  # linear: default
    with pytest.raises(ValueError, match="a VAE's code is a mean and a log-variance"):
        build_model(make_cfg("vae", "dense", (20,), code_activation="relu"))
    with pytest.raises(ValueError, match="sigmoid of a ReLU code is at least 0.5"):
        build_model(make_cfg("sparse", "dense", (20,), code_activation="relu", params={"mode": "kl"}))
    with pytest.raises(ValueError, match="code_activation must be one of linear, relu"):
        ModelConfig(code_activation="tanh")


def test_variant_knobs_change_the_regulariser():
    x = batch((1, 28, 28))
    vae = build_model(make_cfg("vae", "dense", (1, 28, 28)), seed=0)
    beta = build_model(make_cfg("beta-vae", "dense", (1, 28, 28)), seed=0)
    assert beta.params.beta == 4.0 and vae.params.beta == 1.0
    torch.manual_seed(0)
    r1 = vae(x).reg_loss.item()
    torch.manual_seed(0)
    r4 = beta(x).reg_loss.item()
    assert r4 == pytest.approx(4 * r1, rel=1e-5)  # same weights, same draw: only beta differs

    sparse_kl = build_model(make_cfg("sparse", "dense", (1, 28, 28), params={"mode": "kl", "weight": 1.0}))
    z = sparse_kl.encode(x)
    assert z.min().item() >= 0 and z.max().item() <= 1  # KL sparsity works on rates
    assert sparse_kl(x).reg_loss.item() > 0

    contractive = build_model(make_cfg("contractive", "dense", (1, 28, 28), params={"weight": 1.0}))
    with torch.no_grad():
        reg = contractive(x).reg_loss  # the penalty is computed even without grad (validation)
    assert float(reg) > 0

    den = build_model(make_cfg("denoising", "dense", (1, 28, 28), params={"noise": "mask", "level": 0.5}))
    den.train()
    assert not torch.equal(den.corrupt(x), x)
    with pytest.raises(ValueError, match="noise must be one of gaussian, salt_pepper, mask; got 'fog'"):
        build_model(make_cfg("denoising", "dense", (1, 28, 28), params={"noise": "fog"}))


def test_contractive_penalty_is_the_jacobian_norm():
    from ae.models.contractive import jacobian_frobenius

    model = build_model(make_cfg("contractive", "dense", (6,)), seed=0)
    x = torch.randn(3, 6, requires_grad=True)
    got = jacobian_frobenius(model.encode(x), x, create_graph=False)
    jac = torch.stack([torch.autograd.functional.jacobian(model.encode, x[i : i + 1]).squeeze() for i in range(3)])
    assert float(got) == pytest.approx(float((jac**2).sum() / 3), rel=1e-5)


@pytest.mark.slow
def test_a_prior_model_without_an_elbo_samples_on_generate_and_is_measured_without_an_elbo(mnist5k, models_dir):
    """The WAE-MMD variant (one file, ae/models/wae.py) proves the recipe: its codes follow N(0, I), so the Generate
    page samples it; it has no posterior, so evaluate reports no ELBO."""
    from ae.config import TrainConfig
    from ae.explore.metrics import evaluate
    from ae.registry import VARIANTS
    from ae.run.experiment import model_config_for
    from ae.run.pipeline import preflight, train_and_save
    from tests.helpers import app

    assert VARIANTS["wae-mmd"].samples_prior and not VARIANTS["wae-mmd"].has_elbo
    cfg = model_config_for(mnist5k, arch="dense", variant="wae-mmd", latent_dim=4, hidden=(64,))
    r = train_and_save(mnist5k, preflight(cfg, TrainConfig(epochs=2, batch_size=256), mnist5k), models_dir, "wae")
    assert "elbo" not in r.metrics and "elbo" not in evaluate(r.model, mnist5k.x_test[:50])
    at = app("pages/generate.py", model="yours/wae")
    assert not at.exception and not at.error
    assert any("64 codes drawn from N(0, 1.0² I)" in i.proto.imgs[0].caption for i in at.image)


@pytest.mark.parametrize("variant,arch,shape", CASES, ids=[f"{v}-{a}-{'x'.join(map(str, s))}" for v, a, s in CASES])
def test_a_network_built_once_on_meta_then_given_memory_equals_one_built_on_the_cpu(variant, arch, shape):
    """build_model constructs once (on the meta device, to count the weights before allocating them) and then
    initialises in construction order: the same seed must give exactly the weights the constructor would."""
    from ae.registry import VARIANTS

    cfg = make_cfg(variant, arch, shape)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        direct = VARIANTS[variant](cfg).state_dict()
    built = build_model(cfg, seed=7).state_dict()
    assert built.keys() == direct.keys()
    assert all(torch.equal(built[k], direct[k]) for k in direct)
    assert not torch.equal(build_model(cfg, seed=8).state_dict()["decoder.0.weight"], direct["decoder.0.weight"])
