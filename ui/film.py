"""The training film on Latent space: one epoch's map at a time, an epoch slider and a Play switch, all Streamlit
widgets, so the keyboard plays, pauses and steps it (Tab to them; Space switches Play, the arrows step). Plotly's own
animation buttons are SVG that no key reaches (issue 22). While playing, a fragment advances one epoch every FRAME_S
and redraws only itself; at the end it starts again."""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui.describe import chart
from ui.plots import film_frame

FRAME_S = 0.5  # seconds an epoch stays on screen while playing
EPOCH = "map_film_epoch"


def film_player(frames: np.ndarray, labels: np.ndarray | None, class_names: list[str]) -> None:
    playing = st.toggle("Play", key="map_film_play", help=f"one epoch every {FRAME_S:g} s, from the epoch shown; "
                                                          "it starts again after the last")

    @st.fragment(run_every=FRAME_S if playing else None)
    def frame() -> None:
        n = len(frames)
        if playing and EPOCH in st.session_state:
            st.session_state[EPOCH] = int(st.session_state[EPOCH]) % n + 1
        epoch = st.slider("Epoch", 1, n, 1, key=EPOCH)
        chart(film_frame(frames, int(epoch), labels, class_names), "map_film")

    frame()
