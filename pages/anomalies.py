"""Anomalies: reconstruction error as an anomaly score, a threshold, and the one-class demonstration."""

import numpy as np
import streamlit as st

from ae.data.imageio import MAX_UPLOAD_BYTES, prepare_image
from ae.errors import InputError
from ae.explore.analysis import ReconReport, recon_table
from ae.explore.anomaly import DEEP_SVDD_MNIST, MIN_NORMAL, flagged, scores
from ui import share
from ui.analysis import need
from ui.cache import one_class_model, reconstruct_images
from ui.describe import chart
from ui.images import pairs
from ui.plots import class_scores_chart, error_histogram, roc_chart
from ui.shell import ensure_shell
from ui.state import current_selection

ensure_shell()

st.title("Anomalies")
sel = current_selection()
data, entry = sel.data, sel.entry
st.caption("An autoencoder rebuilds what looks like its training data well and the unfamiliar badly, so the "
           "reconstruction error is an anomaly score: the higher, the stranger.")

st.subheader(f"Which test images does {entry.name} rebuild worst?")
(recon,) = need(data, ("recon", entry.path))
report = ReconReport.of(recon.arrays)
pct = share.slider("Flag images above this percentile of the error", 80.0, 99.9, 97.0, 0.1, key="an_pct")
thr, idx = flagged(report.mse, pct)
chart(error_histogram(report.mse, thr), "an_hist")
labels = data.y_test.numpy() if data.y_test is not None else None
st.caption(f"{len(idx)} of {len(report.mse):,} test images are above {thr:.4f}; the worst 24 are shown.")
shown = idx[:24]
x_hat = reconstruct_images(entry.path, entry.stamp, data.name, tuple(int(k) for k in shown)) if len(idx) else None
if data.kind == "image" and len(idx):
    caps = [f"#{k}" + (f" · {data.class_names[labels[k]]}" if labels is not None else "") + f" · {report.mse[k]:.4f}"
            for k in shown]
    pairs(data.test_x(shown).numpy(), x_hat, caps)
elif len(idx):
    st.dataframe(recon_table(data, shown, x_hat), key="an_flagged_table")

st.divider()
st.subheader("One-class detection")
if labels is None:
    st.info("The one-class demonstration needs labels, to choose which class is normal.")
    st.stop()
st.caption("Pick a 'normal' class: a small autoencoder is trained on that class alone (once per dataset, by the "
           "analysis worker, then kept for everyone) and scores every test image. Good separation means the other "
           "classes get higher errors.")
normal_name = share.selectbox("Normal class", data.class_names, index=0, key="an_normal")
normal = data.class_names.index(normal_name)
if int((data.y_train == normal).sum()) < MIN_NORMAL:
    st.warning(f"**No one-class model for {normal_name}:** the class has only {int((data.y_train == normal).sum())} "
               f"training samples; at least {MIN_NORMAL} are needed to learn what normal looks like. Pick another "
               "class.")
    st.stop()
(oc,) = need(data, (f"oneclass-{normal}", None))
auroc, oc_scores = oc.info["auroc"], oc.arrays["scores"]
a1, a2, a3 = st.columns(3)
separable = auroc is not None and not np.isnan(auroc)
a1.metric("AUROC", f"{auroc:.3f}" if separable else "—",
          help="area under the ROC curve: 1 = perfect separation, 0.5 = chance")
if data.name.startswith("mnist") and normal < len(DEEP_SVDD_MNIST):
    a2.metric("Deep SVDD (published, full MNIST)", f"{DEEP_SVDD_MNIST[normal] / 100:.3f}",
              help="Ruff et al., ICML 2018, Table 1; trained on ~6,000 images of the class, not "
                   f"{oc.info['train_images']:,}")
a3.metric("Training time", f"{oc.info['train_seconds']:.1f} s",
          help=f"on {oc.info['train_images']:,} training images of class {normal_name}, measured when it was trained")

if not separable:
    has = f"no images of class {normal_name}" if not (labels == normal).any() else f"only images of class {normal_name}"
    st.info(f"The {data.name} test split has {has}, so there is nothing to separate: AUROC needs normal images and "
            "others.")
g1, g2 = st.columns(2)
chart(roc_chart(oc.arrays["fpr"], oc.arrays["tpr"], auroc), "an_roc", target=g1)
chart(class_scores_chart(oc_scores, labels, data.class_names, normal), "an_box", target=g2)

st.markdown("**Inputs from outside the data**")
typical = float(np.median(oc_scores[labels == normal]))
rows = [{"input": f"test images of class {normal_name} (normal)", "median score": typical}]
rows.append({"input": "other test classes", "median score": float(np.median(oc_scores[labels != normal]))})
for what, median in oc.info["outside"].items():
    name = ("uniform noise " + ("images" if data.kind == "image" else "rows")) if what == "noise" else \
        f"{what} test images"
    rows.append({"input": name, "median score": median})
if oc.info.get("outside_note"):
    st.caption(oc.info["outside_note"])
up = None
if data.kind == "image":
    up = st.file_uploader(f"Score your own image (PNG or JPEG, up to {MAX_UPLOAD_BYTES // 2**20} MB)",
                          type=["png", "jpg", "jpeg"], key="an_upload")
if up is not None:
    try:
        x, notes = prepare_image(up.getvalue(), data.input_shape)
    except InputError as e:
        st.error(f"**{up.name} cannot be used:** {e}")
    else:
        rows.append({"input": f"your image {up.name}", "median score": float(scores(one_class_model(data.name,
                                                                                                   normal), x)[0])})
for r in rows:
    r["× normal"] = r["median score"] / typical
st.dataframe(rows, hide_index=True, key="an_ood", column_config={
    "median score": st.column_config.NumberColumn(format="%.4f"),
    "× normal": st.column_config.NumberColumn(format="%.1f×")})
