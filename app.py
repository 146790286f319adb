"""Latent Lab entry point: page config, routing, and the sidebar every page shares. No model code here."""

import streamlit as st

from ui import preload

st.set_page_config(page_title="Latent Lab", page_icon=":material/science:", layout="wide")
if preload.pending():  # the first visits after `make run`: the libraries are still being imported (ui/serve.py)
    with st.spinner("Starting Latent Lab: loading PyTorch and the models, once after a restart…"):
        preload.wait()

from ui.cache import heap_settled, job_queue  # noqa: E402  (after the wait: one thread imports them, not two)
from ui.runlog import timed_run  # noqa: E402
from ui.share import shared_view, show_notes  # noqa: E402
from ui.state import render_sidebar  # noqa: E402

pages = {
    "Explore": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/reconstructions.py", title="Reconstructions", icon=":material/compare:"),
        st.Page("pages/latent_space.py", title="Latent space", icon=":material/scatter_plot:"),
        st.Page("pages/draw.py", title="Draw", icon=":material/draw:"),
    ],
    "Generate": [
        st.Page("pages/generate.py", title="Generate", icon=":material/auto_awesome:"),
        st.Page("pages/denoise.py", title="Denoise", icon=":material/blur_off:"),
        st.Page("pages/anomalies.py", title="Anomalies", icon=":material/crisis_alert:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/view_column:"),
        st.Page("pages/compress.py", title="Compress", icon=":material/compress:"),
        st.Page("pages/features.py", title="Features", icon=":material/category:"),
    ],
    "Build": [
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    ],
}
nav = st.navigation(pages)
render_sidebar()
job_queue()  # the training and analysis workers start with the app, in the background
heap_settled()
show_notes()
with timed_run(nav.url_path or "home"), shared_view():
    nav.run()
