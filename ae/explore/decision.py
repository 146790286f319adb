"""One table for a decision (issue 21): for each model, the numbers the other pages measure, read from its stored
analyses, and its inference time measured on this machine."""

from __future__ import annotations

import time
from typing import Any

import torch

from ae.data.sources import Dataset
from ae.explore.metrics import reconstruct
from ae.models.base import Autoencoder

EIGHT_BITS = "8 bits, entropy"  # the Compress analysis' setting this table reports: 8 bits per number, entropy coded
TIMED = 1000  # images per inference timing


def decision_numbers(probe_rows: list[dict[str, Any]], compress_rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """kNN-5 and linear-probe accuracy with all labels (Features' probes), bytes per image at 8 bits and the PSNR
    it keeps (Compress' rate-distortion), from the stored analyses' rows; None where an analysis lacks one."""

    def accuracy(probe: str) -> float | None:
        found = [r["accuracy"] for r in probe_rows if r.get("probe") == probe and str(r.get("labels")) == "all"]
        return float(found[0]) if found else None

    eight = next((r for r in compress_rows if r.get("setting") == EIGHT_BITS), None)
    return {"kNN-5 accuracy": accuracy("knn-5"), "linear probe accuracy": accuracy("logistic"),
            "bytes per image (8 bits)": None if eight is None else float(eight["bytes"]),
            "PSNR at 8 bits": None if eight is None else float(eight["psnr"])}


def inference_ms(model: Autoencoder, data: Dataset, repeats: int = 1) -> float:
    """Milliseconds to encode and decode 1,000 test images here (the best of `repeats`, after a warm-up on 8; fewer
    images scaled up when the split is smaller)."""
    x = data.test_x(slice(0, TIMED))
    with torch.no_grad():
        reconstruct(model, x[:8])  # warm-up: first-call allocations and lazy initialisation
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            reconstruct(model, x)
            best = min(best, time.perf_counter() - t0)
    return best * 1000 * TIMED / len(x)
