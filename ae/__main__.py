"""Command line: `python -m ae train|import|eval|list`.

    python -m ae train --dataset mnist-5k --arch conv --variant vae --latent 16 --epochs 20 --out models/
    python -m ae import encoder.onnx decoder.onnx --dataset mnist-5k --name my-ae
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

from ae.config import CODE_ACTIVATIONS


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
    """Each value is checked once, where it enters: the name here, the folder and the name's freedom where it is
    reserved (before any work: a clash found after training would throw the training away), the configs when they
    are made, the run as a whole by `preflight`, whose Plan the pipeline trusts."""
    from ae.config import TrainConfig
    from ae.run.experiment import model_config_for
    from ae.run.pipeline import preflight, train_and_save
    from ae.store.checkpoints import check_folder, check_name, clean_stale, reserved

    name = check_name(a.name or f"{a.arch}-{a.variant}-{a.latent}")
    clean_stale(a.out)
    with contextlib.nullcontext(check_folder(a.out)) if a.overwrite else reserved(a.out, name):
        data = open_data(a.dataset, a.label_column)
        extra = {}
        if a.hidden is not None:  # `--hidden` alone: no hidden layer, the code layer reads the input directly
            extra["hidden"] = tuple(a.hidden)
        if a.channels:
            extra["channels"] = tuple(a.channels)
        if a.loss:
            extra["recon_loss"] = a.loss
        mcfg = model_config_for(data, arch=a.arch, variant=a.variant, latent_dim=a.latent,
                                params=parse_params(a.param), code_activation=a.code_activation, **extra)
        tcfg = TrainConfig(epochs=a.epochs, batch_size=a.batch_size, lr=a.lr, weight_decay=a.weight_decay,
                           seed=a.seed, device=a.device)
        plan = preflight(mcfg, tcfg, data)
        bar = TqdmProgress(a.epochs)
        try:
            r = train_and_save(data, plan, a.out, name, callbacks=[bar], overwrite=a.overwrite,
                               log=lambda text: print(text, file=sys.stderr, flush=True))
        finally:
            bar.bar.close()  # an error message then starts on its own line, not after the bar
    print(f"saved {r.path} with its analyses: trained in {r.meta['train_seconds']} s on {r.meta['train_device']}, "
          f"then {r.after_training_s:.1f} s to measure, save and analyse it")
    print(format_metrics(r.metrics))
    return 0


def cmd_import(a: argparse.Namespace) -> int:
    """The name is checked and reserved before the graphs are read and measured, as for training."""
    from pathlib import Path

    from ae.run.importer import import_onnx, read_graph
    from ae.store.checkpoints import check_name, clean_stale, reserved

    name = check_name(a.name)
    encoder, decoder = read_graph(a.encoder, "the encoder"), read_graph(a.decoder, "the decoder")
    clean_stale(a.out)
    with reserved(a.out, name):
        data = open_data(a.dataset, a.label_column)
        path, metrics = import_onnx(encoder, decoder, data, a.out, name, variational=a.variational,
                                    sources=(Path(a.encoder).name, Path(a.decoder).name),
                                    log=lambda text: print(text, file=sys.stderr, flush=True))
    print(f"saved {path} with its analyses")
    print(format_metrics(metrics))
    return 0


def open_data(name_or_path: str, label_column: str | None = None):
    """A built-in dataset by name, else the user's file or folder by path (.npz, .csv, .zip of images, a folder of
    images), through the same loaders and limits as the browser's uploads."""
    from pathlib import Path

    from ae.data.sources import dataset_names, load_dataset
    from ae.data.userdata import load_file
    from ae.errors import InputError

    if name_or_path in dataset_names():
        return load_dataset(name_or_path)
    path = Path(name_or_path)
    if not path.exists():
        raise InputError(f"{name_or_path!r} is neither a dataset ({', '.join(dataset_names())}) nor a file or folder")
    return load_file(path, label_column=label_column)


