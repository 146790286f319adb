"""What a notebook imports from `ae`: every advertised name resolves, and the docstring's example runs."""

from __future__ import annotations

import pytest

import ae


def test_every_advertised_name_resolves_to_what_its_module_defines():
    import importlib

    for name, module in ae._NAMES.items():
        assert getattr(ae, name) is getattr(importlib.import_module(module), name), name


@pytest.mark.slow
def test_the_notebook_example_trains_and_measures_a_model():
    from ae import ModelConfig, TrainConfig, build_model, evaluate, fit, load_dataset

    data = load_dataset("digits")
    model = build_model(ModelConfig(arch="dense", variant="vae", input_shape=data.input_shape, latent_dim=2,
                                    hidden=(32,)))
    history = fit(model, data.x_train, TrainConfig(epochs=2))
    assert len(history) == 2 and history["val_loss"].iloc[-1] < history["val_loss"].iloc[0] * 1.5
    assert 0 < evaluate(model, data.x_test, iw_samples=2)["mse"] < 0.2
