"""Compare: several models on the same test images, side by side, with their measured numbers."""

import numpy as np
import pandas as pd
import streamlit as st

from ae.explore.analyses import ONE_CLASS_TRAIN
from ae.explore.analysis import ReconReport, choose_images
from ae.explore.anomaly import ONE_CLASS_EPOCHS
from ae.explore.decision import decision_kinds
from ae.explore.paired import differ_most
from ae.registry import variant_title
from ae.store.checkpoints import CheckpointError
from ui import share
from ui.analysis import need, need_some, stored
from ui.brushing import brushed_points
from ui.cache import (
    AXES,
    MAP_METHODS,
    catalog,
    decision_numbers,
    load_model,
    map_choices,
    paired_comparison,
    reconstruct_images,
    test_errors,
    timed_on,
    twin_maps,
)
from ui.describe import chart, selection_text
from ui.images import show, tile_png
from ui.plots import metric_bars, twin_map
from ui.reports import compare_report
from ui.shell import ensure_shell
from ui.state import current_dataset

ensure_shell()

TWIN_COLOURS = ("class", "shared neighbours", "map faithfulness")
ASKED = "_cmp_detectors_asked"  # this session asked for the designs' one-class detectors
PAIRED_NAMES = {"mse": "MSE", "psnr": "PSNR (dB)", "ssim": "SSIM"}
METRICS = {"test MSE": "lower is better", "PSNR dB": "higher is better", "SSIM": "higher is better",
           "kNN-5 accuracy": "higher is better", "linear probe accuracy": "higher is better",
           "bytes per image (8 bits)": "lower is better", "one-class mean AUROC": "higher is better",
           "inference ms / 1,000": "lower is better",
           "parameters": "", "train seconds": ""}

st.title("Compare")
data = current_dataset()
compatible = {e.key: e for e in catalog() if not e.error and tuple(e.input_shape) == tuple(data.input_shape)}
if not compatible:
    st.warning(f"No model reads {data.name}'s inputs; train one on the Train page.")
    st.stop()
if len(compatible) < 2:
    st.info(f"Only one model reads {data.name}'s inputs; train another on the Train page to compare them.")
default = [k for k in ("pretrained/conv-ae-16", "pretrained/conv-dae-16", "pretrained/conv-vae-16",
                       "pretrained/dense-ae-16") if k in compatible] or list(compatible)[:2]
picked = share.multiselect("Models", list(compatible), default, key="cmp_models",
                           format_func=lambda k: compatible[k].name)
if len(picked) < 1:
    st.info("Pick at least one model.")
    st.stop()

c1, c2 = st.columns([3, 1])
n = share.slider("Images", 4, 16, 10, key="cmp_n", on=c1)
seed = share.number_input("Seed", 0, 10_000, 0, key="cmp_seed", on=c2)
idx = choose_images(np.zeros(len(data.x_test)), n, "random", seed=int(seed))  # a seeded random draw

rows, grids, captions = [], [], []
if data.kind == "image":
    grids.append(tile_png(data.test_x(idx).numpy(), n, 1, 3))
    captions.append("originals")
loaded = {}
for k in picked:
    e = compatible[k]
    try:
        loaded[k] = load_model(e.path, e.stamp)[1]
    except CheckpointError as err:
        st.error(f"{e.name} cannot be loaded: {err}")
reports = need(data, *[("recon", compatible[k].path) for k in loaded])  # each model's errors, computed once
wanted = {k: decision_kinds(compatible[k].arch, data) for k in loaded}  # the table's other columns, when stored
need_some(data, *[(kind, compatible[k].path) for k in loaded for kind in wanted[k]
                  if not kind.startswith("detector-")])
detectors = [(kind, compatible[k].path) for k in loaded for kind in wanted[k] if kind.startswith("detector-")]
untrained = sum(stored(kind, path, data) is None for kind, path in detectors)
if untrained and not st.session_state.get(ASKED):  # trainings hold the shared analysis worker: only when asked
    st.button(f"Measure the one-class AUROC of these designs ({untrained} trainings on the analysis worker, "
              "in the background)", key="cmp_detectors", icon=":material/model_training:",
              on_click=st.session_state.__setitem__, args=(ASKED, True))
elif untrained:
    need_some(data, *detectors, background=True,
              together="One-class detectors of each design (a training per class and model)")
with st.spinner(f"Rebuilding the same {n} test images with each of the {len(loaded)} models…"):
    for k, recon in zip(loaded, reports):
        e, meta = compatible[k], loaded[k]
        rep = ReconReport.of(recon.arrays)
        whole = rep.summary()
        if data.kind == "image":
            shown = reconstruct_images(e.path, e.stamp, data.name, tuple(int(i) for i in idx))
            grids.append(tile_png(shown, n, 1, 3))
            captions.append(f"{e.name} (MSE on these: {rep.summary(idx)['mse']:.4f})")
        same_data = meta.get("dataset", {}).get("name") == data.name
        rows.append({
            "model": e.name, "kind": variant_title(e.variant), "arch": e.arch, "latent": e.latent_dim,
            "parameters": e.parameters, "test MSE": whole["mse"], "PSNR dB": whole.get("psnr"),
            "SSIM": whole.get("ssim"),
            **decision_numbers(e.path, e.arch, data.name),
            "ELBO nats": meta.get("metrics", {}).get("elbo") if same_data else None,
            "train seconds": meta.get("train_seconds"), "trained on": f"{meta.get('train_device', '?')}, "
            f"{meta.get('dataset', {}).get('name', '?')}",
        })