def cmd_encode(a: argparse.Namespace) -> int:
    """Feature extraction without the browser: the encoder's codes of a split, as CSV (with labels) or .npz."""
    from pathlib import Path

    from ae.config import check_fits
    from ae.explore.metrics import encode
    from ae.files import atomic_write
    from ae.store.checkpoints import load_model
    from ae.store.export import codes_csv

    out = Path(a.out)
    if out.suffix not in (".csv", ".npz"):
        raise ValueError(f"--out must end in .csv or .npz, got {out.name}")
    model, meta = load_model(a.model)
    data = open_data(a.data, a.label_column)
    check_fits(model.cfg.input_shape, data.input_shape, data.name)
    x, y = (data.x_train, data.y_train) if a.split == "train" else (data.x_test, data.y_test)
    codes = encode(model, x).numpy()
    labels = y.numpy() if y is not None else None
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        blob = codes_csv(codes, None, labels, data.class_names)
        atomic_write(out, lambda tmp: Path(tmp).write_bytes(blob))
    else:
        arrays = {"codes": codes, **({"labels": labels} if labels is not None else {})}
        atomic_write(out, lambda tmp: _savez(tmp, arrays))
    print(f"wrote {out}: {len(codes):,} codes of {codes.shape[1]} numbers ({meta['name']} on the {data.name} "
          f"{a.split} split)")
    return 0


def cmd_compress(a: argparse.Namespace) -> int:
    """The rate-distortion table without the browser: the model's code at --bits, PCA with as many coefficients,
    JPEG and WebP, in bytes per image with PSNR and SSIM on the test split."""
    import pandas as pd

    from ae.config import check_fits
    from ae.explore.compress import bytes_at_psnr, decoder_bytes, rate_distortion, raw_bytes
    from ae.store.checkpoints import load_model

    model, meta = load_model(a.model)
    data = open_data(a.data)
    check_fits(model.cfg.input_shape, data.input_shape, data.name)
    rows = rate_distortion({meta["name"]: model}, data, n=a.images, bits=tuple(a.bits))
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        print(rows.round({"bytes": 1, "psnr": 2, "ssim": 3}).to_string(index=False))
    mine = rows[(rows["method"] == meta["name"]) & (rows["setting"] == f"{a.bits[0]} bits, packed")]
    psnr8 = float(mine["psnr"].iloc[0])
    print(f"\nraw image: {raw_bytes(data)} bytes; decoder: {decoder_bytes(model):,} bytes (float32), shipped once")
    for codec in ("JPEG", "Webp"):
        at = bytes_at_psnr(rows, codec, psnr8)
        print(f"{codec} needs {at:.0f} bytes per image for the code's {psnr8:.2f} dB" if at is not None else
              f"{codec} is above {psnr8:.2f} dB even at its lowest quality")
    return 0


def _savez(path: str, arrays: dict) -> None:
    import numpy as np

    with open(path, "wb") as f:  # a file object: np.savez would add ".npz" to a temporary file's name
        np.savez(f, **arrays)


def format_metrics(m: dict[str, float]) -> str:
    return "\n".join(f"  {k:>10}: {v:.5g}" if isinstance(v, float) else f"  {k:>10}: {v}" for k, v in m.items())


def cmd_eval(a: argparse.Namespace) -> int:
    from ae.config import check_fits
    from ae.explore.metrics import evaluate
    from ae.store.checkpoints import load_model

    model, meta = load_model(a.path)
    ds_name = a.dataset or meta.get("dataset", {}).get("name", "mnist-5k")
    data = open_data(ds_name)
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


