"""Plotly figures for the pages: built here so pages stay a list of widgets."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ae.explore.imagegrid import to_uint8

# Class colours (issue 22): Okabe and Ito's palette for colour-blind readers, plus three colours picked to stay apart
# from it and each other under simulated deuteranopia, protanopia and tritanopia (CAM02-UCS, colorspacious). The
# smallest distance between two classes is 21.6 for normal vision, 14.8 with deuteranopia and 14.0 with protanopia
# (Plotly's default, used before: 20.2, 4.3 and 1.6); tests/test_palette.py holds the palette to it. The class is
# also carried by each point's marker shape, its legend entry and its hover text, never by colour alone.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000", "#883300", "#550066",
           "#444444"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "x", "triangle-down", "star", "hexagon",
           "pentagon"]


def class_marker(c: int | None, **style: object) -> dict:
    """A class's marker: its colour and its shape (one home, so every map codes a class the same two ways)."""
    c = c or 0
    return dict(color=PALETTE[c % len(PALETTE)], symbol=SYMBOLS[c % len(SYMBOLS)], **style)


def png_data_uri(image: np.ndarray, colour: str | None = None) -> str:
    """A PNG data URI. A grey image with a colour becomes that colour's strokes on a transparent background, so
    thumbnails on a map show the digit without hiding the points around it."""
    from PIL import Image

    arr = to_uint8(image)
    if colour is not None and arr.ndim == 2:
        rgb = [int(colour[k : k + 2], 16) for k in (1, 3, 5)]
        rgba = np.zeros((*arr.shape, 4), dtype=np.uint8)
        rgba[..., :3] = rgb
        rgba[..., 3] = arr
        arr = rgba
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def latent_scatter(
    coords: np.ndarray,
    labels: np.ndarray | None,
    class_names: list[str],
    axis_titles: tuple[str, str],
    thumbs: tuple[np.ndarray, np.ndarray] | None = None,
    height: int = 620,
) -> go.Figure:
    """A WebGL scatter, one trace per class (so the legend can hide classes), each point carrying its test-set
    index as customdata; thumbs = (indices, images) draws those images at their points."""
    fig = go.Figure()
    idx = np.arange(len(coords))
    groups = [(None, idx)] if labels is None else [(c, idx[labels == c]) for c in np.unique(labels)]
    for c, members in groups:
        name = "all" if c is None else (class_names[c] if c < len(class_names) else str(c))
        fig.add_trace(go.Scattergl(
            x=coords[members, 0], y=coords[members, 1], mode="markers", name=name,
            customdata=members, text=[name] * len(members),
            marker=class_marker(c, size=6, opacity=0.75),
            hovertemplate="class %{text}<br>test image #%{customdata}<extra></extra>",
        ))
    images = []
    if thumbs is not None:
        span = max(np.ptp(coords[:, 0]), np.ptp(coords[:, 1]), 1e-6)
        size = span / 22
        for i, img in zip(*thumbs):
            colour = PALETTE[int(labels[i]) % len(PALETTE)] if labels is not None else "#000000"
            images.append(dict(
                source=png_data_uri(img, colour), xref="x", yref="y", x=float(coords[i, 0]), y=float(coords[i, 1]),
                sizex=size, sizey=size, xanchor="center", yanchor="middle", layer="above",
            ))
    fig.update_layout(
        height=height, dragmode="lasso", margin=dict(l=10, r=10, t=30, b=10), legend_title_text="class",
        xaxis_title=axis_titles[0], yaxis_title=axis_titles[1], hovermode="closest",
        images=images,  # set at once: add_layout_image re-validates the layout on every call (~10 ms each)
    )
    return fig


def loss_chart(history: pd.DataFrame) -> go.Figure:
    """Train and validation loss per epoch, with the reconstruction and regulariser parts when there are any."""
    fig = go.Figure()
    for col, dash in (("train_loss", None), ("val_loss", None), ("train_recon_loss", "dot"),
                      ("train_reg_loss", "dash")):
        if col in history and (col != "train_reg_loss" or history[col].abs().sum() > 0):
            fig.add_trace(go.Scatter(x=history["epoch"], y=history[col], name=col.replace("_", " "),
                                     line=dict(dash=dash)))
    fig.update_layout(height=300, xaxis_title="epoch", yaxis_title="loss per sample",
                      margin=dict(l=10, r=10, t=20, b=10))
    return fig


def psnr_levels_chart(curves: dict[str, dict], level: float, label: str) -> go.Figure:
    """Denoised PSNR against noise level per model, the noisy input's PSNR dashed, the current level marked."""
    fig = go.Figure()
    baseline = None
    for name, curve in curves.items():
        baseline = curve
        fig.add_trace(go.Scatter(x=curve["level"], y=curve["denoised"], mode="lines+markers", name=name))
    if baseline is not None:
        fig.add_trace(go.Scatter(x=baseline["level"], y=baseline["noisy"], mode="lines", name="noisy input",
                                 line=dict(dash="dash", color="grey")))
        fig.add_vline(x=level, line=dict(color="#d62728", width=1), annotation_text="current level")
    fig.update_layout(height=420, xaxis_title=label, yaxis_title="PSNR (dB), higher is better",
                      margin=dict(l=10, r=10, t=30, b=10))
    return fig


