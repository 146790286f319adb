"""Compare's downloadable report: the page's tables and pictures with each model's config and weights' SHA-256, as
one HTML file that opens offline (ae.store.report). Built only when the button is pressed."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ae.data.sources import Dataset
from ae.store.analyses import weights_sha256
from ae.store.catalog import ModelEntry
from ae.store.report import report_html
from ui.cache import model_meta, paired_comparison


def compare_report(data: Dataset, table: pd.DataFrame, pictures: Sequence[tuple[bytes, str]],
                   entries: Sequence[ModelEntry], pair: Sequence[ModelEntry]) -> bytes:
    """`pair`: the models set A against B on the page (its A-against-B table goes in), or none."""
    paired = None
    if len(pair) == 2 and pair[0].key != pair[1].key:
        a, b = pair
        paired = (f"A: {a.name} against B: {b.name}, paired bootstrap 95% intervals",
                  paired_comparison(a.path, a.stamp, b.path, b.stamp, data.name))
    models = []
    for e in entries:
        meta = model_meta(e.path, e.stamp)
        config = {k: meta[k] for k in ("model", "dataset", "train", "about", "imported", "trained_by") if k in meta}
        models.append({"name": e.name, "sha256": weights_sha256(e.path), "config": config})
    return report_html(f"Latent Lab: {len(entries)} models compared on {data.name}", data.name, data.fingerprint,
                       table, pictures, models, paired)
