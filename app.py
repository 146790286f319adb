"""Latent Lab entry point: page config and routing only (the pages live in pages/, the maths in ae/)."""

import streamlit as st

st.set_page_config(page_title="Latent Lab", page_icon=":material/science:", layout="wide")

pages = {
    "Latent Lab": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
}
st.navigation(pages).run()
