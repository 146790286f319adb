"""Home: what an autoencoder is, what each page shows, and the models on hand with their measured metrics."""

import pandas as pd
import streamlit as st

from ae.registry import variant_title
from ui.cache import catalog, device_name, draw_gallery_strip, model_meta
from ui.images import png, show
from ui.shell import ensure_shell

ensure_shell()

st.title("Latent Lab")
st.markdown(
    "An **autoencoder** is a network that squeezes each image through a small code, the *latent vector*, and then "
    "rebuilds the image from that code alone. Whatever the code keeps is what the network found important; how the "
    "codes of different images arrange themselves shows what it learned about the data."
)
reading = st.empty()  # a fresh server's first visit lists and reads every model's JSON: say so at once (a spinner
reading.progress(0.0, text="Reading the models on hand…")  # would appear only after half a second)
device = device_name()
entries = [e for e in catalog() if not e.error]
metrics = [model_meta(e.path, e.stamp).get("metrics", {}) for e in entries]  # the JSON alone: no weights
reading.empty()
c1, c2, c3 = st.columns(3)
c1.markdown("**Reconstructions** · originals beside their rebuilt versions, each with its error; upload your own "
            "digit and see what the model makes of it.")
c2.markdown("**Latent space** · every test image as a point on a 2-D map of its code (PCA, UMAP, t-SNE or two raw "
            "dimensions); select points to see their images, and decode any place on the map.")
c3.markdown(f"**Running on** {device} · pick the dataset and model in the sidebar; the choice follows you "
            "from page to page.")

st.subheader("Models on hand")
if not entries:
    st.warning("No models found: rebuild the shipped zoo with `python -m ae pretrain`.")
    st.stop()
rows = []
for e, meta_metrics in zip(entries, metrics):
    rows.append({
        "model": e.name, "kind": variant_title(e.variant), "arch": e.arch, "latent": e.latent_dim,
        "parameters": e.parameters, "trained on": e.dataset, "test MSE": meta_metrics.get("mse"),
        "PSNR dB": meta_metrics.get("psnr"), "SSIM": meta_metrics.get("ssim"), "ELBO nats": meta_metrics.get("elbo"),
        "source": e.source,
    })
st.dataframe(
    pd.DataFrame(rows), hide_index=True, key="models_table", placeholder="—",
    column_config={
        "test MSE": st.column_config.NumberColumn(format="%.4f", help="mean squared error per pixel, test split"),
        "PSNR dB": st.column_config.NumberColumn(format="%.2f"),
        "SSIM": st.column_config.NumberColumn(format="%.3f"),
        "ELBO nats": st.column_config.NumberColumn(format="%.1f", help="evidence lower bound per image (VAEs)"),
        "parameters": st.column_config.NumberColumn(format="localized"),
    },
)
st.caption("Every number is measured on the test split by `python -m ae pretrain` (or by your own training run).")

st.subheader("Gallery: the same eight test digits, rebuilt by each model")
cols = st.columns(3)
drawing = st.empty()
for i, e in enumerate(entries):
    drawing.progress(i / len(entries), text=f"Rebuilding eight test digits with {e.name} ({i + 1} of {len(entries)})")
    strip, _ = draw_gallery_strip(e.path, e.stamp)
    with cols[i % 3]:
        st.markdown(f"**{e.name}** · {variant_title(e.variant)}, latent {e.latent_dim}")
        if strip is not None:
            show(png(strip), "top: originals · bottom: reconstructions", "stretch")
        else:
            st.caption(f"(trained on {e.dataset}; no preview)")
drawing.empty()
