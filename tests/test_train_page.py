"""The Train page and its library parts: background jobs, stop, names, uploads, tabular data, export and import."""

from __future__ import annotations

import io
import re
import time
import zipfile

import numpy as np
import pytest
import torch

from ae.config import ModelConfig, check_fits
from ae.data.sources import load_dataset
from ae.data.userdata import load_zip
from ae.store.checkpoints import load_model, reserve_name
from ae.store.export import import_model_zip, model_zip
from tests.helpers import app

pytestmark = pytest.mark.slow



def wait_for(at, done, timeout: float = 180):
    """Rerun the app until done(at) holds (the Train page's fragment would do this every second in a browser)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        at.run()
        assert not at.exception, at.exception
        if done(at):
            return at
        time.sleep(0.5)
    raise AssertionError("timed out waiting for the training job")


def start(at, name: str, epochs: int, sizes: str = "8,16"):
    at.number_input(key="tr_epochs").set_value(epochs)
    at.text_input(key="tr_sizes").set_value(sizes)
    at.text_input(key="tr_name").set_value(name)
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]


def test_a_short_training_run_ends_in_every_picker(models_dir):
    at = app("pages/train.py", dataset="digits")  # 8x8 digits: the job's path is under test, not what it learns
    start(at, "quick-one", epochs=2)
    wait_for(at, lambda a: any("saved after" in s.value for s in a.success))
    assert "saved after 2 epochs on CPU" in at.success[0].value or "saved after 2 epochs on GPU" in at.success[0].value
    assert (models_dir / "quick-one.safetensors").exists() and (models_dir / "quick-one.recording.safetensors").exists()
    assert len(list((models_dir / "quick-one.analyses").iterdir())) == 5  # what every page reads, made with the model
    model, meta = load_model(models_dir / "quick-one.json")
    assert meta["epochs_run"] == 2 and meta["metrics"]["mse"] > 0 and model.cfg.channels == (8, 16)
    at.selectbox(key="dataset_picker").set_value("mnist-5k").run()  # the student looked at other data meanwhile
    at.button(key="train_use").click().run()
    assert at.session_state["dataset"] == "digits"  # the model comes with the data it was trained on
    at.switch_page("pages/latent_space.py").run()
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    assert "**quick-one**" in at.caption[0].value  # the new model is the one the pages now use
    assert any("test images after every epoch of training" in c.value for c in at.caption)  # its recording plays


def test_stop_keeps_the_best_weights_so_far(models_dir):
    at = app("pages/train.py", dataset="digits")
    start(at, "stopped-one", epochs=300)
    wait_for(at, lambda a: any(p.value > 0 for p in a.get("progress")), timeout=120)
    wait_for(at, lambda a: any(c.value.startswith("The map of 360 test codes after epoch") for c in a.caption))
    at.button(key="train_stop").click().run()
    wait_for(at, lambda a: bool(a.success))
    assert "stopped early" in at.success[0].value
    model, meta = load_model(models_dir / "stopped-one.json")
    assert meta["stopped_early"] and 1 <= meta["epochs_run"] < 300
    # the weights saved are the best epoch's: their validation loss is the lowest in the history
    from ae.train import _run_epoch, split_validation

    _, x_val = split_validation(load_dataset("digits").x_train, meta["train"]["val_fraction"], meta["train"]["seed"])
    saved, _ = _run_epoch(model, x_val, 512, None, None, lambda: False)
    best = min(row["val_loss"] for row in meta["history"])
    assert saved["loss"] == pytest.approx(best, rel=1e-4)


def test_a_taken_or_unsafe_name_and_a_bad_upload_get_messages(models_dir):
    at = app("pages/train.py")
    start_fail = at
    start_fail.text_input(key="tr_name").set_value("../evil")
    start_fail.button(key="train_start").click().run()
    assert "is not allowed" in at.error[0].value
    at.text_input(key="tr_name").set_value("conv-ae-16")
    models_dir.mkdir(parents=True, exist_ok=True)
    for suffix in (".json", ".safetensors"):
        (models_dir / f"conv-ae-16{suffix}").write_bytes(b"{}")
    at.button(key="train_start").click().run()
    assert "already exists; choose another name" in at.error[0].value
    at.file_uploader(key="data_upload").set_value(("broken.npz", b"not a zip at all", "application/octet-stream"))
    at.run()
    assert not at.exception
    assert any("broken.npz cannot be used" in e.value and "not an .npz archive" in e.value for e in at.error)


def test_a_csv_becomes_a_tabular_dataset_that_trains_and_shows_as_tables(models_dir):
    rng = np.random.default_rng(0)
    rows = ["a,b,c,d,kind"] + [",".join(f"{v:.3f}" for v in rng.normal(size=4) + 3 * (i % 2)) + f",{'xy'[i % 2]}"
                               for i in range(300)]
    at = app("pages/train.py")
    at.text_input(key="data_label").set_value("kind")
    at.file_uploader(key="data_upload").set_value(("points.csv", "\n".join(rows).encode(), "text/csv")).run()
    assert not at.exception
    assert "points**: 240 train / 60 test samples of shape [4], 2 classes" in at.success[0].value
    at.button(key="data_use").click().run()
    assert re.fullmatch(r"points \(upload [0-9a-f]{6}\)", at.session_state["dataset"])
    assert at.selectbox(key="tr_arch").options == ["dense"]
    start(at, "tab-model", epochs=3, sizes="16")
    wait_for(at, lambda a: any("saved after" in s.value for s in a.success))
    at.button(key="train_use").click().run()
    for page in ("pages/reconstructions.py", "pages/latent_space.py", "pages/anomalies.py", "pages/compare.py"):
        at.switch_page(page).run()
        assert not at.exception, page
        assert not at.warning, (page, [w.value for w in at.warning])
    at.switch_page("pages/reconstructions.py").run()
    table = at.dataframe[0].value
    assert {"a", "a →", "MSE", "label"} <= set(table.columns)


def test_two_sessions_train_at_once_and_keep_their_own_models(models_dir):
    one, two = app("pages/train.py", dataset="digits"), app("pages/train.py", dataset="digits")
    start(one, "first-job", epochs=3, sizes="8,16")
    two.selectbox(key="tr_arch").set_value("dense").run()
    start(two, "second-job", epochs=3, sizes="64")
    wait_for(one, lambda a: bool(a.success))
    wait_for(two, lambda a: bool(a.success))
    m1, meta1 = load_model(models_dir / "first-job.json")
    m2, meta2 = load_model(models_dir / "second-job.json")
    assert m1.cfg.arch == "conv" and m2.cfg.arch == "dense" and m2.cfg.hidden == (64,)
    data = load_dataset("digits")
    from ae.explore.metrics import evaluate

    for m, meta in ((m1, meta1), (m2, meta2)):
        assert evaluate(m, data.x_test)["mse"] == pytest.approx(meta["metrics"]["mse"], rel=1e-5)


def test_job_refuses_bad_settings_before_starting(tmp_path):
    data = load_dataset("digits")
    cfg = ModelConfig(arch="dense", input_shape=(1, 28, 28), hidden=(8,))
    with pytest.raises(ValueError, match="This model reads 28x28 grey images, but digits holds 8x8 grey images"):
        check_fits(cfg.input_shape, data.input_shape, data.name)
    with pytest.raises(ValueError, match="is not allowed"):
        reserve_name(tmp_path, "a/b")
    marker = reserve_name(tmp_path, "mine")
    with pytest.raises(FileExistsError, match="being trained already"):
        reserve_name(tmp_path, "mine")
    marker.write_text("0therh0st-1")  # another machine's claim is trusted; a dead local process's is not
    with pytest.raises(FileExistsError):
        reserve_name(tmp_path, "mine")
    from ae.files import host

    marker.write_text(f"{host()}-999999999")
    assert reserve_name(tmp_path, "mine") == marker


def test_model_zip_round_trip_and_bad_zips(tmp_path):
    data = model_zip("pretrained/conv-ae-2.json")
    name = import_model_zip(data, tmp_path)
    assert name == "conv-ae-2" and (tmp_path / "conv-ae-2.safetensors").exists()
    a, _ = load_model("pretrained/conv-ae-2.json")
    b, _ = load_model(tmp_path / "conv-ae-2.json")
    x = torch.rand(3, 1, 28, 28)
    assert torch.equal(a.reconstruct(x), b.reconstruct(x))
    with pytest.raises(FileExistsError, match="already exists"):
        import_model_zip(data, tmp_path)
    with pytest.raises(ValueError, match="not a zip"):
        import_model_zip(b"hello", tmp_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("m.json", '{"format_version": 1, "name": "m", "model": {}}')
        z.writestr("m.safetensors", b"garbage")
    with pytest.raises(ValueError, match="cannot be loaded"):
        import_model_zip(buf.getvalue(), tmp_path / "other")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("weights.pt", b"\x80\x04pickle")
    with pytest.raises(ValueError, match="exactly NAME.json and NAME.safetensors"):
        import_model_zip(buf.getvalue(), tmp_path)


def test_image_zip_datasets_and_unsafe_paths(tmp_path):
    from PIL import Image

    path = tmp_path / "shapes.zip"
    with zipfile.ZipFile(path, "w") as z:
        for cls in ("circle", "square"):
            for i in range(4):
                b = io.BytesIO()
                Image.new("L", (12, 12), 60 * i).save(b, format="PNG")
                z.writestr(f"shapes/{cls}/{i}.png", b.getvalue())
    ds = load_zip(path)
    assert ds.class_names == ["circle", "square"] and ds.input_shape == (1, 12, 12)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../../escape.png", b"x")
    with pytest.raises(ValueError, match="unsafe path"):
        load_zip(evil)
    assert not (tmp_path.parent / "escape.png").exists()
