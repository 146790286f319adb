"""Image display helpers: originals beside reconstructions, and single large images.

Every picture goes to the browser as PNG bytes encoded once per content (`png`): Streamlit would otherwise
re-encode each numpy array on every rerun, for every student.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import streamlit as st

from ae.export import png_bytes
from ae.imagegrid import to_uint8

_PNG: OrderedDict[bytes, bytes] = OrderedDict()
_PNG_LOCK = threading.Lock()
_PNG_MAX = 2048  # small pictures (a few KB each): the whole working set of a class fits


def png(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 picture ([H, W] or [H, W, 3]) or a float image ([C, H, W] in [0, 1]), memoised by
    content, shared by every session of the process."""
    arr = np.ascontiguousarray(image)
    h = hashlib.blake2b(f"{arr.dtype}{arr.shape}".encode(), digest_size=16)
    h.update(arr.data)
    key = h.digest()
    with _PNG_LOCK:
        hit = _PNG.get(key)
        if hit is not None:
            _PNG.move_to_end(key)
            return hit
    data = png_bytes(arr)
    with _PNG_LOCK:
        _PNG[key] = data
        while len(_PNG) > _PNG_MAX:
            _PNG.popitem(last=False)
    return data


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
    stacked = [png(np.concatenate([a, gap, b], axis=0)) for a, b in zip(top, bottom)]
    st.image(stacked, caption=captions, width=width)


def big(image: np.ndarray, caption: str, width: int = 168) -> None:
    st.image(png(to_uint8(image, scale_for(image.shape, width))), caption=caption, width=width)
