"""The command line, run as a user would: train, eval, list."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ae", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_list_shows_datasets_architectures_and_variants():
    out = run("list")
    assert out.returncode == 0
    for word in ("mnist-5k", "digits", "cifar10", "dense", "conv", "vanilla", "denoising", "sparse", "contractive",
                 "vae", "beta-vae"):
        assert word in out.stdout


@pytest.mark.slow
def test_train_then_eval(tmp_path):
    out = run("train", "--dataset", "digits", "--arch", "conv", "--variant", "vae", "--latent", "2", "--epochs", "3",
              "--channels", "8", "16", "--param", "beta=2", "--out", str(tmp_path), "--name", "tiny")
    assert out.returncode == 0, out.stderr
    assert "saved" in out.stdout and "elbo" in out.stdout
    assert "epoch" in out.stderr  # the tqdm progress bar
    meta = json.loads((tmp_path / "tiny.json").read_text())
    assert meta["model"]["params"] == {"beta": 2}
    assert meta["dataset"]["name"] == "digits" and len(meta["history"]) == 3
    assert (tmp_path / "tiny.safetensors").stat().st_size > 0
    ev = run("eval", str(tmp_path / "tiny.json"))
    assert ev.returncode == 0, ev.stderr
    mse = float(next(line.split(":")[1] for line in ev.stdout.splitlines() if line.strip().startswith("mse")))
    assert mse == pytest.approx(meta["metrics"]["mse"], rel=1e-4)


@pytest.mark.slow
def test_train_the_tutorial_network_from_flags(tmp_path):
    """`--hidden` with no widths means no hidden layer; `--code-activation relu` puts the ReLU after the code."""
    out = run("train", "--dataset", "digits", "--arch", "dense", "--hidden", "--latent", "8", "--code-activation",
              "relu", "--loss", "mse", "--batch-size", "256", "--epochs", "2", "--out", str(tmp_path), "--name", "t")
    assert out.returncode == 0, out.stderr
    meta = json.loads((tmp_path / "t.json").read_text())
    assert meta["model"]["hidden"] == [] and meta["model"]["code_activation"] == "relu"
    assert meta["parameters"] == 64 * 8 + 8 + 8 * 64 + 64 and meta["train"]["batch_size"] == 256
    bad = run("train", "--dataset", "digits", "--variant", "vae", "--code-activation", "relu", "--epochs", "1",
              "--out", str(tmp_path), "--name", "v")
    assert bad.returncode == 2 and "a VAE's code is a mean and a log-variance" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "v.json").exists()


@pytest.mark.parametrize(
    "args,message",
    [
        (("train", "--variant", "nope", "--epochs", "1"), "unknown variant 'nope'"),
        (("train", "--name", "../x", "--epochs", "1"), "is not allowed"),
        (("train", "--dataset", "cifar10", "--epochs", "1"), "cifar10 is not on disk"),
        (("eval", "missing.json"), "missing.json does not exist"),
    ],
)
def test_errors_are_one_clear_line(args, message, capsys, tmp_path):
    """In this process (`main`, what `python -m ae` runs; the subprocess path is test_train_then_eval's): exit code 2
    and one line on stderr, nothing written."""
    from ae.__main__ import main

    out = ["--out", str(tmp_path / "models")] if args[0] == "train" else []
    assert main([*args, *out]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())
