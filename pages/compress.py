"""Compress: an autoencoder's code as a file smaller than the image, against PCA, JPEG and WebP on the same digits."""

import numpy as np
import streamlit as st

from ae.explore.analyses import COMPRESS_IMAGES
from ae.explore.compress import bytes_at_psnr, decoder_bytes, payback_images, raw_bytes
from ui import share
from ui.analysis import need
from ui.cache import compress_side_by_side, load_model, rate_distortion_rows
from ui.describe import chart
from ui.images import show, tile_png
from ui.plots import rate_distortion_chart
from ui.shell import ensure_shell
from ui.state import current_selection, pick_models

ensure_shell()

MEASURED = COMPRESS_IMAGES
SHOWN = 8
BUDGETS = [4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 784]

st.title("Compress")
sel = current_selection()
data = sel.data
if data.kind != "image":
    st.info("Compression is measured on images; this dataset is tabular.")
    st.stop()
raw = raw_bytes(data)
st.caption(f"A code of a few numbers stands in for a {raw}-byte image: quantise each number to a few bits and the "
           "file is tiny, but only the decoder can read it back. Measured on the first "
           f"{min(MEASURED, len(data.x_test)):,} **{data.name}** test images.")

models = pick_models(data, ("pretrained/conv-ae-16", "pretrained/dense-ae-16"), "cp_models")
if not models:
    st.info("Pick at least one model.")
    st.stop()

pca_k = load_model(models[0][1], models[0][2])[0].cfg.latent_dim  # PCA with the first model's code size
need(data, *[("compress", path) for _, path, _ in models], (f"pca-{pca_k}", None), ("codecs", None))
rows = rate_distortion_rows(models, data.name, pca_k)
metric = share.segmented_control("Quality", ["psnr", "ssim"], "psnr", key="cp_metric",
                              format_func=lambda m: m.upper())
chart(rate_distortion_chart(rows, metric, raw), "cp_chart")
st.caption("Codes: float32, then 8, 6 and 4 bits per number over the range the train split's codes span; "
           "'zlib' is the same integers after a lossless coder, 'entropy' what an ideal coder of each number's "
           "measured distribution needs. JPEG and WebP files include their headers (JPEG's is about 300 bytes).")

st.subheader("The same digits at one budget")
budget = share.select_slider("Bytes per image", BUDGETS, 16, key="cp_budget")
indices = tuple(int(i) for i in np.unique(np.linspace(0, len(data.x_test) - 1, SHOWN).astype(int)))  # spread out
shown = compress_side_by_side(models, data.name, pca_k, indices, float(budget))
grids = [tile_png(data.test_x(list(indices)).numpy(), len(indices), 1, 3)]
captions = [f"original: {raw} bytes each"]
for s in shown:
    if s.images is None:
        st.caption(f"**{s.label}**: does not fit in {budget} bytes.")
        continue
    grids.append(tile_png(s.images, len(indices), 1, 3))
    captions.append(f"{s.label}: {s.bytes:.0f} bytes, {s.psnr:.1f} dB")
show(grids, captions, "stretch")

st.subheader("What the decoder costs")
cols = st.columns(len(models))
for col, (name, path, stamp) in zip(cols, models):
    model, _ = load_model(path, stamp)
    size = decoder_bytes(model)
    mine = rows[(rows["method"] == name) & (rows["setting"] == "8 bits, packed")]
    code_bytes, psnr = float(mine["bytes"].iloc[0]), float(mine["psnr"].iloc[0])
    jpeg = bytes_at_psnr(rows, "JPEG", psnr)
    jpeg = jpeg if jpeg is not None else float(rows[rows["method"] == "JPEG"]["bytes"].min())
    col.metric(f"{name}: decoder", f"{size / 1024:,.0f} KB", help="float32 weights, shipped once")
    col.metric("saving per image vs JPEG", f"{jpeg - code_bytes:,.0f} bytes",
               help=f"the 8-bit code ({code_bytes:.0f} B, {psnr:.1f} dB) against JPEG at that PSNR or its smallest "
                    "file")
    col.metric("images to pay the decoder back", f"{payback_images(size, code_bytes, jpeg):,.0f}")
