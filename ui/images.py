"""Image display helpers: originals beside reconstructions, single large images, tiled grids.

Every picture goes to the browser as PNG bytes made once per content and shared by every session of the process
(`png`, `tile_png`), and travels inside the run's message as a data URI (`show`): given numpy arrays, or PNG bytes
with format "auto", Streamlit re-encodes each picture as JPEG on every rerun, for every student; given PNG bytes it
still opens each one with PIL, hashes it into its media store and serves it on a second HTTP request (seen with
py-spy under load: a sixth of a followed class's CPU on Reconstructions).
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np
import streamlit as st

from ae.explore.imagegrid import tile, to_uint8
from ae.store.export import png_bytes

_PNG: OrderedDict[bytes, bytes] = OrderedDict()
_PNG_LOCK = threading.Lock()
_PNG_MAX = 4096  # small pictures (a few KB each): a class's whole working set fits in a few tens of MB


def _memo(tag: str, image: np.ndarray, make: Callable[[np.ndarray], np.ndarray]) -> bytes:
    arr = np.ascontiguousarray(image)
    h = hashlib.blake2b(f"{tag}|{arr.dtype}|{arr.shape}".encode(), digest_size=16)
    h.update(arr.data)
    key = h.digest()
    with _PNG_LOCK:
        hit = _PNG.get(key)
        if hit is not None:
            _PNG.move_to_end(key)
            return hit
    data = png_bytes(make(arr))
    with _PNG_LOCK:
        _PNG[key] = data
        while len(_PNG) > _PNG_MAX:
            _PNG.popitem(last=False)
    return data


def png(image: np.ndarray, scale: int = 1, width: int | None = None) -> bytes:
    """PNG bytes of a uint8 picture ([H, W] or [H, W, 3]) or of a float image ([C, H, W] in [0, 1]) upscaled by
    `scale`, at most `width` wide; memoised by content."""
    if image.dtype == np.uint8 and scale == 1:
        return _memo(f"u8,{width}", image, lambda a: fit_width(a, width))
    return _memo(f"f{scale},{width}", image, lambda a: fit_width(to_uint8(a, scale), width))


def fit_width(picture: np.ndarray, width: int | None) -> np.ndarray:
    """Shrink a uint8 picture wider than `width` as Streamlit would (bilinear), once, instead of on every rerun."""
    if width is None or picture.shape[1] <= width:
        return picture
    from PIL import Image

    height = int(1.0 * picture.shape[0] * width / picture.shape[1])
    return np.asarray(Image.fromarray(picture).resize((width, height), resample=Image.BILINEAR))


def tile_png(images: np.ndarray, nrow: int, pad: int = 1, scale: int = 1, width: int | None = None) -> bytes:
    """PNG bytes of `tile(images, ...)` at most `width` wide, memoised by the images' content (no grid is built on a
    hit)."""
    return _memo(f"t{nrow},{pad},{scale},{width}", np.asarray(images, dtype=np.float32),
                 lambda a: fit_width(tile(a, nrow=nrow, pad=pad, scale=scale), width))


def data_uri(picture: bytes) -> str:
    """PNG bytes as a data: URL, which st.image passes to the browser as it is."""
    return "data:image/png;base64," + base64.b64encode(picture).decode("ascii")


def show(pictures: bytes | list[bytes], caption: str | list[str] | None = None, width: int | str = "content",
         target=st, alt: str | list[str] | None = None) -> None:
    """st.image for PNG bytes, passed through untouched: the browser scales a picture to its slot (`fit_width` makes
    the wide ones small once, where it matters). Every picture gets a text alternative for screen readers: `alt`,
    else its caption (Streamlit never uses a caption as one)."""
    uris = data_uri(pictures) if isinstance(pictures, bytes) else [data_uri(p) for p in pictures]
    target.image(uris, caption=caption, width=width, alt=caption if alt is None else alt)


def scale_for(shape: Sequence[int], target: int = 84) -> int:
    """Integer upscaling so a small image shows about `target` pixels wide, crisp."""
    return max(1, target // max(shape[-1], 1))


def pairs(originals: np.ndarray, recons: np.ndarray, captions: list[str], width: int = 84) -> None:
    """Each original stacked above its reconstruction, with a caption (e.g. the image's error)."""
    if len(originals) == 0:
        st.info("No images to show for this choice.")
        return
    s = scale_for(originals.shape, width)

    def stack(both: np.ndarray) -> np.ndarray:
        top, bottom = to_uint8(both[:1], s)[0], to_uint8(both[1:], s)[0]
        gap = np.full((2 * s, *top.shape[1:]), 90, dtype=np.uint8)
        return np.concatenate([top, gap, bottom], axis=0)

    pictures = [_memo(f"p{s}", np.stack([a, b]), stack) for a, b in zip(originals, recons)]
    show(pictures, captions, width, alt=[f"{c}: the original above, the model's rebuild below" for c in captions])


def big(image: np.ndarray, caption: str, width: int = 168) -> None:
    show(png(image, scale_for(image.shape, width)), caption, width)
