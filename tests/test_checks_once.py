"""One check per boundary: a training run passes one gate (`preflight`), its network is built once, its name and
knobs are checked once, and what passed is trusted from there on; in the CLI and in a Train-page job alike.

The counters wrap the checks themselves (not their callers), so a second call anywhere on the path is counted.
The analyses that follow training are stubbed: they are not checks, and `test_analyses` covers them.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
import torch

import ae.config
import ae.run.analyse
import ae.run.pipeline
import ae.store.checkpoints
import ae.train
from ae.models.base import Autoencoder

TINY = ["--arch", "conv", "--channels", "4", "8", "--latent", "3", "--epochs", "1"]


@pytest.fixture
def counted(monkeypatch):
    """Counts of every check and build made from here on."""
    seen: Counter[str] = Counter()

    def wrap(module, name: str, label: str) -> None:
        original = getattr(module, name)

        def counting(*a, **k):
            seen[label] += 1
            return original(*a, **k)

        monkeypatch.setattr(module, name, counting)

    wrap(ae.run.pipeline, "preflight", "preflight")
    for module in (ae.run.pipeline, ae.train):  # both hold the one shape check by name
        wrap(module, "check_fits", "input shape")
    wrap(ae.config, "variant_knobs", "knobs")

    pattern = ae.store.checkpoints.NAME_RE

    class CountingName:
        def match(self, text: str) -> re.Match | None:
            seen["name"] += 1
            return pattern.match(text)

    monkeypatch.setattr(ae.store.checkpoints, "NAME_RE", CountingName())
    build = Autoencoder.__init__

    def counting_build(self, cfg):
        seen["network built"] += 1
        seen["network built on " + torch.get_default_device().type] += 1
        build(self, cfg)

    monkeypatch.setattr(Autoencoder, "__init__", counting_build)
    monkeypatch.setattr(ae.run.analyse, "analyse", lambda *a, **k: None)
    return seen


ONCE = {"preflight": 1, "input shape": 1, "knobs": 1, "name": 1, "network built": 1, "network built on meta": 1}


def test_a_cli_training_run_checks_each_value_once_and_builds_its_network_once(counted, tmp_path):
    from ae.__main__ import main

    assert main(["train", "--dataset", "digits", *TINY, "--name", "once", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "once.json").exists()
    assert dict(counted) == ONCE


@pytest.mark.slow
def test_a_train_page_job_checks_each_value_once_and_builds_its_network_once(counted, tmp_path):
    """The whole job in one process (an in-process Dask cluster), so the worker's side is counted too."""
    from distributed import Client, LocalCluster

    from ae.config import TrainConfig
    from ae.data.sources import load_dataset
    from ae.run.experiment import model_config_for
    from ae.run.jobs import JobQueue

    data = load_dataset("digits")
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, resources={"train": 1},
                           dashboard_address=":0")
    queue = JobQueue(connect=lambda: Client(cluster, set_as_default=False), poll_s=0.1, warm_up=False)
    try:
        assert queue.wait_ready(60) and queue.error is None, queue.error
        mcfg = model_config_for(data, arch="conv", channels=(4, 8), latent_dim=3)  # the page makes its config
        job = queue.submit("ann", "once", data, mcfg, TrainConfig(epochs=1), tmp_path)
        deadline = time.time() + 120
        while not job.state().finished and time.time() < deadline:
            time.sleep(0.1)
        assert job.state().status == "done", job.state().message
        assert (tmp_path / "once.json").exists()
    finally:
        queue.close()
        cluster.close()
    assert dict(counted) == ONCE
