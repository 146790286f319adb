"""Home: what Latent Lab is and what it runs on. The dashboard pages arrive in later releases."""

import streamlit as st

from ui.cache import dataset_table, device_name

st.title("Latent Lab")
st.markdown(
    "An **autoencoder** squeezes each image through a small code (the *latent* vector) and rebuilds it. "
    "What the code keeps, and how the codes of different images arrange themselves, is what Latent Lab lets you see."
)
st.info(
    "The library, datasets and training are in place; the exploring pages are being built.",
    icon=":material/construction:",
)
st.metric("Running on", device_name())
st.subheader("Datasets")
st.dataframe(dataset_table(), hide_index=True, key="datasets")