if grids:
    show(grids, captions, "content")

table = pd.DataFrame(rows).replace([np.inf, -np.inf], np.nan)
st.subheader("Measured on the test split")
st.dataframe(table, hide_index=True, key="cmp_table", placeholder="—", column_config={
    "test MSE": st.column_config.NumberColumn(format="%.4f"), "PSNR dB": st.column_config.NumberColumn(format="%.2f"),
    "SSIM": st.column_config.NumberColumn(format="%.3f"), "ELBO nats": st.column_config.NumberColumn(format="%.1f"),
    "train seconds": st.column_config.NumberColumn(format="%.0f"),
    "parameters": st.column_config.NumberColumn(format="localized"),
    "kNN-5 accuracy": st.column_config.NumberColumn(format="%.3f"),
    "linear probe accuracy": st.column_config.NumberColumn(format="%.3f"),
    "bytes per image (8 bits)": st.column_config.NumberColumn(format="%.1f"),
    "PSNR at 8 bits": st.column_config.NumberColumn(format="%.2f"),
    "one-class mean AUROC": st.column_config.NumberColumn(format="%.3f"),
    "inference ms / 1,000": st.column_config.NumberColumn(format="%.0f"),
})
st.caption(f"MSE, PSNR and SSIM measured once on all {len(data.x_test):,} {data.name} test images; kNN-5 and "
           "linear-probe accuracy with all training labels (as on Features); bytes per image with the code at 8 bits, "
           "entropy-coded, and the PSNR it keeps (as on Compress); one-class mean AUROC: the model's design trained "
           f"afresh on each class alone (at most {ONE_CLASS_TRAIN:,} images, {ONE_CLASS_EPOCHS} epochs), its "
           "reconstruction error scoring the test "
           "images, averaged over the classes (as on Anomalies, whose detectors are one small design); inference "
           "time to encode and decode 1,000 test images, the best of 3 after a warm-up, on the analysis worker ("
           + ("; ".join(timed_on([compatible[k].path for k in loaded], data.name)) or "not timed yet")
           + "); ELBO and training time as recorded when each model was trained.")
broken = [r["model"] for r in rows if not np.isfinite(r["test MSE"])]
if broken:
    st.warning(f"{', '.join(broken)} give non-finite reconstructions of {data.name} (overflow on inputs far from "
               "what they were trained on); their numbers are left empty.")
available = [k for k in METRICS if k in table and table[k].notna().any()]
if not available:
    st.stop()
metric = share.segmented_control("Bar chart of", available, available[0], key="cmp_metric")
chart(metric_bars(table, metric, METRICS[metric]), "cmp_chart", note=f"{metric}: {METRICS[metric] or 'as measured'}.")
d1, d2 = st.columns(2)
d1.download_button("Download the table (CSV)", table.to_csv(index=False).encode(), f"latent-lab-{data.name}.csv",
                   "text/csv", key="cmp_csv")


keys = list(loaded)
two = len(keys) >= 2 and data.kind == "image"  # then two of them are set A against B below
if two:
    for i, k in enumerate(("cmp_a", "cmp_b")):  # the first two models until picked, and when a pick leaves the list
        if st.session_state.get(k) not in keys:
            st.session_state[k] = keys[i]
pair = [compatible[st.session_state[k]] for k in ("cmp_a", "cmp_b")] if two else []
d2.download_button("Download the report (HTML, opens offline)",
                   lambda: compare_report(data, table, list(zip(grids, captions)), [compatible[k] for k in keys], pair),
                   f"latent-lab-{data.name}-report.html", "text/html", key="cmp_report")

