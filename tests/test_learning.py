"""Watch it learn: one aligned map frame per epoch, stored with the model, played back on the Latent space page."""

from __future__ import annotations

import numpy as np
import pytest

from ae.config import TrainConfig
from ae.explore.learning import MapRecorder, align, movement, plane, sample_indices
from ae.registry import build_model
from ae.run.experiment import model_config_for
from ae.store.recording import load_recording
from ae.train import fit


def test_alignment_undoes_a_flip_and_a_rotation():
    codes = np.random.default_rng(0).normal(size=(200, 6)) * [5, 3, 1, 1, 1, 1]
    base = plane(codes)
    turn = np.array([[0.0, -1.0], [1.0, 0.0]]) @ np.diag([1.0, -1.0])  # a rotation after a reflection
    moved = base @ turn
    assert movement(moved, base) > 1.0
    np.testing.assert_allclose(align(moved, base), base, atol=1e-9)
    assert np.sqrt((base**2).sum(1).mean()) == pytest.approx(1.0)  # every frame has unit spread


def test_the_sample_is_seeded_sorted_and_capped():
    assert np.array_equal(sample_indices(1000), sample_indices(1000)) and len(sample_indices(1000)) == 500
    assert np.all(np.diff(sample_indices(1000)) > 0) and len(sample_indices(40)) == 40


def test_one_aligned_frame_per_epoch_moves_less_than_unaligned(mnist5k):
    model = build_model(model_config_for(mnist5k, arch="dense", latent_dim=8, hidden=(64,)), seed=0)
    rec = MapRecorder.for_data(mnist5k, size=300)
    fit(model, mnist5k.x_train[:1500], TrainConfig(epochs=5, batch_size=64), callbacks=[rec])
    frames, index = rec.recording()
    assert frames.shape == (5, 300, 2)
    before = [movement(rec.raw[t], frames[t - 1]) for t in range(1, 5)]
    after = [movement(frames[t], frames[t - 1]) for t in range(1, 5)]
    assert all(a <= b + 1e-9 for a, b in zip(after, before)) and sum(after) < sum(before)
    assert np.array_equal(index, sample_indices(len(mnist5k.x_test), 300))


@pytest.mark.slow
def test_train_and_save_stores_the_recording_beside_the_model(tmp_path):
    from ae.data.sources import load_dataset
    from ae.run.pipeline import preflight, train_and_save

    digits = load_dataset("digits")

    cfg = model_config_for(digits, arch="dense", latent_dim=2, hidden=(32,))
    r = train_and_save(digits, preflight(cfg, TrainConfig(epochs=3), digits), tmp_path, "rec")
    frames, index = load_recording(r.path)
    assert frames.shape == (3, len(digits.x_test), 2) and index.dtype == np.int64
    assert np.array_equal(index, np.arange(len(digits.x_test)))  # 360 test digits: all of them


def test_a_recording_belongs_to_its_weights(tmp_path):
    import shutil

    from ae.store.recording import recording_path, save_recording
    from ae.store.zoo import ZOO_DIR

    for suffix in (".json", ".safetensors"):
        shutil.copy(ZOO_DIR / f"conv-ae-2{suffix}", tmp_path / f"conv-ae-2{suffix}")
    model = tmp_path / "conv-ae-2.json"
    save_recording(model, np.zeros((2, 5, 2)), np.arange(5))
    assert load_recording(model)[0].shape == (2, 5, 2) and recording_path(model).exists()
    w = tmp_path / "conv-ae-2.safetensors"
    w.write_bytes(w.read_bytes()[:-1] + b"x")  # other weights: the recording is not theirs
    assert load_recording(model) is None