def cmd_analyse(a: argparse.Namespace) -> int:
    """Compute and store what the pages read about models (and about a dataset alone), as the app's analysis
    worker would: for models imported by hand, or to fill a new server before a class."""
    from ae.config import check_fits
    from ae.explore.analyses import applies, model_kinds, split
    from ae.run.analyse import ensure
    from ae.store.checkpoints import load_model

    def report(key: str, fraction: float, text: str) -> None:
        print(f"  {key}: {text} ({fraction:.0%})", file=sys.stderr)

    for path in a.models:
        model, meta = load_model(path)
        data = open_data(a.dataset or meta.get("dataset", {}).get("name", "mnist-5k"), a.label_column)
        check_fits(model.cfg.input_shape, data.input_shape, data.name)
        keys = model_kinds(data) if not a.kinds else [k for k in a.kinds if split(k)[0].per_model]
        ensure(keys, path, data, model, report)
        print(f"{meta['name']} on {data.name}: {', '.join(keys)} stored")
    dataset_keys = [k for k in a.kinds if not split(k)[0].per_model] if a.kinds else []
    if dataset_keys:
        data = open_data(a.dataset or "mnist-5k", a.label_column)
        keys = [k for k in dataset_keys if applies(k, data)]
        ensure(keys, None, data, progress=report)
        print(f"{data.name}: {', '.join(keys)} stored")
    return 0


