"""Turn an uploaded PNG/JPEG into a model's input, saying in plain words what was done to it.

MNIST-style models expect a light digit on a black background, centred in its frame; a photo of a digit written on
paper is the opposite, so it is inverted and re-framed, and each step is reported so the user sees why.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch

MAX_UPLOAD_BYTES = 5 * 2**20
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding them
FORMATS = ("PNG", "JPEG")


def prepare_image(data: bytes, input_shape: tuple[int, ...]) -> tuple[torch.Tensor, list[str]]:
    """bytes of a PNG/JPEG -> (x: [1, C, H, W] in [0, 1], notes). Raises ValueError with a clear reason."""
    from PIL import Image, UnidentifiedImageError

    if len(input_shape) != 3:
        raise ValueError("this model takes tabular rows, not images")
    c, h, w = input_shape
    if len(data) == 0:
        raise ValueError("the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"the file is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            if im.format not in FORMATS:
                raise ValueError(f"only PNG and JPEG images are accepted, this is {im.format}")
            if im.width * im.height > MAX_PIXELS:
                raise ValueError(f"the image is {im.width}x{im.height} pixels, too large to process")
            im.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ValueError(f"this file is not a readable PNG or JPEG image ({e.__class__.__name__})") from e
    notes: list[str] = []
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, im.convert("RGBA"))
        notes.append("transparent areas filled with white")
    if c == 1:
        if im.mode not in ("L", "1"):
            notes.append("converted to grayscale")
        arr = np.asarray(im.convert("L"), dtype=np.float32) / 255.0
        border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
        if np.median(border) > 0.5:
            arr = 1.0 - arr
            notes.append("inverted: the light background became black, like the training digits")
        arr, framed = _frame_content(arr)
        if framed:
            notes.append("cropped to the drawing and centred with a margin, as MNIST digits are")
        out = _resize(arr, h, w)
        x = torch.from_numpy(out)[None, None]
    else:
        arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
        x = torch.from_numpy(np.stack([_resize(arr[..., i], h, w) for i in range(3)]))[None]
    if (im.width, im.height) != (w, h):
        notes.append(f"resized from {im.width}x{im.height} to {w}x{h}")
    return x.clamp(0, 1).float(), notes


def _frame_content(arr: np.ndarray, fill: float = 20 / 28) -> tuple[np.ndarray, bool]:
    """Crop to the bright content, pad to a square where it fills `fill` of the side (MNIST: 20 of 28 pixels)."""
    mask = arr > 0.2
    if not mask.any():
        return arr, False
    rows, cols = np.where(mask.any(1))[0], np.where(mask.any(0))[0]
    crop = arr[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    side = int(np.ceil(max(crop.shape) / fill))
    canvas = np.zeros((side, side), dtype=np.float32)
    top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    canvas[top : top + crop.shape[0], left : left + crop.shape[1]] = crop
    return canvas, True


def _resize(arr: np.ndarray, h: int, w: int) -> np.ndarray:
    from PIL import Image

    img = Image.fromarray((arr * 255).round().astype(np.uint8), mode="L")
    return np.asarray(img.resize((w, h), Image.Resampling.LANCZOS), dtype=np.float32) / 255.0
