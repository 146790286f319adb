"""The one module with st.cache_* functions, so every page shares the same loaded objects."""

from __future__ import annotations

import streamlit as st

from ae.data import DESCRIPTIONS
from ae.device import describe_device, pick_device


@st.cache_resource(show_spinner=False)
def device_name() -> str:
    return describe_device(pick_device())


@st.cache_data(show_spinner=False)
def dataset_table() -> list[dict[str, str]]:
    return [{"dataset": k, "what it is": v} for k, v in DESCRIPTIONS.items()]
