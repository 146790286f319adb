"""Charts that speak (issue 22): a Plotly chart is pixels or WebGL to a screen reader, so every chart the pages draw
goes through `chart`, which puts a "Describe this chart" toggle under it: a few sentences read off the figure itself
(what is plotted, the ranges, each class's centre and spread on a map, the closest classes, the selection), a table
of each trace, and the plotted numbers as CSV. Read off the figure, the text cannot drift from what is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import streamlit as st

MAX_NAMED = 12  # bars or classes named one by one in the text; beyond, the table has them


def _num(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1e4 else f"{v:,.0f}"


def _axis(fig, which: str) -> str:
    title = getattr(getattr(fig.layout, which).title, "text", None)
    return title or which[0]


def _values(a) -> np.ndarray:
    return np.asarray(a if a is not None else [], dtype=object)


def _floats(a) -> np.ndarray | None:
    try:
        out = np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        return None
    return out if out.size and np.isfinite(out).any() else None


def _points(trace) -> tuple[np.ndarray, np.ndarray]:
    return _values(getattr(trace, "x", None)), _values(getattr(trace, "y", None))


def describe(fig, selection: str = "") -> tuple[str, pd.DataFrame]:
    """(sentences, one row per trace) about a Plotly figure."""
    title = getattr(fig.layout.title, "text", None)
    xt, yt = _axis(fig, "xaxis"), _axis(fig, "yaxis")
    rows, sentences, centres = [], [], {}
    for t in fig.data:
        name, kind = t.name or t.type, t.type
        if kind == "heatmap":
            z = np.asarray(t.z, dtype=float)
            i, j = np.unravel_index(np.nanargmax(z), z.shape)
            ys, xs = _values(t.y), _values(t.x)
            where = f" (row {ys[i] if len(ys) > i else i}, column {xs[j] if len(xs) > j else j})"
            of = "" if name == "heatmap" else f" of {name}"
            sentences.append(f"a {z.shape[0]} by {z.shape[1]} grid{of}: values {_num(np.nanmin(z))} to "
                             f"{_num(np.nanmax(z))}, the highest{where}")
            rows.append({"trace": name, "kind": "grid", "points": int(z.size), "min": np.nanmin(z),
                         "max": np.nanmax(z)})
            continue
        x, y = _points(t)
        if kind in ("box", "histogram"):
            v = _floats(y if len(y) else x)
            if v is None:
                continue
            q1, med, q3 = np.nanpercentile(v, [25, 50, 75])
            sentences.append(f"{name}: {len(v):,} values from {_num(np.nanmin(v))} to {_num(np.nanmax(v))}, median "
                             f"{_num(med)} (middle half {_num(q1)} to {_num(q3)})")
            rows.append({"trace": name, "kind": kind, "points": len(v), "min": np.nanmin(v), "max": np.nanmax(v),
                         "median": med})
            continue
        fx, fy = _floats(x), _floats(y)
        if kind == "bar":
            named = list(zip(x, y))
            text = ", ".join(f"{a}: {_num(float(b))}" for a, b in named[:MAX_NAMED] if b is not None)
            sentences.append(f"bars of {name} by {xt}: {text}" + (" and more (see the table)" if len(named) >
                                                                    MAX_NAMED else ""))
            rows.append({"trace": name, "kind": "bars", "points": len(named),
                         "min": None if fy is None else np.nanmin(fy), "max": None if fy is None else np.nanmax(fy)})
            continue
        if fx is None or fy is None:
            continue
        mode = getattr(t, "mode", None) or "lines"
        row = {"trace": name, "kind": "line" if "lines" in mode else "points", "points": len(fx),
               "x min": np.nanmin(fx), "x max": np.nanmax(fx), "y min": np.nanmin(fy), "y max": np.nanmax(fy)}
        rows.append(row)
        if "lines" in mode and len(fx) > 1:
            hi, lo = int(np.nanargmax(fy)), int(np.nanargmin(fy))
            ends = {0, len(fy) - 1}
            extremes = ", ".join(f"{what} {_num(fy[i])} at {_num(fx[i])}" for what, i in (("highest", hi),
                                                                                       ("lowest", lo)) if i not in ends)
            sentences.append(f"{name}: a line over {xt} {_num(fx[0])} to {_num(fx[-1])}, {yt} from {_num(fy[0])} to "
                             f"{_num(fy[-1])}" + (f" ({extremes})" if extremes else ""))
        elif len(fx) >= 5:
            centres[name] = (np.nanmean(fx), np.nanmean(fy), float(np.nanmean([np.nanstd(fx), np.nanstd(fy)])),
                             len(fx))
        else:
            sentences.append(f"{name}: " + ", ".join(f"({_num(a)}, {_num(b)})" for a, b in zip(fx, fy)))
    if centres:
        sentences.append(_clusters(centres, xt, yt, rows))
    marks = [a.text for a in fig.layout.annotations if getattr(a, "text", None)]
    if marks:
        sentences.append("marked: " + "; ".join(m.replace("<br>", " ") for m in marks))
    head = (f"{title}. " if title else "") + f"{yt} against {xt}."
    body = " ".join(s[0].upper() + s[1:] + "." for s in sentences if s)
    return " ".join(p for p in (head, body, selection) if p), pd.DataFrame(rows)


def _clusters(centres: dict[str, tuple[float, float, float, int]], xt: str, yt: str, rows: list[dict]) -> str:
    """A map's groups: how many points, where each group's centre is, the tightest and the most spread, the two
    groups whose centres are closest (where they mix)."""
    n = sum(c[3] for c in centres.values())
    xs = [r for r in rows if r["kind"] == "points"]
    span = (f"{xt} {_num(min(r['x min'] for r in xs))} to {_num(max(r['x max'] for r in xs))}, {yt} "
            f"{_num(min(r['y min'] for r in xs))} to {_num(max(r['y max'] for r in xs))}")
    if len(centres) == 1:
        return f"{n:,} points over {span}"
    order = sorted(centres, key=lambda k: centres[k][2])
    names = list(centres)
    pts = np.array([centres[k][:2] for k in names])
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1) + np.eye(len(names)) * 1e18
    a, b = np.unravel_index(np.argmin(d), d.shape)
    where = "; ".join(f"{k} at ({_num(centres[k][0])}, {_num(centres[k][1])})" for k in names[:MAX_NAMED])
    return (f"{n:,} points in {len(centres)} groups over {span}. Group centres: {where}. Tightest: "
            f"{', '.join(order[:2])}; most spread: {', '.join(order[-2:][::-1])}. Closest centres, where they mix "
            f"most: {names[a]} and {names[b]}")


def data_of(fig) -> pd.DataFrame:
    """Every plotted number, long form: trace, x, y (and the test image's index where the points carry one)."""
    parts = []
    for t in fig.data:
        name = t.name or t.type
        if t.type == "heatmap":
            z = np.asarray(t.z, dtype=float)
            ys = list(t.y) if t.y is not None else list(range(z.shape[0]))
            xs = list(t.x) if t.x is not None else list(range(z.shape[1]))
            parts.append(pd.DataFrame({"trace": name, "y": np.repeat(ys, len(xs)), "x": np.tile(xs, len(ys)),
                                       "value": z.ravel()}))
            continue
        x, y = _points(t)
        n = max(len(x), len(y))
        if not n:
            continue
        frame = {"trace": [name] * n, "x": x if len(x) == n else [None] * n, "y": y if len(y) == n else [None] * n}
        custom = getattr(t, "customdata", None)
        if custom is not None and np.ndim(custom) == 1 and len(custom) == n:
            frame["test image"] = list(custom)
        parts.append(pd.DataFrame(frame))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def chart(fig, key: str, *, target=st, selection: Callable[[object], str] | None = None, note: str = "",
          **kwargs):
    """st.plotly_chart(fig, key=key, **kwargs) on `target`, then its description behind a toggle; returns what
    st.plotly_chart returns (the selection event when on_select is set). `note`: a sentence the figure cannot say
    (what a good value is); `selection(event)`: what is selected, in words."""
    from ui.projector import enlarged

    event = target.plotly_chart(enlarged(fig), key=key, **kwargs)
    with target.expander("Describe this chart", icon=":material/description:"):
        text, table = describe(fig, selection(event) if selection else "")
        st.markdown(" ".join(p for p in (note, text) if p))
        if not table.empty:
            st.dataframe(table, hide_index=True, key=f"{key}_described")
        st.download_button("Download the chart's numbers (CSV)", lambda: data_of(fig).to_csv(index=False).encode(),
                           f"{key}.csv", "text/csv", key=f"{key}_numbers", on_click="ignore")
    return event


def selection_text(indices: Sequence[int] | np.ndarray | None, labels: np.ndarray | None,
                   class_names: list[str]) -> str:
    """"Selected: 42 test images, mostly 1 (80%), then 7 (12%)." (empty when nothing is selected)."""
    if indices is None or not len(indices):
        return ""
    idx = np.asarray(indices, dtype=int)
    if labels is None:
        return f"Selected: {len(idx):,} test images."
    counts = pd.Series(labels[idx]).value_counts()
    top = [f"{class_names[int(c)] if int(c) < len(class_names) else c} ({k / len(idx):.0%})"
           for c, k in counts.head(2).items()]
    return f"Selected: {len(idx):,} test images, mostly {top[0]}" + (f", then {top[1]}" if len(top) > 1 else "") + "."