if two:
    st.subheader("Two models, image by image")
    c1, c2 = st.columns(2)
    ka = share.selectbox("Model A", keys, key="cmp_a", on=c1, format_func=lambda k: compatible[k].name)
    kb = share.selectbox("Model B", keys, key="cmp_b", on=c2, format_func=lambda k: compatible[k].name)
    if ka == kb:
        st.info("Pick two different models for A and B.")
        st.stop()
    ea, eb = compatible[ka], compatible[kb]
    paired = paired_comparison(ea.path, ea.stamp, eb.path, eb.stamp, data.name)
    for _, r in paired[paired["images"] == "all"].iterrows():
        verdict = {"A": f"**{ea.name}** is better", "B": f"**{eb.name}** is better",
                   "no clear difference": "no clear difference"}[r["better"]]
        st.markdown(f"- **{PAIRED_NAMES[r['metric']]}**: A {r['A']:.4g}, B {r['B']:.4g}; A − B = {r['A - B']:+.4g} "
                    f"(95% interval {r['95% low']:+.4g} to {r['95% high']:+.4g}): {verdict}")
    st.caption(f"Paired bootstrap: the {len(data.x_test):,} test images resampled 2,000 times (seed 0), each image's "
               "two errors kept together, so an image hard for both models does not widen the interval. A "
               "difference is called only when its interval excludes 0.")
    st.dataframe(paired, hide_index=True, key="cmp_paired", column_config={
        c: st.column_config.NumberColumn(format="%.4g") for c in ("A", "B", "A - B", "95% low", "95% high")})
    st.download_button("Download A against B (CSV)", paired.to_csv(index=False).encode(),
                       f"latent-lab-{ea.name}-vs-{eb.name}.csv", "text/csv", key="cmp_paired_csv")
    err_a, err_b = test_errors(ea.path, data.name), test_errors(eb.path, data.name)
    a_wins, b_wins = differ_most(err_a, err_b, k=8)
    st.markdown("**Where they differ most**")
    for title, idx in ((f"{ea.name} beats {eb.name} by the most", a_wins),
                       (f"{eb.name} beats {ea.name} by the most", b_wins)):
        strips = [tile_png(data.test_x(idx).numpy(), len(idx), 1, 3)]
        for e in (ea, eb):
            strips.append(tile_png(reconstruct_images(e.path, e.stamp, data.name, tuple(int(i) for i in idx)),
                                   len(idx), 1, 3))
        gaps = ", ".join(f"#{i} {err_a[i]:.4f}/{err_b[i]:.4f}" for i in idx)
        show(strips, [f"{title}: the test images", f"{ea.name}'s rebuilds", f"{eb.name}'s rebuilds"], "content",
             alt=[f"{title}: {len(idx)} test images (MSE of A/B: {gaps})", f"{ea.name}'s rebuilds of them",
                  f"{eb.name}'s rebuilds of them"])

    st.subheader("Two latent spaces side by side")
    need(data, ("maps", ea.path), ("maps", eb.path))
    options = [m for m in map_choices(min(ea.latent_dim, eb.latent_dim))[0] if MAP_METHODS[m] != "raw"]
    c1, c2 = st.columns(2)
    method_name = share.segmented_control("Map", options, "PCA", key="cmp_twin_map", on=c1)
    colour = share.segmented_control("Colour", list(TWIN_COLOURS), "class", key="cmp_twin_colour", on=c2,
                                     help="shared neighbours: of each image's 10 nearest test images in A's codes, "
                                          "how many are among its 10 nearest in B's")
    method = MAP_METHODS[method_name]
    map_a, map_b, agree = twin_maps(ea.path, ea.stamp, eb.path, eb.stamp, data.name, method)
    brushed = brushed_points(("cmp_twin_a", "cmp_twin_b"))
    labels = data.y_test.numpy() if data.y_test is not None else None
    values = {"class": (None, None), "shared neighbours": (agree.between, agree.between),
              "map faithfulness": (agree.map_a, agree.map_b)}[colour]
    m1, m2 = st.columns(2)
    for col, key, title, coords, v in ((m1, "cmp_twin_a", f"A: {ea.name}", map_a, values[0]),
                                       (m2, "cmp_twin_b", f"B: {eb.name} (aligned onto A)", map_b, values[1])):
        fig = twin_map(coords, labels, data.class_names, AXES[method], title, v, brushed)
        chart(fig, key, target=col, on_select="rerun", selection_mode=("box", "lasso"),
              selection=lambda _ev: selection_text(brushed, labels, data.class_names))
    st.caption(f"{method_name} maps of the same {len(map_a):,} test images; B's map is turned, mirrored and scaled "
               "onto A's (orthogonal Procrustes), so an image sits in comparable places. Select points with the "
               "lasso or box in either map: the same images are ringed in both.")
    st.markdown(f"**Shared neighbours** (k = {agree.k}): on average **{agree.between.mean():.0%}** of an image's "
                f"nearest test images in A's codes are among its nearest in B's. **Map faithfulness** "
                f"(trustworthiness of each 2-D map to its codes): A {agree.trust_a:.3f}, B {agree.trust_b:.3f}.")
    if brushed is not None and len(brushed):
        st.caption(f"{len(brushed)} selected: shared neighbours {agree.between[brushed].mean():.0%} on average.")
    disputed = agree.most_disputed(8)
    show(tile_png(data.test_x(disputed).numpy(), len(disputed), 1, 3),
         f"The {len(disputed)} test images the two models disagree on most: "
         + ", ".join(f"#{i} ({agree.between[i]:.0%})" for i in disputed),
         alt=f"{len(disputed)} test images whose neighbours in {ea.name} and {eb.name} differ most; shared "
             f"neighbours {agree.between[disputed].min():.0%} to {agree.between[disputed].max():.0%}")