MARGIN = dict(l=10, r=10, t=30, b=10)


def error_histogram(errors: np.ndarray, threshold: float) -> go.Figure:
    """The test split's reconstruction errors with the anomaly threshold marked."""
    fig = go.Figure(go.Histogram(x=errors, nbinsx=60, marker_color="#1f77b4", name="test images"))
    fig.add_vline(x=threshold, line=dict(color="#d62728", width=2), annotation_text=f"threshold {threshold:.4f}")
    fig.update_layout(height=300, xaxis_title="reconstruction MSE", yaxis_title="images", margin=MARGIN, bargap=0.05)
    return fig


def roc_chart(fpr: np.ndarray, tpr: np.ndarray, auroc: float) -> go.Figure:
    fig = go.Figure(go.Scatter(x=fpr, y=tpr, mode="lines", name=f"AUROC {auroc:.3f}"))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color="grey"), name="chance"))
    fig.update_layout(height=380, xaxis_title="false positive rate", yaxis_title="true positive rate", margin=MARGIN)
    return fig


def class_scores_chart(scores: np.ndarray, labels: np.ndarray, class_names: list[str], normal: int) -> go.Figure:
    """One box of anomaly scores per class, the normal class in green, on a log axis."""
    fig = go.Figure()
    for c, name in enumerate(class_names):
        fig.add_trace(go.Box(y=scores[labels == c], name=name, boxpoints=False,
                             marker_color="#2ca02c" if c == normal else "#7f7f7f"))
    fig.update_layout(height=380, yaxis_title="score (reconstruction MSE)", xaxis_title="class", showlegend=False,
                      margin=MARGIN, yaxis_type="log")
    return fig


def metric_bars(table: pd.DataFrame, metric: str, note: str) -> go.Figure:
    """Compare's bar chart: one bar per model, coloured by kind."""
    import plotly.express as px

    fig = px.bar(table, x="model", y=metric, color="kind", text_auto=".4g")
    fig.update_layout(height=380, yaxis_title=f"{metric} ({note})" if note else metric, margin=MARGIN)
    return fig


def rate_distortion_chart(rows: pd.DataFrame, metric: str, raw: int) -> go.Figure:
    """Quality against bytes per image, one curve per method (a code's packed, zlib and entropy sizes apart), the
    raw image's size marked; bytes on a log axis since codes and codecs sit orders of magnitude apart."""
    from ae.explore.compress import series

    fig = go.Figure()
    for curve, part in series(rows).groupby("curve", sort=False):
        part = part.sort_values("bytes")
        fig.add_trace(go.Scatter(x=part["bytes"], y=part[metric], mode="lines+markers", name=curve,
                                 text=part["setting"], hovertemplate="%{text}<br>%{x:.1f} bytes, %{y:.3f}"))
    fig.add_vline(x=raw, line=dict(color="grey", dash="dash"), annotation_text=f"raw image: {raw} bytes")
    fig.update_layout(height=460, xaxis_type="log", xaxis_title="bytes per image (log scale)",
                      yaxis_title="PSNR (dB)" if metric == "psnr" else "SSIM", margin=MARGIN, legend_title_text="")
    return fig


def probe_chart(summary: pd.DataFrame, probe: str) -> go.Figure:
    """Test accuracy against labels per class for one probe, a line per feature set, the spread over seeds as
    error bars."""
    fig = go.Figure()
    part = summary[summary["probe"] == probe]
    for name, rows in part.groupby("features", sort=False):
        labels = [str(v) for v in rows["labels"]]
        fig.add_trace(go.Scatter(x=labels, y=rows["mean"], error_y=dict(type="data", array=rows["std"]),
                                 mode="lines+markers", name=name))
    fig.update_layout(height=400, xaxis_title="labelled training samples per class", yaxis_title="test accuracy",
                      xaxis_type="category", margin=MARGIN, legend_title_text="features")
    return fig


def confusion_chart(matrix: np.ndarray, class_names: list[str]) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=matrix, x=class_names, y=class_names, colorscale="Blues", text=matrix,
                               texttemplate="%{text}", showscale=False))
    fig.update_layout(height=420, xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed",
                      margin=MARGIN, xaxis_type="category", yaxis_type="category")
    return fig


