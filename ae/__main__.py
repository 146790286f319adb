"""Command line: `python -m ae train|eval|list`.

    python -m ae train --dataset mnist-5k --arch conv --variant vae --latent 16 --epochs 20 --out models/
    python -m ae eval models/conv-vae-16.json
    python -m ae list
    python -m ae pretrain
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

import pandas as pd


class TqdmProgress:
    """Drives a tqdm bar from fit's epoch callback."""

    def __init__(self, epochs: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=epochs, unit="epoch")

    def on_epoch_end(self, history: pd.DataFrame) -> None:
        last = history.iloc[-1]
        post = {"train": f"{last['train_loss']:.4g}"}
        if "val_loss" in last:
            post["val"] = f"{last['val_loss']:.4g}"
        self.bar.set_postfix(post)
        self.bar.update(1)

    def should_stop(self) -> bool:
        return False


def parse_params(items: list[str]) -> dict[str, object]:
    """--param key=value pairs; values parse as JSON when they can (numbers), else stay strings. Their types are
    checked against the variant's knobs when the model is built (`beta=big` is refused there, in words)."""
    from ae.errors import InputError

    out: dict[str, object] = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"--param takes key=value, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def cmd_train(a: argparse.Namespace) -> int:
    from ae.config import TrainConfig
    from ae.data.sources import load_dataset
    from ae.run.experiment import model_config_for
    from ae.run.pipeline import preflight, train_and_save
    from ae.store.checkpoints import check_folder, check_name, clean_stale, ensure_free, reserved

    name = check_name(a.name or f"{a.arch}-{a.variant}-{a.latent}")
    check_folder(a.out)  # before any work: a clash found after training would throw the training away
    clean_stale(a.out)
    if not a.overwrite:
        ensure_free(a.out, name)
    data = load_dataset(a.dataset)
    extra = {}
    if a.hidden:
        extra["hidden"] = tuple(a.hidden)
    if a.channels:
        extra["channels"] = tuple(a.channels)
    if a.loss:
        extra["recon_loss"] = a.loss
    mcfg = model_config_for(data, arch=a.arch, variant=a.variant, latent_dim=a.latent, params=parse_params(a.param),
                            **extra)
    tcfg = TrainConfig(epochs=a.epochs, batch_size=a.batch_size, lr=a.lr, weight_decay=a.weight_decay, seed=a.seed,
                       device=a.device)
    preflight(mcfg, tcfg, data)
    bar = TqdmProgress(a.epochs)
    try:
        with reserved(a.out, name) if not a.overwrite else contextlib.nullcontext():
            r = train_and_save(data, mcfg, tcfg, a.out, name, callbacks=[bar], overwrite=a.overwrite)
    finally:
        bar.bar.close()  # an error message then starts on its own line, not after the bar
    print(f"saved {r.path} with its maps ({r.meta['train_seconds']} s on {r.meta['train_device']})")
    print(format_metrics(r.metrics))
    return 0


def format_metrics(m: dict[str, float]) -> str:
    return "\n".join(f"  {k:>10}: {v:.5g}" if isinstance(v, float) else f"  {k:>10}: {v}" for k, v in m.items())


def cmd_eval(a: argparse.Namespace) -> int:
    from ae.data.sources import load_dataset
    from ae.explore.metrics import evaluate
    from ae.run.experiment import check_fits
    from ae.store.checkpoints import load_model

    model, meta = load_model(a.path)
    ds_name = a.dataset or meta.get("dataset", {}).get("name", "mnist-5k")
    data = load_dataset(ds_name)
    check_fits(model.cfg.input_shape, data.input_shape, ds_name)
    print(f"{meta['name']}: {model.name} {model.cfg.arch}, latent {model.cfg.latent_dim}, on the {ds_name} test split")
    print(format_metrics(evaluate(model, data.x_test)))
    return 0


def cmd_list(a: argparse.Namespace) -> int:
    from ae.data.sources import DESCRIPTIONS
    from ae.knobs import knobs
    from ae.models.blocks import ARCHS
    from ae.registry import VARIANTS, variants

    print("datasets:")
    for k, v in DESCRIPTIONS.items():
        print(f"  {k:<14} {v}")
    print("architectures:")
    for k, fn in ARCHS.items():
        print(f"  {k:<14} {(fn.__doc__ or '').strip().splitlines()[0]}")
    print("variants (knobs: --param NAME=VALUE):")
    for k in variants():
        doc = (VARIANTS[k].__doc__ or sys.modules[VARIANTS[k].__module__].__doc__ or "").strip().splitlines()[0]
        print(f"  {k:<14} {doc}")
        for knob in knobs(VARIANTS[k].Params):
            print(f"  {'':<16}{knob.describe()}")
    return 0


def knob_help() -> str:
    """--param's help, generated from every variant's knobs."""
    from ae.knobs import knobs
    from ae.registry import VARIANTS, variants

    lines = [f"{v}: " + "; ".join(k.describe() for k in knobs(VARIANTS[v].Params)) for v in variants()
             if knobs(VARIANTS[v].Params)]
    return "a variant's knob as NAME=VALUE (repeat for several). " + " | ".join(lines)


def cmd_pretrain(a: argparse.Namespace) -> int:
    from pathlib import Path

    from ae.store.zoo import build_zoo

    path = build_zoo(Path(a.out), only=a.only or None)
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ae", description="Latent Lab: train, evaluate and list autoencoders")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train a model and save it with its metrics")
    t.add_argument("--dataset", default="mnist-5k")
    t.add_argument("--arch", default="conv")
    t.add_argument("--variant", default="vanilla")
    t.add_argument("--latent", type=int, default=16)
    t.add_argument("--hidden", type=int, nargs="*", help="dense layer widths")
    t.add_argument("--channels", type=int, nargs="*", help="conv channels")
    t.add_argument("--loss", choices=["mse", "bce"])
    t.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help=knob_help().replace("%", "%%"))
    t.add_argument("--epochs", type=int, default=20)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto")
    t.add_argument("--out", default="models")
    t.add_argument("--name")
    t.add_argument("--overwrite", action="store_true")
    t.set_defaults(fn=cmd_train)
    e = sub.add_parser("eval", help="print a saved model's test metrics")
    e.add_argument("path")
    e.add_argument("--dataset")
    e.set_defaults(fn=cmd_eval)
    pt = sub.add_parser("pretrain", help="rebuild the pretrained zoo (seeded) and its manifest")
    pt.add_argument("--out", default=str(__import__("ae.store.zoo", fromlist=["ZOO_DIR"]).ZOO_DIR))
    pt.add_argument("--only", nargs="*", help="rebuild only these entries")
    pt.set_defaults(fn=cmd_pretrain)
    ls = sub.add_parser("list", help="list datasets, architectures and variants")
    ls.set_defaults(fn=cmd_list)
    a = p.parse_args(argv)
    try:
        return a.fn(a)
    except KeyboardInterrupt:
        print("\ninterrupted; nothing was saved", file=sys.stderr)
        return 130
    except (ValueError, OSError, RuntimeError, MemoryError) as err:  # InputError is a ValueError
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