def cmd_pretrain(a: argparse.Namespace) -> int:
    from pathlib import Path

    from ae.run.zoo import analyse_zoo, build_zoo

    if a.analyses:
        analyse_zoo(Path(a.out))
        return 0
    path = build_zoo(Path(a.out), only=a.only or None)
    print(f"wrote {path}")
    return 0


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Says a flag's default where it has one (not "default: None" where the help says what happens instead)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, []) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    fmt = _Help
    p = argparse.ArgumentParser(prog="python -m ae", description="Latent Lab: train, evaluate, encode and list "
                                "autoencoders", formatter_class=fmt)
    sub = p.add_subparsers(dest="cmd", required=True)
    data_help = "a built-in dataset (see `list`) or a path: .npz, .csv, .zip of images or a folder of images"
    t = sub.add_parser("train", help="train a model and save it with its metrics and maps", formatter_class=fmt)
    t.add_argument("--dataset", default="mnist-5k", help=data_help)
    t.add_argument("--label-column", help="the CSV column holding the labels (CSV only)")
    t.add_argument("--arch", default="conv", help="conv (images) or dense (images or tabular rows)")
    t.add_argument("--variant", default="vanilla", help="the autoencoder variant (see `list`)")
    t.add_argument("--latent", type=int, default=16, help="size of the code")
    t.add_argument("--hidden", type=int, nargs="*", help="dense layer widths (default 512 256); "
                   "`--hidden` with no widths: none, the code layer reads the input")
    t.add_argument("--channels", type=int, nargs="*", help="conv channels, one stride-2 layer each (default 32 64)")
    t.add_argument("--code-activation", choices=CODE_ACTIVATIONS, default="linear",
                   help="what follows the code layer: linear, or relu (the Keras tutorial's code; not for VAEs)")
    t.add_argument("--loss", choices=["mse", "bce"], help="reconstruction loss (default: bce for images, else mse)")
    t.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help=knob_help().replace("%", "%%"))
    t.add_argument("--epochs", type=int, default=20, help="passes over the training split")
    t.add_argument("--batch-size", type=int, default=128, help="samples per optimiser step")
    t.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate")
    t.add_argument("--weight-decay", type=float, default=0.0, help="Adam's weight decay")
    t.add_argument("--seed", type=int, default=0, help="seeds the weights, the split and the batches")
    t.add_argument("--device", default="auto", help="auto (CUDA, else Apple MPS, else CPU), cpu, cuda or mps")
    t.add_argument("--out", default="models", help="the folder the model is saved in")
    t.add_argument("--name", help="the model's name (default ARCH-VARIANT-LATENT)")
    t.add_argument("--overwrite", action="store_true", help="replace a model of the same name")
    t.set_defaults(fn=cmd_train)
    im = sub.add_parser("import", help="bring in an encoder and a decoder exported to ONNX (run with onnxruntime; "
                        "no pickle), measured on a dataset's test split", formatter_class=fmt)
    im.add_argument("encoder", help="the encoder's .onnx: samples [N, C, H, W], [N, H, W, C] or [N, D] -> codes")
    im.add_argument("decoder", help="the decoder's .onnx: codes [N, latent] -> samples, images in [0, 1]")
    im.add_argument("--dataset", default="mnist-5k", help=data_help)
    im.add_argument("--label-column", help="the CSV column holding the labels (CSV only)")
    im.add_argument("--name", required=True, help="the model's name")
    im.add_argument("--variational", action="store_true", help="the encoder gives a mean and a log-variance (two "
                    "outputs, or one holding both side by side)")
    im.add_argument("--out", default="models", help="the folder the model is saved in")
    im.set_defaults(fn=cmd_import)

    def model_and_data(p: argparse.ArgumentParser) -> None:
        p.add_argument("model", help="the model's .json (or .safetensors)")
        p.add_argument("data", help=data_help)

    e = sub.add_parser("eval", help="print a saved model's test metrics", formatter_class=fmt)
    e.add_argument("path", help="the model's .json (or .safetensors)")
    e.add_argument("--dataset", help="default: the dataset the model was trained on; " + data_help)
    e.set_defaults(fn=cmd_eval)
    en = sub.add_parser("encode", help="write a split's codes (feature extraction) as CSV or .npz",
                        formatter_class=fmt)
    model_and_data(en)
    en.add_argument("--out", required=True, help="codes.csv (one row per sample: index, label, z0..) or codes.npz "
                    "(arrays codes and labels)")
    en.add_argument("--split", choices=["test", "train"], default="test", help="which split to encode")
    en.add_argument("--label-column", help="the CSV column holding the labels (CSV only)")
    en.set_defaults(fn=cmd_encode)
    c = sub.add_parser("compress", help="print the rate-distortion table: the code vs PCA, JPEG and WebP",
                       formatter_class=fmt)
    model_and_data(c)
    c.add_argument("--bits", type=int, nargs="+", default=[8, 6, 4], help="bits per code dimension to quantise to")
    c.add_argument("--images", type=int, default=1000, help="how many test images to measure on")
    c.set_defaults(fn=cmd_compress)
    an = sub.add_parser("analyse", help="compute and store what the pages read about models (codes, maps, errors, "
                        "noise levels, rate-distortion, probes) or a dataset (one-class models, codecs, baselines)",
                        formatter_class=fmt)
    an.add_argument("models", nargs="*", help="the models' .json files")
    an.add_argument("--dataset", help="default: each model's own dataset (mnist-5k for dataset analyses); "
                    + data_help)
    an.add_argument("--label-column", help="the CSV column holding the labels (CSV only)")
    an.add_argument("--kinds", nargs="*", help="which analyses (default: every per-model one that applies): recon, "
                    "maps, denoise, compress, probes; on request: detector-C, speed; "
                    "of the dataset alone: oneclass-C, codecs, pca-K, raw-probes")
    an.set_defaults(fn=cmd_analyse)
    pt = sub.add_parser("pretrain", help="rebuild the pretrained zoo (seeded) and its manifest", formatter_class=fmt)
    pt.add_argument("--out", default=str(__import__("ae.store.zoo", fromlist=["ZOO_DIR"]).ZOO_DIR),
                    help="the folder the zoo is written to")
    pt.add_argument("--only", nargs="*", help="rebuild only these entries (default: all)")
    pt.add_argument("--analyses", action="store_true", help="keep the weights; only compute the analyses that ship "
                    "with them (what the pages read) where they are missing or stale")
    pt.set_defaults(fn=cmd_pretrain)
    ls = sub.add_parser("list", help="list datasets, architectures, variants and their knobs", formatter_class=fmt)
    ls.set_defaults(fn=cmd_list)
    return p


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
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
