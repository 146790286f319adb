"""Compare's report as one self-contained HTML file (issue 21): the tables, the figures as embedded images, each
model's config and the SHA-256 of its weights, so it opens offline and says exactly which files it describes. Every
text from a file or a user (model names, configs) is escaped."""

from __future__ import annotations

import base64
import html
import json
import time
from collections.abc import Sequence
from typing import Any

import pandas as pd

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#1a1a1a;line-height:1.45}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}th,td{border:1px solid #bbb;padding:.3em .6em;
text-align:right}th{background:#eee}td:first-child,th:first-child{text-align:left}img{max-width:100%;
image-rendering:pixelated;display:block;margin:.3em 0}figure{margin:1em 0}figcaption{color:#333;font-size:.9em}
pre{background:#f4f4f4;padding:.6em;overflow:auto;font-size:.8em}"""


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, na_rep="—", float_format=lambda v: f"{v:.4g}", border=0)


def report_html(title: str, dataset: str, fingerprint: str, table: pd.DataFrame,
                figures: Sequence[tuple[bytes, str]], models: Sequence[dict[str, Any]],
                paired: tuple[str, pd.DataFrame] | None = None) -> bytes:
    """The report: `table` (one row per model), `figures` (PNG bytes, caption), `models` (each {"name", "sha256",
    "config": dict}), and optionally (a heading, the A-against-B table)."""
    esc = html.escape
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>",
             f"<style>{STYLE}</style></head><body>", f"<h1>{esc(title)}</h1>",
             f"<p>Dataset <b>{esc(dataset)}</b> (content fingerprint <code>{esc(fingerprint)}</code>), test split. "
             f"Made by Latent Lab on {esc(time.strftime('%Y-%m-%d %H:%M'))}.</p>",
             "<h2>Measured</h2>", _table(table)]
    if paired is not None:
        parts += [f"<h2>{esc(paired[0])}</h2>", _table(paired[1])]
    if figures:
        parts.append("<h2>Figures</h2>")
        for png, caption in figures:
            uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            parts.append(f"<figure><img src='{uri}' alt='{esc(caption, quote=True)}'>"
                         f"<figcaption>{esc(caption)}</figcaption></figure>")
    parts.append("<h2>Models</h2>")
    for m in models:
        parts.append(f"<h3>{esc(str(m['name']))}</h3><p>Weights SHA-256 <code>{esc(str(m['sha256']))}</code></p>"
                     f"<pre>{esc(json.dumps(m['config'], indent=2, sort_keys=True, default=str))}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")
