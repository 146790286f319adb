"""Pictures in, arrays out: one decoder for every image the user brings, and the prep for a single uploaded picture.

`decode_image` is shared by `prepare_image` (one PNG/JPEG to reconstruct) and the dataset loaders in `ae.data.userdata`,
so a phone photo, a transparent PNG or a 16-bit scan means the same thing everywhere.

MNIST-style models expect a light digit on a black background, centred in its frame; a photo of a digit written on
paper is the opposite, so it is inverted and re-framed, and each step is reported so the user sees why.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

import numpy as np
import torch

from ae.errors import TRANSLATED, InputError, user_input
from ae.limits import MAX_IMAGE_PIXELS, MAX_IMAGE_UPLOAD, MiB, mb

if TYPE_CHECKING:
    from PIL import Image

PREPARE_SIDE = 1024  # pixels across a picture is reduced to before any float math
MAX_UPLOAD_BYTES = MAX_IMAGE_UPLOAD  # the name the pages import
MAX_PIXELS = MAX_IMAGE_PIXELS
FORMATS = ("PNG", "JPEG")
GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
ALPHA_MODES = {"LA", "La", "PA", "RGBA", "RGBa"}
ORIENTATION = 0x0112  # the EXIF tag phones use instead of rotating the pixels
TURNED = {5, 6, 7, 8}  # orientations that swap width and height
TOLERANCE = 1e-3  # float pixels this far outside [0, 1] are rounding, not another range


@contextlib.contextmanager
def pillow_errors(what: str, kind: str = "image") -> Iterator[None]:
    """Inside Pillow's parsers a hostile file fails with almost any type (SyntaxError, KeyError, struct.error, ...);
    there they all mean "this picture is broken", so they become an InputError naming it.

    The types `ae.errors.user_input` words better (a zip member's bad CRC, a truncated file, memory) pass through.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        yield
    except UnidentifiedImageError as e:
        raise InputError(f"{what} is not a readable {kind} (UnidentifiedImageError)") from e
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise InputError(f"{what} is an image too large to decode safely ({e.__class__.__name__})") from e
    except (InputError, *TRANSLATED):
        raise
    except Exception as e:
        raise InputError(f"{what} is not a readable {kind} ({e.__class__.__name__}: {str(e)[:120]})") from e


@contextlib.contextmanager
def open_image(fp: IO[bytes], what: str, kind: str = "image") -> Iterator[Image.Image]:
    """Open a picture lazily (header only): what Pillow cannot identify or calls a decompression bomb is refused.

    Pillow only warns about bombs below twice its limit, so the warning is raised here as well.
    """
    from PIL import Image

    with pillow_errors(what, kind), warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        im = Image.open(fp)
    with im:
        yield im


def orientation(im: Image.Image) -> int:
    """The EXIF orientation (1 = upright), without decoding a PNG's pixels to look for a late EXIF chunk.

    A broken EXIF block reads as upright: it should not cost the user an otherwise good picture.
    """
    if im.format == "PNG" and "exif" not in im.info:
        return 1
    try:
        value = im.getexif().get(ORIENTATION, 1)
    except Exception:  # any parser failure in the EXIF block
        return 1
    return value if value in range(1, 9) else 1


def upright_size(im: Image.Image) -> tuple[int, int]:
    """(width, height) as the picture will be shown, i.e. after its EXIF rotation."""
    w, h = im.size
    return (h, w) if orientation(im) in TURNED else (w, h)


def channels(im: Image.Image) -> int:
    """1 for a grey picture (with or without alpha, 8 or 16 bit), 3 for anything with colour or a palette."""
    return 1 if im.mode in GREY_MODES else 3


def has_alpha(im: Image.Image) -> bool:
    """True when the picture can be transparent: an alpha channel or a transparent colour."""
    return im.mode in ALPHA_MODES or "transparency" in im.info


def check_pixels(im: Image.Image, what: str) -> None:
    """Refuse a picture whose declared size is too large before its pixels are decoded."""
    if im.width * im.height > MAX_IMAGE_PIXELS:
        raise InputError(f"{what} is {im.width}x{im.height} pixels, over the limit of {MAX_IMAGE_PIXELS:,} pixels")


def decode_image(im: Image.Image, what: str = "the image") -> np.ndarray:
    """A Pillow image -> float32 [H, W, C] in [0, 1], C = `channels(im)`.

    Turned upright by its EXIF orientation, transparency composited over white (dropping alpha turns a black glyph
    on a transparent background into a black square), and 16-bit grey scaled by 65535 rather than clipped to white.
    """
    from PIL import ImageOps

    c = channels(im)
    with pillow_errors(what):
        im.load()
    if orientation(im) != 1:
        im = ImageOps.exif_transpose(im)
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        arr = _wide_grey(im, what)
    elif has_alpha(im):
        arr = _over_white(im, c)
    else:
        arr = np.asarray(im.convert("L" if c == 1 else "RGB"), dtype=np.float32) / 255.0
    return np.ascontiguousarray(arr.reshape(arr.shape[0], arr.shape[1], c))


def _over_white(im: Image.Image, c: int) -> np.ndarray:
    """Composite over a white background: a transparent pixel shows as paper, not as whatever colour it stores."""
    a = np.asarray(im.convert("LA" if c == 1 else "RGBA"), dtype=np.float32) / 255.0
    alpha = a[..., -1:]
    return a[..., :-1] * alpha + (1.0 - alpha)


def _wide_grey(im: Image.Image, what: str) -> np.ndarray:
    """16-bit, 32-bit integer or float grey -> [H, W, 1] in [0, 1], scaled by the range the values come from.

    "I;16*" is 16-bit (/65535). "I" is how Pillow hands over 16-bit PNGs in some versions, so values within 0..65535
    are read as 16-bit; wider ones are stretched from their minimum to their maximum. "F" is read as [0, 1], 0..255
    or 0..65535 by its largest value, else stretched likewise.
    """
    a = np.asarray(im)
    if im.mode.startswith("I;16"):
        return (a.astype(np.float32) / 65535.0)[..., None]
    a = a.astype(np.float64)
    lo, hi = float(a.min()), float(a.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise InputError(f"{what} contains NaN or infinite values")
    if im.mode == "F" and lo >= -TOLERANCE and hi <= 1 + TOLERANCE:
        scaled = a.clip(0, 1)
    elif im.mode == "F" and lo >= 0 and hi <= 255:
        scaled = a / 255.0
    elif lo >= 0 and hi <= 65535:
        scaled = a / 65535.0
    else:
        scaled = (a - lo) / ((hi - lo) or 1.0)
    return scaled.astype(np.float32)[..., None]


def prepare_image(data: bytes, input_shape: tuple[int, ...]) -> tuple[torch.Tensor, list[str]]:
    """bytes of a PNG/JPEG -> (x: [1, C, H, W] in [0, 1], notes). Raises InputError with a clear reason."""
    if len(input_shape) != 3:
        raise InputError("this model takes tabular rows, not images")
    if len(data) == 0:
        raise InputError("the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"the file is {len(data) / MiB:.1f} MB; the limit is {mb(MAX_UPLOAD_BYTES)}")
    notes: list[str] = []
    with user_input("this file"), open_image(io.BytesIO(data), "this file", "PNG or JPEG image") as im:
        if im.format not in FORMATS:
            raise InputError(f"only PNG and JPEG images are accepted, this is {im.format}")
        check_pixels(im, "the image")
        if has_alpha(im):
            notes.append("transparent areas filled with white")
        if orientation(im) != 1:
            notes.append("turned upright, as the camera recorded it")
        size = upright_size(im)
        arr = decode_image(_shrunk(im, PREPARE_SIDE))
    return _fit(arr, input_shape, notes, size), notes


MNIST_FILL = 20 / 28  # an MNIST digit's box spans 20 of the image's 28 pixels


def typical_fill(x: torch.Tensor) -> float:
    """How much of the side a dataset's drawings span: the median over grey images [N, 1, H, W] of the content
    box's longer side over the image's (MNIST 20/28; scikit-learn's 8x8 digits fill theirs). MNIST's when unknown."""
    if x.ndim != 4 or x.shape[1] != 1 or len(x) == 0:
        return MNIST_FILL
    boxes = [(im, _ink_box(im)) for im in x[:, 0].numpy()]
    spans = [max(im[box].shape) / max(im.shape) for im, box in boxes if box is not None]
    return float(np.median(spans)) if spans else MNIST_FILL


def prepare_drawing(rgba: np.ndarray | None, input_shape: tuple[int, ...],
                    fill: float = MNIST_FILL) -> torch.Tensor | None:
    """A drawing canvas's RGBA array [H, W, 4] -> x [1, C, H', W'] the MNIST way (box scaled to `fill` of the side,
    20 of 28 pixels for MNIST; centred by centre of mass), or None while nothing is drawn. Ink is light on dark:
    brightness times opacity, so a canvas that returns its black background (the browser's does) and one
    transparent where nobody drew read the same."""
    if len(input_shape) != 3:
        raise InputError("drawing makes images; this model takes tabular rows")
    if rgba is None or rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.size == 0:
        return None
    rgba = np.asarray(rgba, dtype=np.float32) / 255.0
    ink = rgba[..., :3].max(axis=2) * rgba[..., 3]
    if ink.max() < 0.2:  # nothing, or a speck too faint to frame
        return None
    return _fit(ink[..., None], input_shape, [], fill=fill)


def _shrunk(im: Image.Image, side: int) -> Image.Image:
    """The picture at most `side` pixels across, reduced while still 8-bit: a 40-megapixel photo decoded to float
    RGBA took 1.1 GB of the server for a 28x28 result. JPEGs decode at 1/2..1/8 scale directly (draft)."""
    if max(im.size) <= side:
        return im
    if im.format == "JPEG":
        im.draft(None, (side, side))
    with pillow_errors("the image"):
        im.load()
    if im.mode in ("1", "P", "PA"):
        im = im.convert("RGBA" if has_alpha(im) else "L" if im.mode == "1" else "RGB")
    factor = -(-max(im.size) // side)
    if factor > 1 and im.mode in ("L", "LA", "RGB", "RGBA", "I", "F", "CMYK"):
        exif = im.info.get("exif")
        im = im.reduce(factor)  # a box filter: the content is cropped and resized to 28x28 afterwards anyway
        if exif is not None:
            im.info["exif"] = exif
    return im


def _fit(arr: np.ndarray, input_shape: tuple[int, ...], notes: list[str],
         size: tuple[int, int] | None = None, fill: float = MNIST_FILL) -> torch.Tensor:
    """[H, W, C] in [0, 1] -> [1, C', H', W'] for the model, appending what was done to `notes`; `size` is the
    picture's own (width, height) when it was shrunk before decoding."""
    c, h, w = input_shape
    width, height = size or (arr.shape[1], arr.shape[0])
    if c == 1:
        if arr.shape[2] == 3:
            notes.append("converted to grayscale")
            grey = arr @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as Pillow's "L"
        else:
            grey = arr[..., 0]
        border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
        if np.median(border) > 0.5:
            grey = 1.0 - grey
            notes.append("inverted: the light background became black, like the training digits")
        grey, framed = _frame_content(grey, fill)
        if framed:
            notes.append("cropped to the drawing and centred with a margin, as MNIST digits are")
        x = torch.from_numpy(_resize(grey, h, w))[None, None]
    else:
        rgb = np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr
        x = torch.from_numpy(np.stack([_resize(rgb[..., i], h, w) for i in range(3)]))[None]
    if (width, height) != (w, h):
        notes.append(f"resized from {width}x{height} to {w}x{h}")
    return x.clamp(0, 1).float()


def _ink_box(arr: np.ndarray) -> tuple[slice, slice] | None:
    """The rows and columns holding the bright content (above 0.2) of a grey image, None when there is none."""
    mask = arr > 0.2
    if not mask.any():
        return None
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _frame_content(arr: np.ndarray, fill: float = MNIST_FILL) -> tuple[np.ndarray, bool]:
    """Crop to the bright content, pad to a square where it fills `fill` of the side (MNIST: 20 of 28 pixels)."""
    box = _ink_box(arr)
    if box is None:
        return arr, False
    crop = arr[box]
    side = int(np.ceil(max(crop.shape) / fill))
    canvas = np.zeros((side, side), dtype=np.float32)
    # MNIST centres each digit by its centre of mass, not its box: a 7's heavy bar sits above the middle
    weight = crop.sum()
    cy = float((crop.sum(1) * np.arange(crop.shape[0])).sum() / weight)
    cx = float((crop.sum(0) * np.arange(crop.shape[1])).sum() / weight)
    top = int(np.clip(round((side - 1) / 2 - cy), 0, side - crop.shape[0]))
    left = int(np.clip(round((side - 1) / 2 - cx), 0, side - crop.shape[1]))
    canvas[top : top + crop.shape[0], left : left + crop.shape[1]] = crop
    return canvas, True


def _resize(arr: np.ndarray, h: int, w: int) -> np.ndarray:
    """Resample one channel in float ("F") so 16-bit detail survives; Lanczos may overshoot, callers clamp."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(arr, dtype=np.float32))  # float32 -> mode "F"
    return np.array(img.resize((w, h), Image.Resampling.LANCZOS), dtype=np.float32)  # a writable copy for torch
