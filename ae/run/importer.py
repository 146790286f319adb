"""Bring in a model trained anywhere: an encoder and a decoder exported to ONNX become a model like those trained
here (listed, analysed, on every page), after the same checks a file from a stranger always gets.

Checked before anything is saved: each file's size, that it is ONNX, its depth and weights (ae.models.imported);
that onnxruntime can run it; its input and output shapes against the dataset's samples; and, on a few test samples,
that its codes and images are finite and its images lie near [0, 1] (a decoder exported without its final sigmoid
gives logits, which would make every error on every page wrong).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ae.data.sources import Dataset
from ae.errors import InputError
from ae.models.imported import DATA_RANGE, MAX_GRAPH_BYTES, OnnxAutoencoder, from_graphs

PROBE = 64  # test samples run through a new import before it is measured on the whole split


def read_graph(path: str | Path, what: str) -> bytes:
    """A graph file's bytes, its size checked before it is read."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} ({path}) is not a file")
    size = path.stat().st_size
    if size > MAX_GRAPH_BYTES:
        raise InputError(f"{what} ({path.name}) is {size / 2**20:.0f} MB; the limit is {MAX_GRAPH_BYTES // 2**20} MB")
    return path.read_bytes()


def probe(model: OnnxAutoencoder, data: Dataset) -> None:
    """Run a few test samples through; InputError when the codes or images are not finite or not images."""
    x = data.test_x(slice(0, PROBE))
    with torch.no_grad():
        z = model.encode(x)
        x_hat = model.decode(z)
    if not torch.isfinite(z).all() or not torch.isfinite(x_hat).all():
        raise InputError("the model gives codes or images that are not finite numbers on the test samples")
    lo, hi = float(x_hat.min()), float(x_hat.max())
    if data.kind == "image" and (lo < DATA_RANGE[0] or hi > DATA_RANGE[1]):
        raise InputError(f"the decoder's images range from {lo:.2f} to {hi:.2f}; Latent Lab's images lie in [0, 1]: "
                         "export the decoder with its final sigmoid")


def measure(encoder: bytes, decoder: bytes, data: Dataset, variational: bool = False) -> tuple[Any, dict[str, Any]]:
    """(the recon analysis, the metrics) of the model two graphs make, on `data`'s test split: the heavy part of an
    import, which the app runs on its analysis worker (so it takes the graphs' bytes, not a model)."""
    from ae.explore.analyses import compute
    from ae.explore.metrics import evaluate

    model = from_graphs(encoder, decoder, data.input_shape, variational)
    recon = compute("recon", model, data)
    return recon, evaluate(model, data.x_test, errors=recon.arrays)


def import_onnx(encoder: bytes, decoder: bytes, data: Dataset, folder: str | Path, name: str, *,
                variational: bool = False, sources: tuple[str, str] = ("encoder.onnx", "decoder.onnx"),
                analyse: bool = True, log: Callable[[str], None] = lambda _: None,
                measured_by: Callable[..., tuple[Any, dict[str, Any]]] | None = None) -> tuple[Path, dict[str, Any]]:
    """Check, measure on `data`'s test split and save the model two ONNX graphs make, as `folder/name`, with the
    analyses the pages read (`analyse`; the app queues them on its workers instead). The name is the caller's,
    checked and reserved (as for training). `measured_by(**measure's arguments)` runs `measure`
    elsewhere (the app: on its analysis worker); only the checks and a few samples run here. Returns the JSON's path
    and the metrics."""
    from ae.run.pipeline import analyse_saved, dataset_record
    from ae.store.checkpoints import save_model

    model = from_graphs(encoder, decoder, data.input_shape, variational)
    probe(model, data)
    log(f"{name}: read {sources[0]} and {sources[1]} (codes of {model.cfg.latent_dim}); measuring on the test split")
    recon, metrics = (measured_by or measure)(encoder=encoder, decoder=decoder, data=data, variational=variational)
    import onnxruntime

    meta = {
        "dataset": dataset_record(data),
        "metrics": metrics,
        "about": f"imported from ONNX ({sources[0]}, {sources[1]}), measured on {data.name}",
        "imported": {"format": "onnx", "onnxruntime": onnxruntime.__version__,
                     "encoder": {"file": sources[0], "sha256": hashlib.sha256(encoder).hexdigest()},
                     "decoder": {"file": sources[1], "sha256": hashlib.sha256(decoder).hexdigest()}},
    }
    path = save_model(model, folder, name, meta)
    if analyse:
        analyse_saved(path, data, model, recon, log)
    else:
        from ae.run.analyse import save

        save(recon, path, data)  # measured already: the workers need not measure it again
    return path, metrics
