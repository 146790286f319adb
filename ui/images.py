"""Image display helpers: originals beside reconstructions, and single large images."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from ae.imagegrid import to_uint8


def scale_for(shape: Sequence[int], target: int = 84) -> int:
    """Integer upscaling so a small image shows about `target` pixels wide, crisp."""
    return max(1, target // max(shape[-1], 1))


def pairs(originals: np.ndarray, recons: np.ndarray, captions: list[str], width: int = 84) -> None:
    """Each original stacked above its reconstruction, with a caption (e.g. the image's error)."""
    if len(originals) == 0:
        st.info("No images to show for this choice.")
        return
    s = scale_for(originals.shape, width)
    top, bottom = to_uint8(originals, s), to_uint8(recons, s)
    gap_shape = (2 * s, *top.shape[2:]) if top.ndim == 4 else (2 * s, top.shape[2])
    gap = np.full(gap_shape, 90, dtype=np.uint8)
    stacked = [np.concatenate([a, gap, b], axis=0) for a, b in zip(top, bottom)]
    st.image(stacked, caption=captions, width=width)


def big(image: np.ndarray, caption: str, width: int = 168) -> None:
    st.image(to_uint8(image, scale_for(image.shape, width)), caption=caption, width=width)
