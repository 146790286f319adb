"""One table for a decision (issue 21): for each model, the numbers the other pages measure and its inference time,
all read from its stored analyses (the timing taken on the analysis worker, which says where)."""

from __future__ import annotations

import platform
import time
from typing import Any

import torch

from ae.data.sources import Dataset
from ae.explore.metrics import reconstruct
from ae.models.base import Autoencoder

EIGHT_BITS = "8 bits, entropy"  # the Compress analysis' setting this table reports: 8 bits per number, entropy coded
TIMED = 1000  # images per inference timing
COLUMNS = ("kNN-5 accuracy", "linear probe accuracy", "bytes per image (8 bits)", "PSNR at 8 bits",
           "one-class mean AUROC", "inference ms / 1,000")


def decision_kinds(arch: str, data: Dataset) -> list[str]:
    """The stored analyses the table reads for a model of this arch on this data: its probes, its rate-distortion,
    a one-class detector of its design per class (not for an imported graph, which cannot be retrained) and its
    inference time; those that mean something for the data."""
    from ae.explore.analyses import applies, detector_keys
    from ae.models.imported import ARCH as IMPORTED

    keys = ["probes", "compress", *(detector_keys(data) if arch != IMPORTED else []), "speed"]
    return [k for k in keys if applies(k, data)]


def decision_numbers(infos: dict[str, dict[str, Any] | None]) -> dict[str, float | None]:
    """Each of COLUMNS from the stored analyses' info (key -> info, None where not stored yet): kNN-5 and
    linear-probe accuracy with all labels (Features' probes), bytes per image at 8 bits and the PSNR it keeps
    (Compress' rate-distortion), the mean one-class AUROC of the model's design (once every class's detector is
    in), and its inference time."""
    probe_rows = (infos.get("probes") or {}).get("rows", [])

    def accuracy(probe: str) -> float | None:
        found = [r["accuracy"] for r in probe_rows if r.get("probe") == probe and str(r.get("labels")) == "all"]
        return float(found[0]) if found else None

    eight = next((r for r in (infos.get("compress") or {}).get("rows", []) if r.get("setting") == EIGHT_BITS), None)
    detectors = [v for k, v in infos.items() if k.startswith("detector-")]
    aurocs = [float(v["auroc"]) for v in detectors if v is not None and v.get("auroc") is not None]
    auroc = sum(aurocs) / len(aurocs) if aurocs and all(v is not None for v in detectors) else None
    ms = (infos.get("speed") or {}).get("ms")
    return dict(zip(COLUMNS, (accuracy("knn-5"), accuracy("logistic"), None if eight is None else float(eight["bytes"]),
                              None if eight is None else float(eight["psnr"]), auroc,
                              None if ms is None else float(ms))))


def machine() -> str:
    """Where a timing was taken, said beside it: the device, the threads PyTorch uses, and the host."""
    from ae.device import describe_device, pick_device

    return f"{describe_device(pick_device())}, {torch.get_num_threads()} threads, on {platform.node() or 'this host'}"


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
