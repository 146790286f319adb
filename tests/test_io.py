"""Checkpoints: round trip, validation, atomic writes, safe names, no pickle."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ae.config import ModelConfig
from ae.registry import build_model
from ae.store.checkpoints import CheckpointError, check_name, list_models, load_model, save_model


@pytest.fixture
def model():
    return build_model(ModelConfig(arch="conv", variant="vae", input_shape=(1, 8, 8), latent_dim=2, channels=(4, 8)))


def test_round_trip_keeps_weights_and_metadata(model, tmp_path):
    path = save_model(model, tmp_path, "tiny", {"metrics": {"mse": torch.tensor(0.5)}, "dataset": {"name": "digits"}})
    assert path == tmp_path / "tiny.json"
    loaded, meta = load_model(tmp_path / "tiny.safetensors")
    assert meta["metrics"]["mse"] == 0.5 and meta["format_version"] == 1 and meta["parameters"] > 0
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    assert not loaded.training


def test_float16_halves_the_file_and_loads_as_float32(model, tmp_path):
    save_model(model, tmp_path, "f32")
    save_model(model, tmp_path, "f16", dtype=torch.float16)
    s32, s16 = (tmp_path / "f32.safetensors").stat().st_size, (tmp_path / "f16.safetensors").stat().st_size
    assert s16 < 0.6 * s32
    loaded, meta = load_model(tmp_path / "f16.json")
    assert meta["weights_dtype"] == "float16"
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    x = torch.rand(4, 1, 8, 8)
    assert torch.allclose(loaded.reconstruct(x), model.reconstruct(x), atol=2e-3)


def test_existing_name_is_not_overwritten_without_asking(model, tmp_path):
    save_model(model, tmp_path, "m")
    with pytest.raises(FileExistsError, match="already exists"):
        save_model(model, tmp_path, "m")
    save_model(model, tmp_path, "m", overwrite=True)


@pytest.mark.parametrize("name", ["../escape", "/etc/passwd", ".hidden", "a/b", "", "x" * 65, "a..b", "名前"])
def test_unsafe_names_are_refused(model, tmp_path, name):
    with pytest.raises(ValueError, match="is not allowed"):
        save_model(model, tmp_path, name)
    assert not any(tmp_path.parent.glob("escape*"))


def test_good_names_pass():
    assert check_name("conv-vae_16.v2") == "conv-vae_16.v2"


def test_truncated_weights_give_a_clear_error(model, tmp_path):
    save_model(model, tmp_path, "m")
    w = tmp_path / "m.safetensors"
    w.write_bytes(w.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        load_model(tmp_path / "m.json")


def test_garbage_weights_and_json_give_clear_errors(model, tmp_path):
    save_model(model, tmp_path, "m")
    (tmp_path / "m.safetensors").write_bytes(b"\x80\x04not a safetensors file at all")
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        load_model(tmp_path / "m.json")
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_model(tmp_path / "m.json")
    (tmp_path / "m.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="not a Latent Lab model config"):
        load_model(tmp_path / "m.json")


def test_config_and_weights_that_disagree(model, tmp_path):
    save_model(model, tmp_path, "m")
    doc = json.loads((tmp_path / "m.json").read_text())
    doc["model"]["latent_dim"] = 3
    (tmp_path / "m.json").write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="does not match its config"):
        load_model(tmp_path / "m.json")
    doc["model"]["latent_dim"] = 2
    doc["model"]["colour"] = "red"
    (tmp_path / "m.json").write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="unknown ModelConfig keys: colour"):
        load_model(tmp_path / "m.json")
    doc["model"].pop("colour")
    doc["format_version"] = 99
    (tmp_path / "m.json").write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="format version 99"):
        load_model(tmp_path / "m.json")


def test_missing_weights_and_pickles_are_refused(model, tmp_path):
    save_model(model, tmp_path, "m")
    (tmp_path / "m.safetensors").unlink()
    with pytest.raises(CheckpointError, match="m.safetensors is missing"):
        load_model(tmp_path / "m.json")
    torch.save(model.state_dict(), tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="nothing else loads"):
        load_model(tmp_path / "evil.pt")


def test_a_crash_while_saving_leaves_no_partial_files(model, tmp_path, monkeypatch):
    import ae.store.checkpoints

    def boom(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(ae.store.checkpoints, "save_file", boom)
    with pytest.raises(KeyboardInterrupt):
        save_model(model, tmp_path, "m")
    assert list(tmp_path.iterdir()) == []


def test_list_models_reports_broken_ones(model, tmp_path):
    save_model(model, tmp_path, "good")
    save_model(model, tmp_path, "bad")
    (tmp_path / "bad.json").write_text("{")
    found = {m["name"]: m for m in list_models(tmp_path)}
    assert "error" not in found["good"] and "not valid JSON" in found["bad"]["error"]


def test_tile_lays_images_out_exactly_as_torchvision_make_grid():
    """Our numpy layout keeps torchvision (and torch._dynamo, 1.5 s) out of the web process; the layout is theirs."""
    from torchvision.utils import make_grid

    from ae.explore.imagegrid import grid

    rng = np.random.default_rng(0)
    for shape, nrow, pad in [((7, 1, 5, 4), 3, 1), ((4, 3, 6, 6), 8, 2), ((1, 1, 3, 3), 1, 0), ((10, 1, 28, 28), 4, 1)]:
        x = rng.random(shape).astype(np.float32)
        expected = make_grid(torch.from_numpy(x), nrow=nrow, padding=pad, pad_value=0.3).numpy()
        np.testing.assert_array_equal(grid(x, nrow, pad, 0.3), expected)
