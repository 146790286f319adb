"""Analyses: computed once (by the analysis worker for the app), stored beside the model keyed by the weights' hash
and the data's fingerprint, read by every process; never stale, never half-written."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ae.data.sources import load_dataset
from ae.explore.analyses import MODEL_KINDS, applies, compute, model_kinds, split
from ae.run.analyse import AnalysisQueue, analyse, find, path_for
from ae.store import analyses as store
from ae.store.zoo import ZOO_DIR

ROOT = Path(__file__).resolve().parents[1]


def wait_until(check, timeout: float = 240.0, every: float = 0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        time.sleep(every)
    raise AssertionError("timed out")


def copy_model(name: str, folder: Path, as_name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".json", ".safetensors"):
        shutil.copy(ZOO_DIR / f"{name}{suffix}", folder / f"{as_name}{suffix}")
    return folder / f"{as_name}.json"


@pytest.mark.slow
def test_every_kind_computes_what_its_page_reads(mnist5k):
    from ae.store.checkpoints import load_model

    model, _ = load_model(ZOO_DIR / "conv-ae-2.json")
    seen = []
    recon = compute("recon", model, mnist5k, lambda f, text: seen.append((f, text)))
    assert set(recon.arrays) == {"mse", "bce", "psnr", "ssim"} and recon.arrays["mse"].shape == (1000,)
    assert seen[0][0] == 0.0 and seen[-1] == (1.0, "done")  # the page hears it start and end
    maps = compute("maps", model, mnist5k)
    assert maps.arrays["codes"].shape == (1000, 2) and maps.info["fitted"]["tsne"] == 1000
    denoise = compute("denoise", model, mnist5k)
    gaussian = denoise.arrays["gaussian"]
    assert gaussian.shape == (17, 5) and gaussian[0, 0] == 0 and gaussian[-1, 0] == pytest.approx(0.8)
    assert np.all(np.diff(gaussian[:, 1]) < 0)  # more noise, lower PSNR of the noisy input
    with pytest.raises(ValueError, match="needs a model"):
        compute("maps", None, mnist5k)
    with pytest.raises(ValueError, match="unknown analysis"):
        split("nonsense")
    assert split("oneclass-3")[1] == "3" and not split("oneclass-3")[0].per_model


def test_what_applies_to_tables_and_unlabelled_data(mnist5k):
    import dataclasses

    assert model_kinds(mnist5k) == list(MODEL_KINDS)
    table = dataclasses.replace(mnist5k, x_train=torch.zeros(10, 5), x_test=torch.zeros(4, 5), kind="tabular")
    assert model_kinds(table) == ["recon", "maps", "probes"]
    bare = dataclasses.replace(mnist5k, y_train=None, y_test=None)
    assert not applies("probes", bare) and not applies("oneclass-0", bare) and applies("maps", bare)


def test_a_stored_analysis_is_stale_for_other_weights_other_data_or_another_version(mnist5k, tmp_path):
    model = copy_model("conv-ae-2", tmp_path, "mine")
    analyse("recon", model, mnist5k)
    path = path_for("recon", model, mnist5k)
    assert path.parent.name == "mine.analyses" and find("recon", model, mnist5k) is not None
    assert store.read(path, store.weights_sha256(model), mnist5k.fingerprint, version=2) is None  # kind changed
    other = load_dataset("mnist-5k")
    other.x_test = other.x_test.clone()
    other.x_test[0, 0, 0, 0] += 1  # one pixel of other data: another fingerprint, so nothing is found
    assert other.fingerprint != mnist5k.fingerprint and find("recon", model, other) is None
    weights = model.with_suffix(".safetensors")
    time.sleep(0.01)
    weights.write_bytes(weights.read_bytes()[:-1] + b" ")  # retrained, say: the old errors are not these weights'
    assert find("recon", model, mnist5k) is None


def test_the_zoo_dataset_analyses_are_found_and_a_users_folder_comes_second(mnist5k, models_dir):
    found = find("oneclass-3", None, mnist5k)
    assert found is not None and found.info["normal"] == 3 and 0.5 < found.info["auroc"] <= 1
    from ae.explore.anomaly import rebuild_one_class, scores

    model = rebuild_one_class(found)  # the stored float16 weights give back the stored scores
    np.testing.assert_allclose(scores(model, mnist5k.x_test), found.arrays["scores"], rtol=1e-4, atol=1e-6)
    assert path_for("oneclass-3", None, mnist5k).is_relative_to(models_dir)  # new ones go to the user's folder


@pytest.fixture(scope="module")
def cluster():
    from ae.run.jobs import JobQueue

    q = JobQueue(poll_s=0.2, warm_up=False)
    assert q.wait_ready(120) and q.error is None, q.error
    yield q
    q.close()


def dask_queue(cluster) -> AnalysisQueue:
    queue = AnalysisQueue(lambda t: cluster.client if cluster.wait_ready(t) else None, lambda: cluster.error)
    queue.inline = False  # the real thing: the analysis worker of the cluster
    return queue


@pytest.mark.slow
def test_a_worker_computes_it_once_and_a_second_app_process_reads_it_without_computing(cluster, mnist5k, tmp_path,
                                                                                     monkeypatch):
    model = copy_model("conv-ae-16", tmp_path / "models", "shared")
    first, second = dask_queue(cluster), dask_queue(cluster)
    a = first.request("recon", model, mnist5k, "recon")
    assert first.request("recon", model, mnist5k, "recon") is a  # two sessions of one process: one request
    b = second.request("recon", model, mnist5k, "recon")  # another process asking at the same time: one task
    wait_until(lambda: a.state == "done" and b.state == "done", timeout=120)
    starts = [e for _, e in cluster.client.get_events("latent-lab-analysis") if e.get("key", "").endswith(a.task)
              and e.get("fraction") == 0.0]
    assert len(starts) == 1, starts  # the worker computed it once
    assert a.path.exists() and not list(a.path.parent.glob(".*.tmp"))
    # a second app process (a real one) opens the page: it finds the file and asks for nothing
    monkeypatch.setenv("LATENT_LAB_MODELS", str(tmp_path / "models"))
    code = ("import os, sys; from tests.helpers import app; "
            "at = app('pages/reconstructions.py', model='yours/shared'); "
            "from ui.analysis import analysis_queue; "
            "print('requests', len(analysis_queue().pending), 'mse', at.metric[0].value)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "LATENT_LAB_ANALYSIS_INLINE": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    stored = find("recon", model, mnist5k).arrays["mse"].mean()
    assert f"requests 0 mse {stored:.4f}" in out.stdout, out.stdout


@pytest.mark.slow
def test_a_killed_analysis_worker_leaves_no_file_and_says_so(cluster, mnist5k, tmp_path):
    model = copy_model("conv-ae-16", tmp_path, "doomed")
    queue = dask_queue(cluster)
    p = queue.request("maps", model, mnist5k, "maps")
    wait_until(lambda: p.state == "running", timeout=120, every=0.05)
    workers = cluster.client.scheduler_info(n_workers=-1)["workers"]
    analysis = [a for a, w in workers.items() if w.get("resources", {}).get("analysis")]
    for pid in cluster.client.run(os.getpid, workers=analysis).values():
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: p.state == "failed", timeout=60)
    assert "stopped (killed or out of memory); nothing was saved" in p.error
    folder = tmp_path / "doomed.analyses"
    assert not folder.exists() or list(folder.iterdir()) == []  # nothing half-written
    wait_until(lambda: any(w.get("resources", {}).get("analysis")
                           for w in cluster.client.scheduler_info(n_workers=-1)["workers"].values()), timeout=90)
    queue.forget(p.task)  # the page's Try again
    again = queue.request("recon", model, mnist5k, "recon")
    wait_until(lambda: again.state in ("done", "failed"), timeout=120)
    assert again.state == "done", again.error


def test_a_failed_analysis_shows_its_reason_and_a_retry_on_the_page(models_dir, monkeypatch):
    from tests.helpers import app
    from ui.analysis import analysis_queue

    copy_model("conv-ae-2", models_dir, "broken")
    queue = analysis_queue()
    real = queue._run_here

    def fail(p, args):
        queue._fail(p, "the worker computing it stopped (killed or out of memory); nothing was saved")

    monkeypatch.setattr(queue, "_run_here", fail)
    at = app(model="yours/broken")
    at.switch_page("pages/reconstructions.py").run()
    time.sleep(0.5)
    at.run()
    assert any("could not be computed" in e.value and "nothing was saved" in e.value for e in at.error), at.error
    retry = [b for b in at.button if b.key and b.key.startswith("retry_")]
    assert retry and not at.exception
    monkeypatch.setattr(queue, "_run_here", real)
    retry[0].click().run()
    from tests.helpers import settle

    settle(at)
    assert not at.error and at.metric[0].label == "Test MSE"


@pytest.mark.slow
def test_a_one_off_call_runs_on_the_analysis_worker_and_brings_its_errors_back(cluster, mnist5k):
    """What an ONNX import's measurement uses: the web process waits, the analysis worker computes."""
    from types import SimpleNamespace

    from distributed import get_task_stream

    from ae.errors import InputError
    from ae.store.checkpoints import load_model

    queue = dask_queue(cluster)
    model, _ = load_model(ZOO_DIR / "conv-ae-2.json")
    with get_task_stream(client=cluster.client) as ts:
        result = queue.call(compute, data=mnist5k, key="speed", model=model)
    assert result.kind == "speed" and result.info["ms"] > 0
    assert [t for t in ts.data if str(t["key"]).startswith("run_call")], ts.data  # a task, not this process
    with pytest.raises(InputError, match="imported model's design is a graph"):
        queue.call(compute, data=mnist5k, key="detector-0", model=SimpleNamespace(cfg=SimpleNamespace(arch="onnx")))
