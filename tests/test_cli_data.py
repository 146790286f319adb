"""The command line on the user's own files: `train --dataset PATH` through the same loaders and limits as the
browser's uploads, and `encode` for feature extraction without the browser."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ae.__main__ import main
from tests.corpus import CASES, digits, npz


def write_files(root):
    """The same 40 little labelled images as an .npz, a folder, a zip; and a labelled CSV."""
    x, y = digits(40, 4)
    files = {"npz": root / "digits.npz"}
    files["npz"].write_bytes(npz(x=x, y=y))
    folder = root / "folder"
    for i, (img, label) in enumerate(zip(x, y)):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / str(label) / f"{i}.png")
    files["folder"] = folder
    files["zip"] = root / "digits.zip"
    with zipfile.ZipFile(files["zip"], "w") as z:
        for p in folder.rglob("*.png"):
            z.write(p, p.relative_to(root).as_posix())
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 5)) + np.arange(60)[:, None] % 3, columns=list("abcde"))
    frame["kind"] = [f"k{i % 3}" for i in range(60)]
    files["csv"] = root / "table.csv"
    frame.to_csv(files["csv"], index=False)
    return files


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["npz", "folder", "zip", "csv"])
def test_train_accepts_a_path_to_the_users_own_data(kind, tmp_path, capsys):
    files = write_files(tmp_path)
    extra = ["--label-column", "kind", "--arch", "dense", "--hidden", "16"] if kind == "csv" else ["--channels", "4"]
    rc = main(["train", "--dataset", str(files[kind]), "--epochs", "2", "--latent", "2", "--out",
               str(tmp_path / "models"), "--name", f"mine-{kind}", *extra])
    assert rc == 0, capsys.readouterr().err
    meta = json.loads((tmp_path / "models" / f"mine-{kind}.json").read_text())
    assert len(meta["history"]) == 2
    assert meta["model"]["input_shape"] == ([5] if kind == "csv" else [1, 12, 12])
    codes = tmp_path / f"codes-{kind}.csv"
    assert main(["encode", str(tmp_path / "models" / f"mine-{kind}.json"), str(files[kind]), "--out", str(codes),
                 *(["--label-column", "kind"] if kind == "csv" else [])]) == 0
    table = pd.read_csv(codes)
    assert {"index", "label", "z0", "z1"} <= set(table.columns)
    assert len(table) == (12 if kind == "csv" else 8)  # the 20% test split


@pytest.mark.parametrize("case_id", ["npz-zero-bomb", "csv-1e39", "zip-traversal", "npz-truncated"])
def test_train_refuses_a_bad_file_with_the_browsers_message(case_id, tmp_path, capsys):
    case = next(c for c in CASES if c.id == case_id)
    name, data = case.make()
    (tmp_path / name).write_bytes(data)
    assert main(["train", "--dataset", str(tmp_path / name), "--epochs", "1", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    import re

    assert re.search(case.error, err), err
    assert not (tmp_path / "m").exists() or not list((tmp_path / "m").glob("*.json"))


def test_a_path_that_is_nothing_is_named(tmp_path, capsys):
    assert main(["train", "--dataset", str(tmp_path / "nowhere.npz"), "--out", str(tmp_path / "m")]) == 2
    assert "is neither a dataset" in capsys.readouterr().err


def test_encode_writes_npz_codes_of_the_test_split(tmp_path, capsys):
    out = tmp_path / "codes.npz"
    assert main(["encode", "pretrained/conv-ae-2.json", "mnist-5k", "--out", str(out)]) == 0
    with np.load(out) as f:
        assert f["codes"].shape == (1000, 2) and f["labels"].shape == (1000,)
    assert main(["encode", "pretrained/conv-ae-2.json", "digits", "--out", str(tmp_path / "x.csv")]) == 2
    assert "reads 28x28 grey images, but digits holds 8x8" in capsys.readouterr().err
    assert main(["encode", "pretrained/conv-ae-2.json", "mnist-5k", "--out", str(tmp_path / "x.txt")]) == 2


def test_every_flag_of_every_subcommand_says_what_it_does_and_its_default():
    import argparse

    from ae.__main__ import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(sub.choices) == {"train", "import", "eval", "encode", "compress", "analyse", "pretrain", "list"}
    for name, cmd in sub.choices.items():
        for action in cmd._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and len(action.help) > 10, (name, action.dest)
        text = cmd.format_help()
        for action in cmd._actions:
            if action.default not in (None, False, [], argparse.SUPPRESS) and action.option_strings:
                assert f"(default: {action.default})" in " ".join(text.split()), (name, action.dest)


def test_compress_prints_the_rate_distortion_table(capsys):
    assert main(["compress", "pretrained/conv-ae-16.json", "mnist-5k", "--images", "100", "--bits", "8"]) == 0
    out = capsys.readouterr().out
    for text in ("conv-ae-16", "8 bits, packed", "PCA 16", "JPEG", "Webp", "raw image: 784 bytes",
                 "decoder: 346,500 bytes"):
        assert text in out, text
    assert main(["compress", "pretrained/conv-ae-16.json", "digits"]) == 2
