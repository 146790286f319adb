"""Reconstructions: originals beside what the model rebuilds, each with its error; and the user's own image."""

import numpy as np
import streamlit as st

from ae.data.imageio import MAX_UPLOAD_BYTES, prepare_image
from ae.errors import InputError
from ae.explore.analysis import ORDERS, ReconReport, choose_images, recon_table
from ae.explore.imagegrid import tile
from ae.explore.metrics import mse_per_sample, psnr_per_sample, reconstruct
from ae.store.export import png_bytes
from ui import share
from ui.analysis import need
from ui.cache import reconstruct_images
from ui.images import big, pairs
from ui.shell import ensure_shell
from ui.state import current_selection

ensure_shell()

st.title("Reconstructions")
sel = current_selection()
data = sel.data
st.caption(f"**{sel.entry.name}** on the **{data.name}** test split ({len(data.x_test):,} images). "
           "Each pair: the original on top, the model's reconstruction below, and that image's error.")

(recon,) = need(data, ("recon", sel.entry.path))
report = ReconReport.of(recon.arrays)
whole = report.summary()
m1, m2, m3, m4 = st.columns(4)
m1.metric("Test MSE", f"{whole['mse']:.4f}", help="mean squared error per pixel (per feature for tables), whole "
          "test split")
m2.metric("Test PSNR", f"{whole['psnr']:.2f} dB" if "psnr" in whole else "—",
          help="peak signal-to-noise ratio, mean over images")
m3.metric("Test SSIM", f"{whole['ssim']:.3f}" if "ssim" in whole else "—", help="structural similarity (1 = same)")
m4.metric("Samples", f"{len(data.x_test):,}")

c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
n = share.slider("How many", 4, 48, 16, 4, key="rec_n", on=c1)
classes = ["all", *data.class_names] if data.y_test is not None else ["all"]
cls_name = share.selectbox("Class", classes, key="rec_class", on=c2)
order = share.segmented_control("Which", ORDERS, "random", key="rec_order", on=c3,
                             help="a random draw, or the images the model rebuilds best or worst")
seed = share.number_input("Seed", 0, 10_000, 0, key="rec_seed", on=c4, help="change for another random draw")

cls = None if cls_name == "all" else data.class_names.index(cls_name)
labels = data.y_test.numpy() if data.y_test is not None else None
idx = choose_images(report.mse, n, order, labels, cls, int(seed))
shown = report.summary(idx)
st.caption(f"Shown: {len(idx)} {'images' if data.kind == 'image' else 'rows'}, mean MSE {shown['mse']:.4f}"
           + (f", PSNR {shown['psnr']:.2f} dB" if "psnr" in shown else "")
           + (f", SSIM {shown['ssim']:.3f}" if "ssim" in shown else ""))
captions = [
    f"#{i}" + (f" · {data.class_names[labels[i]]}" if labels is not None else "") + f" · MSE {report.mse[i]:.4f}"
    for i in idx
]
x_hat = reconstruct_images(sel.entry.path, sel.entry.stamp, data.name, tuple(int(i) for i in idx))
if data.kind == "image":
    originals = data.test_x(idx).numpy()
    pairs(originals, x_hat, captions)
    st.download_button("Download these pairs (PNG)", lambda: png_bytes(tile(np.concatenate([originals, x_hat]),
                       nrow=max(len(idx), 1), pad=1, scale=2)), "reconstructions.png", "image/png", key="rec_png")
else:
    st.dataframe(recon_table(data, idx, x_hat), key="rec_table")
    st.caption("Each row: a test sample's standardized features, its reconstruction (→), and its MSE.")
    st.stop()

st.divider()
st.subheader("Your own image")
up = st.file_uploader(
    f"A PNG or JPEG, up to {MAX_UPLOAD_BYTES // 2**20} MB. A dark digit on light paper works: it is inverted to "
    "match the training digits.", type=["png", "jpg", "jpeg"], key="rec_upload",
)
if up is not None:
    try:
        x, notes = prepare_image(up.getvalue(), sel.model.cfg.input_shape)
    except InputError as e:
        st.error(f"**{up.name} cannot be used:** {e}")
    else:
        x_hat = reconstruct(sel.model, x)
        u1, u2, u3 = st.columns([1, 1, 2])
        with u1:
            big(x[0].numpy(), f"{up.name}, as the model sees it")
        with u2:
            big(x_hat[0].numpy(), f"its reconstruction by {sel.entry.name}")
        with u3:
            st.metric("MSE", f"{float(mse_per_sample(x, x_hat)[0]):.4f}")
            st.metric("PSNR", f"{float(psnr_per_sample(x, x_hat)[0]):.2f} dB")
            st.markdown("**What was done to your image:** " + ("; ".join(notes) if notes else "nothing") + ".")
