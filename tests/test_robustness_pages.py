"""The robustness corpus through the pages (AppTest): each file uploaded where a user would upload it gives its
message or its result and never an exception; a poisoned model in the folder and tiny datasets leave every page
standing."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from tests.corpus import CASES, DATASET, MODEL, PICTURE, Case
from tests.helpers import app
from tests.test_robustness import made

pytestmark = pytest.mark.slow

PAGES = sorted(str(p.relative_to(Path(__file__).resolve().parents[1]))
               for p in (Path(__file__).resolve().parents[1] / "pages").glob("*.py"))
UPLOADER = {DATASET: ("pages/train.py", "data_upload"), MODEL: ("pages/train.py", "io_model_upload"),
            PICTURE: ("pages/reconstructions.py", "rec_upload")}



def texts(at, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus_through_the_page_uploaders(case: Case, models_dir):
    page, key = UPLOADER[case.kind]
    at = app(page)
    name, data = made(case.id)
    at.file_uploader(key=key).set_value((name, data, "application/octet-stream")).run()
    assert not at.exception, at.exception
    errors = texts(at, "error")
    if case.error:
        assert any(re.search(case.error, e) for e in errors), errors
        assert any(name in e for e in errors), errors  # the message names the file
        if case.kind == MODEL:
            assert not models_dir.exists() or list(models_dir.glob("*.json")) == []
    else:
        assert not errors, errors
        if case.kind == DATASET:
            assert any("train /" in s for s in texts(at, "success")), texts(at, "success")


def test_a_poisoned_model_in_the_folder_leaves_every_page_standing(models_dir):
    """A model JSON that passed an older import (metrics as text) costs its own row a warning, never a page."""
    models_dir.mkdir(parents=True)
    with zipfile.ZipFile(io.BytesIO(made("model-metric-string")[1])) as z:
        z.extractall(models_dir)
    for page in PAGES:
        at = app()
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
    at = app(model="yours/metricstr")
    at.switch_page("pages/reconstructions.py").run()
    assert not at.exception
    assert any("metricstr cannot be loaded" in e and "must be a number" in e for e in texts(at, "error"))


def small_model(data, folder: Path) -> str:
    """A tiny model of the dataset's shape, saved as a user's model trained on it (no maps: pages compute them)."""
    from ae.config import TrainConfig
    from ae.registry import build_model
    from ae.run.experiment import model_config_for
    from ae.run.pipeline import dataset_record
    from ae.store.checkpoints import save_model
    from ae.train import fit

    cfg = model_config_for(data, arch="dense", variant="vae", latent_dim=2, hidden=(16,))
    model = build_model(cfg, seed=0)
    fit(model, data.x_train, TrainConfig(epochs=2, batch_size=8))
    save_model(model, folder, "tiny", {"dataset": dataset_record(data), "metrics": {"mse": 0.1}})
    return "yours/tiny"


@pytest.mark.parametrize("case_id", ["npz-three-samples", "npz-rare-first-class", "npz-one-class",
                                     "csv-semicolon-decimal-comma"])
def test_tiny_and_one_class_datasets_leave_every_page_standing(case_id, models_dir):
    at = app("pages/train.py")
    name, data = made(case_id)
    at.file_uploader(key="data_upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception and not at.error, texts(at, "error")
    (ds,) = at.session_state["my_uploads"].values()  # the session's datasets live in its state
    at.session_state["dataset"] = ds.name  # what "Use this dataset" does (AppTest cannot click through format_func)
    key = small_model(ds, models_dir)
    from ui.cache import catalog

    catalog.clear()
    at.session_state["model"] = key
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)


def test_two_sessions_asking_for_one_name_get_one_run_and_one_refusal_at_start(models_dir):
    from tests.test_train_page import start, wait_for

    one, two = app("pages/train.py", dataset="digits"), app("pages/train.py", dataset="digits")
    start(one, "same-name", epochs=300)
    two.number_input(key="tr_epochs").set_value(2)
    two.text_input(key="tr_name").set_value("same-name")
    two.button(key="train_start").click().run()
    assert not two.exception
    assert any("is being trained already; choose another name" in e.value for e in two.error), texts(two, "error")
    wait_for(one, lambda a: any(p.value > 0 for p in a.get("progress")), timeout=120)
    one.button(key="train_stop").click().run()
    wait_for(one, lambda a: bool(a.success))
    assert (models_dir / "same-name.json").exists()
    two.text_input(key="tr_name").set_value("same-name").run()
    two.button(key="train_start").click().run()
    assert any("already exists" in e.value for e in two.error), texts(two, "error")


def test_a_model_that_cannot_be_built_is_refused_at_start_and_the_form_stays(models_dir):
    """Issue 10's hang: digits (8x8) with four stride-2 conv layers. Refused at once, in words; training still works."""
    at = app("pages/train.py", dataset="digits")
    at.text_input(key="tr_sizes").set_value("16,32,64,128")
    at.text_input(key="tr_name").set_value("too-deep")
    at.button(key="train_start").click().run()
    assert not at.exception
    assert any("too small for 4 stride-2 conv layers" in e.value for e in at.error), texts(at, "error")
    assert not at.get("progress")  # no job was queued
    at.text_input(key="tr_sizes").set_value("8").run()
    at.button(key="train_start").click().run()
    assert not at.error, texts(at, "error")
    from ui.cache import job_queue

    mine = [j for j in job_queue().jobs.values() if j.name == "too-deep"]
    assert len(mine) == 1
    job_queue().stop(mine[0])  # it has shown what it had to; leave the worker to the other tests


def test_an_upload_is_decoded_once_shared_by_name_and_freed_with_its_sessions(models_dir):
    import gc

    from tests.corpus import digits, npz
    from ui.uploads import _pool

    x, y = digits(200)
    data = npz(x=x, y=y)
    sessions = []
    for name in ("a.npz", "b.npz", "c.npz"):
        at = app("pages/train.py")
        at.file_uploader(key="data_upload").set_value((name, data, "application/octet-stream")).run()
        assert not at.exception and at.success, texts(at, "error")
        sessions.append(at)
    loaded = [next(iter(at.session_state["my_uploads"].values())) for at in sessions]
    assert len({d.name for d in loaded}) == 3  # each upload keeps its own name...
    assert len({d.x_train.data_ptr() for d in loaded}) == 1  # ...and all three share one decoded copy
    assert len(_pool()) == 1
    del loaded
    for at in sessions:  # what Streamlit drops when a tab closes: the session's state
        for key in ("my_uploads", "_upload_bases"):
            del at.session_state[key]
        gc.collect()
        assert len(_pool()) == (0 if at is sessions[-1] else 1)  # held while any session holds it
