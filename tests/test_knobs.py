"""A variant's knobs live once, in its Params class: the Train page, the CLI's help, `python -m ae list` and the
range checks are generated from them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ae.config import ModelConfig
from ae.errors import InputError
from ae.knobs import knob, knobs
from ae.models.base import Autoencoder
from ae.registry import VARIANTS, build_model, register, variant_title, variants


@pytest.fixture
def toy_variant():
    """A throwaway variant, one class in one place, as a contributor would add it."""
    variants()

    @dataclass
    class ToyParams:
        gain: float = knob(0.5, min=0.0, max=2.0, step=0.1, label="Toy gain", help="how much the toy amplifies")
        flavour: str = knob("plain", choices=("plain", "fancy"), help="which toy")

    @register("toy")
    class Toy(Autoencoder):
        """A toy variant for the tests."""

        title = "toy AE"
        Params = ToyParams

    yield Toy
    VARIANTS.pop("toy")


def test_a_new_variants_knobs_are_checked_listed_and_in_the_cli_help(toy_variant, capsys):
    from ae.__main__ import main

    assert variant_title("toy") == "toy AE"
    model = build_model(ModelConfig(variant="toy", params={"gain": 1.5}))
    assert model.params.gain == 1.5 and model.params.flavour == "plain"
    with pytest.raises(InputError, match="gain must be at most 2"):
        build_model(ModelConfig(variant="toy", params={"gain": 3.0}))
    with pytest.raises(InputError, match="flavour must be one of plain, fancy"):
        build_model(ModelConfig(variant="toy", params={"flavour": "odd"}))
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "toy: gain (number, 0-2, default 0.5): how much the toy amplifies" in help_text
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert "toy" in listed and "flavour (one of plain|fancy, default 'plain'): which toy" in listed


@pytest.mark.slow
def test_a_new_variants_knob_appears_on_the_train_page(toy_variant):
    from tests.helpers import app

    at = app("pages/train.py")
    at.selectbox(key="tr_variant").set_value("toy").run()
    assert not at.exception
    gain = at.slider(key="tr_toy_gain")
    assert gain.label == "Toy gain" and gain.value == 0.5 and gain.max == 2.0
    assert at.selectbox(key="tr_toy_flavour").options == ["plain", "fancy"]


def test_each_shipped_variants_knobs_have_help_and_their_defaults_pass_their_own_checks():
    for name in variants():
        params = VARIANTS[name].Params
        for k in knobs(params):
            assert k.help and k.label, (name, k.name)
            k.check(k.default)
        build_model(ModelConfig(variant=name))  # the defaults build


def test_the_sparse_weight_has_one_default_everywhere():
    """It was 0.1 on the Train page and in the zoo but 1e-3 in SparseParams (issue 11)."""
    from ae.models.sparse import SparseParams
    from ae.store.zoo import ZOO

    (default,) = [k.default for k in knobs(SparseParams) if k.name == "weight"]
    zoo_weight = next(e for e in ZOO if e.name == "conv-sparse-16").model["params"]["weight"]
    assert default == SparseParams().weight == zoo_weight == 0.1