def film_frame(frames: np.ndarray, epoch: int, labels: np.ndarray | None, class_names: list[str],
               height: int = 560) -> go.Figure:
    """One epoch of the training recording (frames [epochs, n, 2], epoch from 1): the map by class, its axes fixed
    over the whole film so the points move and the frame does not."""
    lim = float(np.abs(frames).max()) * 1.05 or 1.0
    fig = latent_scatter(frames[epoch - 1], labels, class_names, ("PC 1 (aligned)", "PC 2 (aligned)"), height=height)
    fig.update_layout(title_text=f"epoch {epoch} of {len(frames)}", margin=dict(l=10, r=10, t=40, b=10),
                      xaxis=dict(range=[-lim, lim], zeroline=False), dragmode=False, uirevision="film",
                      yaxis=dict(range=[-lim, lim], zeroline=False, scaleanchor="x"))
    return fig


def drawing_map(coords: np.ndarray, labels: np.ndarray | None, class_names: list[str], axis_titles: tuple[str, str],
                point: np.ndarray, nearest: np.ndarray, height: int = 520) -> go.Figure:
    """The test codes' map with a drawing on it: a star at its place, rings around its nearest test codes."""
    fig = latent_scatter(coords, labels, class_names, axis_titles, height=height)
    fig.add_trace(go.Scattergl(x=coords[nearest, 0], y=coords[nearest, 1], mode="markers", name="nearest",
                               marker=dict(size=13, color="rgba(0,0,0,0)", line=dict(width=2, color="black")),
                               hoverinfo="skip"))
    fig.add_trace(go.Scattergl(x=[float(point[0])], y=[float(point[1])], mode="markers", name="your drawing",
                               marker=dict(size=22, symbol="star", color="gold", line=dict(width=2, color="black")),
                               hovertemplate="your drawing<extra></extra>"))
    fig.update_layout(dragmode="pan")
    return fig


def class_drawings_map(coords: np.ndarray, labels: np.ndarray | None, class_names: list[str],
                       axis_titles: tuple[str, str], places: np.ndarray, images: list[np.ndarray], names: list[str],
                       height: int = 620) -> go.Figure:
    """The test codes' map with the class's drawings on it: each drawing's thumbnail at its place, framed, with the
    student's name (issue 20's class map)."""
    fig = latent_scatter(coords, labels, class_names, axis_titles, height=height)
    fig.update_traces(marker=dict(size=5, opacity=0.35))
    span = max(np.ptp(coords[:, 0]), np.ptp(coords[:, 1]), 1e-6)
    size = span / 14
    fig.update_layout(images=[  # at once, as in latent_scatter: 30 add_layout_image calls took ~90 ms
        dict(source=png_data_uri(image, "#000000"), xref="x", yref="y", x=float(x), y=float(y), sizex=size,
             sizey=size, xanchor="center", yanchor="middle", layer="above")
        for (x, y), image in zip(places, images)])
    fig.add_trace(go.Scatter(x=places[:, 0], y=places[:, 1], mode="markers+text", name="the class's drawings",
                             text=names, textposition="top center", textfont=dict(size=13, color="#111111"),
                             marker=dict(size=10, symbol="star", color="#f5c518", line=dict(width=1, color="black")),
                             hovertemplate="%{text}<extra></extra>"))
    fig.update_layout(dragmode="pan")
    return fig


def twin_map(coords: np.ndarray, labels: np.ndarray | None, class_names: list[str], axis_titles: tuple[str, str],
             title: str, agreement: np.ndarray | None = None, brushed: np.ndarray | None = None,
             height: int = 460) -> go.Figure:
    """One of Compare's two aligned maps: by class, or coloured by a per-image agreement in [0, 1] (viridis, readable
    with every common colour-vision deficiency); the brushed images ringed in black on both maps. Every point
    carries its test index as customdata, so a selection in one map names the same images in the other."""
    fig = latent_scatter(coords, labels if agreement is None else None, class_names, axis_titles, height=height)
    fig.update_traces(marker=dict(size=5))
    if agreement is not None:  # latent_scatter's one trace of every point, recoloured
        fig.update_traces(text=[f"{v:.0%}" for v in agreement],
                          marker=dict(color=agreement, colorscale="Viridis", cmin=0, cmax=1, opacity=1,
                                      colorbar=dict(title="shared<br>neighbours", tickformat=".0%")),
                          hovertemplate="test image #%{customdata}<br>shared neighbours %{text}<extra></extra>")
    if brushed is not None and len(brushed):
        fig.add_trace(go.Scattergl(x=coords[brushed, 0], y=coords[brushed, 1], mode="markers", name="selected",
                                   customdata=brushed, marker=dict(size=10, color="rgba(0,0,0,0)",
                                                                   line=dict(width=2, color="black")),
                                   hovertemplate="selected: test image #%{customdata}<extra></extra>"))
    fig.update_layout(title=dict(text=title, x=0.01, font=dict(size=14)), dragmode="lasso",
                      showlegend=agreement is None)
    return fig
