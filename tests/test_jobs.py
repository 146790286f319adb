"""Training jobs on a local Dask cluster: fair queue, Stop, a killed worker, an unreachable scheduler, and one
pipeline behind the CLI, the zoo and the Train page."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ae.config import TrainConfig
from ae.explore.analyses import model_kinds
from ae.run.cluster import ClusterUnavailable, connect
from ae.run.experiment import model_config_for
from ae.run.jobs import JobQueue, QueueFull, estimate_wait
from ae.train import Callback, fit

SMALL = dict(arch="conv", variant="vanilla", latent_dim=4, channels=(4, 8))


def wait_until(check, timeout: float = 240.0, every: float = 0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        time.sleep(every)
    raise AssertionError("timed out")


@pytest.fixture(scope="module")
def queue():
    q = JobQueue(poll_s=0.2, warm_up=False)
    assert q.wait_ready(120) and q.error is None, q.error
    yield q
    q.close()


def test_a_stop_request_ends_training_after_the_current_batch(mnist5k):
    """fit asks should_stop() after every batch: the step that sees the request is the last one."""
    model_cfg = model_config_for(mnist5k, **SMALL)
    from ae.registry import build_model

    model = build_model(model_cfg, seed=0)
    steps = []
    model.register_forward_hook(lambda m, i, o: steps.append(1) if m.training else None)

    class StopAt(Callback):
        def should_stop(self) -> bool:
            return len(steps) >= 5

    history = fit(model, mnist5k.x_train, TrainConfig(epochs=3, batch_size=64), callbacks=[StopAt()])
    assert len(steps) == 5 and len(history) == 1


def test_the_wait_estimate_gives_each_job_the_first_free_worker():
    assert estimate_wait([], [], 1) == 0
    assert estimate_wait([], [30.0], 1) == 30
    assert estimate_wait([10.0], [30.0], 1) == 40
    assert estimate_wait([10.0, 10.0], [30.0, 5.0], 2) == 25  # the worker free at 5 s takes both jobs ahead


def test_an_unreachable_scheduler_gives_a_clear_message():
    with pytest.raises(ClusterUnavailable, match="tcp://127.0.0.1:9 cannot be reached"):
        connect("tcp://127.0.0.1:9", timeout=1)
    q = JobQueue(connect=lambda: connect("tcp://127.0.0.1:9", timeout=1), warm_up=False)
    assert q.wait_ready(30)
    assert "cannot be reached" in q.error
    with pytest.raises(RuntimeError, match="cannot be reached"):
        q.submit("me", "x", None, None, None, "unused")


@pytest.mark.slow
def test_jobs_start_in_submission_order_one_queued_per_session(queue, digits, tmp_path):
    """On the 8x8 digits: the order is under test, not the training (each job still ends with its analyses)."""
    cfg = model_config_for(digits, **SMALL)
    a = queue.submit("ann", "a1", digits, cfg, TrainConfig(epochs=3), tmp_path)
    with pytest.raises(QueueFull):  # a1 has not started: it is ann's one queued job
        queue.submit("ann", "a0", digits, cfg, TrainConfig(epochs=1), tmp_path)
    wait_until(lambda: a.state().running)
    b = queue.submit("bob", "b1", digits, cfg, TrainConfig(epochs=1), tmp_path, by="Bob")  # for the class board
    c = queue.submit("cid", "c1", digits, cfg, TrainConfig(epochs=1), tmp_path)
    a2 = queue.submit("ann", "a2", digits, cfg, TrainConfig(epochs=1), tmp_path)  # one running + one queued
    with pytest.raises(QueueFull):
        queue.submit("ann", "a3", digits, cfg, TrainConfig(epochs=1), tmp_path)
    with pytest.raises(FileExistsError, match="being trained already"):
        queue.submit("dan", "b1", digits, cfg, TrainConfig(epochs=1), tmp_path)
    wait_until(lambda: (b.state().position, c.state().position, a2.state().position) == (1, 2, 3))
    started = {}

    def all_done() -> bool:
        for j in (a, b, c, a2):
            s = j.state()
            if (s.running or s.finished) and j.name not in started:
                started[j.name] = time.time()
        return all(j.state().finished for j in (a, b, c, a2))

    wait_until(all_done, timeout=400, every=0.05)
    assert sorted(started, key=started.get) == ["a1", "b1", "c1", "a2"]
    assert all(j.state().status == "done" for j in (a, b, c, a2)), [j.state().message for j in (a, b, c, a2)]
    assert {p.name for p in tmp_path.iterdir() if p.name.startswith("b1")} == {
        "b1.json", "b1.safetensors", "b1.recording.safetensors", "b1.analyses"}
    assert not list(tmp_path.glob(".*reserved"))
    credits = {n: json.loads((tmp_path / f"{n}.json").read_text()).get("trained_by") for n in ("b1", "c1")}
    assert credits == {"b1": "Bob", "c1": None}


@pytest.mark.slow
def test_stop_saves_the_best_weights_so_far(queue, digits, tmp_path):
    from ae.store.checkpoints import load_model
    from ae.train import _run_epoch, split_validation

    cfg = model_config_for(digits, **SMALL)
    job = queue.submit("eve", "stopped", digits, cfg, TrainConfig(epochs=300), tmp_path)
    wait_until(lambda: job.state().epoch >= 3)
    queue.stop(job)
    wait_until(lambda: job.state().finished)
    s = job.state()
    assert s.status == "stopped", s.message
    model, meta = load_model(tmp_path / "stopped.json")
    assert meta["stopped_early"] and 3 <= meta["epochs_run"] < 300
    _, x_val = split_validation(digits.x_train, 0.1, 0)
    val, _ = _run_epoch(model, x_val, 512, None, None, lambda: False)
    best = min(r["val_loss"] for r in meta["history"])
    assert val["loss"] == pytest.approx(best, rel=1e-4)  # the best epoch's weights, not the last one's


@pytest.mark.slow
def test_cli_zoo_and_train_page_write_the_same_files(queue, digits, tmp_path):
    from ae.__main__ import main
    from ae.run.zoo import build_entry
    from ae.store.zoo import ZooEntry

    cli, zoo, page = tmp_path / "cli", tmp_path / "zoo", tmp_path / "page"
    assert main(["train", "--dataset", "digits", "--arch", "conv", "--latent", "4", "--channels", "4", "8",
                 "--epochs", "2", "--name", "same", "--out", str(cli)]) == 0
    build_entry(ZooEntry("same", SMALL, 2, "zoo copy"), digits, zoo, log=lambda _: None)
    cfg = model_config_for(digits, **SMALL)
    job = queue.submit("fay", "same", digits, cfg, TrainConfig(epochs=2), page)
    wait_until(lambda: job.state().finished)
    assert job.state().status == "done", job.state().message
    names = {"same.json", "same.safetensors", "same.recording.safetensors", "same.analyses"}
    metas = {}
    for folder in (cli, zoo, page):
        assert {p.name for p in folder.iterdir()} == names, folder
        metas[folder.name] = json.loads((folder / "same.json").read_text())
        recording = load_file(folder / "same.recording.safetensors")
        assert recording["learning"].shape == (2, 360, 2)  # the recording: a frame per epoch, from every entry point
        analyses = sorted(p.name.split("-")[0] for p in (folder / "same.analyses").iterdir())
        assert analyses == sorted(model_kinds(digits)), folder  # every analysis a page reads, from every entry
    assert metas["cli"]["model"] == metas["zoo"]["model"] == metas["page"]["model"]
    assert set(metas["cli"]) == set(metas["page"]) == set(metas["zoo"]) - {"fp32_metrics"}
    a, b = load_file(cli / "same.safetensors"), load_file(page / "same.safetensors")
    assert all(torch.allclose(a[k], b[k], atol=1e-4) for k in a)  # same seed, another process and thread count
    assert metas["page"]["metrics"]["mse"] == pytest.approx(metas["cli"]["metrics"]["mse"], rel=1e-3)


@pytest.mark.slow
def test_the_cluster_keeps_no_dashboard_housekeeping_and_never_retries_a_job(queue):
    """cluster.DASK_ENV reaches every process: no profiler and a 1 s tick on the workers (an idle cluster took 14% of
    a core with Dask's defaults), no work stealing and no second try of a job on the scheduler."""
    import dask

    def workers_config():
        return dask.config.get("distributed.worker.profile.enabled"), dask.config.get("distributed.admin.tick.interval")

    def scheduler_config():
        return (dask.config.get("distributed.scheduler.work-stealing"),
                dask.config.get("distributed.scheduler.allowed-failures"))

    wait_until(lambda: len(queue.client.scheduler_info(n_workers=-1)["workers"]) >= 2, timeout=60)
    seen = queue.client.run(workers_config)
    assert len(seen) >= 2 and set(seen.values()) == {(False, "1s")}, seen
    assert queue.client.run_on_scheduler(scheduler_config) == (False, 0)


@pytest.mark.slow
def test_a_killed_worker_fails_the_job_and_leaves_no_files(queue, digits, tmp_path):
    cfg = model_config_for(digits, **SMALL)
    job = queue.submit("kim", "doomed", digits, cfg, TrainConfig(epochs=300), tmp_path)
    wait_until(lambda: job.state().epoch >= 1)
    for pid in queue.client.run(os.getpid).values():
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: job.state().finished, timeout=60)
    s = job.state()
    assert s.status == "failed" and "worker" in s.message and "nothing was saved" in s.message, s.message
    assert list(tmp_path.iterdir()) == []  # no weights, no JSON, no maps, no reservation, no temporary file
    wait_until(lambda: len(queue.client.scheduler_info(n_workers=-1)["workers"]) >= 1, timeout=60)




def test_a_job_file_name_is_never_reused_while_reserved(tmp_path):
    from ae.run.jobs import reserve_name

    marker = reserve_name(Path(tmp_path), "taken")
    with pytest.raises(FileExistsError):
        reserve_name(Path(tmp_path), "taken")
    marker.unlink()
    assert reserve_name(Path(tmp_path), "taken").exists()
