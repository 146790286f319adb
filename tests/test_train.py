"""The trainer: history, callbacks, reproducibility, divergence handling."""

from __future__ import annotations

import math

import pytest
import torch

from ae.config import ModelConfig, TrainConfig
from ae.registry import build_model
from ae.train import Callback, TrainingDiverged, fit, split_validation


def small(variant: str = "vanilla") -> torch.nn.Module:
    return build_model(ModelConfig(arch="dense", variant=variant, input_shape=(1, 8, 8), latent_dim=4, hidden=(32,)))


@pytest.fixture(scope="module")
def digits_x():
    from ae.data.sources import load_dataset

    return load_dataset("digits").x_train


def test_history_has_every_component_and_loss_falls(digits_x):
    model = small("vae")
    hist = fit(model, digits_x, TrainConfig(epochs=5, batch_size=64, seed=0))
    expected = {"epoch", "seconds"} | {f"{s}_{c}" for s in ("train", "val") for c in ("loss", "recon_loss", "reg_loss")}
    assert set(hist.columns) == expected
    assert list(hist["epoch"]) == [1, 2, 3, 4, 5]
    assert hist["train_loss"].iloc[-1] < hist["train_loss"].iloc[0]
    assert (hist["train_reg_loss"] > 0).all()  # the KL term is recorded
    assert not model.training


def test_seeded_runs_are_identical_on_cpu(digits_x):
    cfg = TrainConfig(epochs=2, batch_size=64, seed=7, device="cpu")
    a, b = small("denoising"), small("denoising")
    ha, hb = fit(a, digits_x, cfg), fit(b, digits_x, cfg)
    assert ha.drop(columns="seconds").equals(hb.drop(columns="seconds"))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_stop_callback_ends_early_and_epoch_callback_sees_history(digits_x):
    seen = []

    class StopAfterTwo(Callback):
        def on_epoch_end(self, history):
            seen.append(len(history))

        def should_stop(self):
            return len(seen) >= 2

    hist = fit(small(), digits_x, TrainConfig(epochs=50, batch_size=64), callbacks=[StopAfterTwo()])
    assert len(hist) == 2 and seen == [1, 2]


def test_keep_best_restores_the_best_validation_epoch(digits_x):
    x_tr, x_val = split_validation(digits_x, 0.2, seed=0)
    model = small()
    hist = fit(model, x_tr, TrainConfig(epochs=6, lr=0.05, keep_best=True), x_val=x_val)  # a noisy, high lr
    model.eval()
    with torch.no_grad():
        val = float(model(x_val).loss)
    assert val == pytest.approx(hist["val_loss"].min(), rel=1e-4)


def test_nan_loss_stops_with_clear_error_and_keeps_last_good_weights(digits_x):
    model = small()

    class Poison(Callback):
        """From epoch 2 on, sabotage the data so the loss becomes NaN."""

        def __init__(self):
            self.snapshot = None

        def on_epoch_end(self, history):
            self.snapshot = {k: v.clone() for k, v in model.state_dict().items()}
            digits_x_bad[0, 0, 0, 0] = math.nan

    digits_x_bad = digits_x.clone()
    cb = Poison()
    with pytest.raises(TrainingDiverged, match="became nan in epoch 2.*restored the weights from the end of epoch 1"):
        fit(model, digits_x_bad, TrainConfig(epochs=5, batch_size=64, val_fraction=0.0), callbacks=[cb])
    state = model.state_dict()
    assert all(torch.isfinite(v).all() for v in state.values())
    assert all(torch.equal(state[k], cb.snapshot[k]) for k in state)


def test_bad_inputs_are_refused(digits_x):
    with pytest.raises(ValueError, match=r"This model reads 8x8 grey images, but the training data holds 28x28 grey"):
        fit(small(), torch.rand(10, 1, 28, 28), TrainConfig(epochs=1))
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        TrainConfig(epochs=0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_asking_for_a_missing_gpu_is_an_error(digits_x):
    with pytest.raises(ValueError, match="no CUDA GPU is available"):
        fit(small(), digits_x, TrainConfig(epochs=1, device="cuda"))
