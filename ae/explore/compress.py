"""Compression, honestly counted: an autoencoder's code as a file smaller than the image, against PCA with as many
coefficients and against JPEG and WebP (Pillow), on the same test images.

A code is quantised per dimension to `bits` over the range the train split's codes span (stored once, like the
decoder), then packed: `bits * latent / 8` bytes. "zlib" is the same integers after a lossless coder (the whole
split compressed together, divided by its size), and "entropy" the bits an ideal coder of each dimension's measured
distribution would need. Bytes are per image; the decoder's own bytes are counted apart (`payback_images`), because
a code is useless without it.
"""

from __future__ import annotations

import io
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ae.data.sources import Dataset
from ae.explore.generate import decode_codes
from ae.explore.metrics import encode, psnr_per_sample, ssim_per_sample
from ae.models.base import Autoencoder

BITS = (8, 6, 4)
QUALITIES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)


@dataclass(frozen=True)
class Quantiser:
    """Uniform quantisation of each dimension over [lo, hi] (from the train split) to 2**bits levels."""

    lo: np.ndarray
    hi: np.ndarray
    bits: int

    @classmethod
    def fit(cls, codes: np.ndarray, bits: int) -> Quantiser:
        return cls.over(codes.min(0), codes.max(0), bits)

    @classmethod
    def over(cls, lo: np.ndarray, hi: np.ndarray, bits: int) -> Quantiser:
        """Over a range measured once (the train codes' min and max, stored with the model's analysis)."""
        if not 1 <= bits <= 16:
            raise ValueError(f"bits must be between 1 and 16, got {bits}")
        lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        return cls(lo, np.where(hi > lo, hi, lo + 1e-6), bits)

    @property
    def levels(self) -> int:
        return 2**self.bits

    def to_ints(self, codes: np.ndarray) -> np.ndarray:
        """[N, D] floats -> [N, D] integers in 0..levels-1 (values outside the train range are clipped)."""
        steps = (np.clip(codes, self.lo, self.hi) - self.lo) / (self.hi - self.lo) * (self.levels - 1)
        return np.rint(steps).astype(np.uint16)

    def to_codes(self, ints: np.ndarray) -> np.ndarray:
        return (self.lo + ints.astype(np.float64) / (self.levels - 1) * (self.hi - self.lo)).astype(np.float32)

    def round_trip(self, codes: np.ndarray) -> np.ndarray:
        return self.to_codes(self.to_ints(codes))


def packed_bytes(dims: int, bits: int) -> float:
    """Bytes per image for `dims` numbers of `bits` each, packed bit to bit."""
    return dims * bits / 8


def zlib_bytes(ints: np.ndarray, bits: int) -> float:
    """Bytes per image after zlib (level 9) of the whole split's integers, one byte (or two) per number."""
    raw = ints.astype(np.uint8 if bits <= 8 else np.uint16).tobytes()
    return len(zlib.compress(raw, 9)) / len(ints)


def entropy_bytes(ints: np.ndarray) -> float:
    """Bytes per image an ideal coder of each dimension's empirical distribution needs (its Shannon entropy)."""
    total = 0.0
    for column in ints.T:
        p = np.bincount(column) / len(column)
        p = p[p > 0]
        total += float(-(p * np.log2(p)).sum())
    return total / 8


def quality(x: torch.Tensor, x_hat: torch.Tensor) -> tuple[float, float]:
    """(mean PSNR dB, mean SSIM) of x_hat against x, both [N, C, H, W] in [0, 1]."""
    x_hat = x_hat.clamp(0, 1).float()
    return float(psnr_per_sample(x, x_hat).mean()), float(ssim_per_sample(x, x_hat).mean())


def code_rows(name: str, train_codes: np.ndarray, test_codes: np.ndarray, decode, x: torch.Tensor,
              bits: tuple[int, ...] = BITS) -> list[dict]:
    """Rate-distortion rows of one code (a model's or PCA's): float, then each quantisation, each with its packed,
    zlib and entropy byte counts."""
    rows = []
    psnr, ssim = quality(x, torch.from_numpy(decode(test_codes)))
    rows.append(dict(method=name, setting="float32", bytes=packed_bytes(test_codes.shape[1], 32), psnr=psnr,
                     ssim=ssim))
    for b in bits:
        q = Quantiser.fit(train_codes, b)
        ints = q.to_ints(test_codes)
        psnr, ssim = quality(x, torch.from_numpy(decode(q.to_codes(ints))))
        for coder, size in (("packed", packed_bytes(ints.shape[1], b)), ("zlib", zlib_bytes(ints, b)),
                            ("entropy", entropy_bytes(ints))):
            rows.append(dict(method=name, setting=f"{b} bits, {coder}", bytes=size, psnr=psnr, ssim=ssim))
    return rows


def model_rows(name: str, model: Autoencoder, data: Dataset, n: int | None = None,
               bits: tuple[int, ...] = BITS) -> list[dict]:
    """Rows for a model's code on the first n test images (all by default)."""
    x = data.test_x(slice(0, n))
    return code_rows(name, encode(model, data.x_train).numpy(), encode(model, x).numpy(),
                     lambda z: decode_codes(model, z), x, bits)


def pca_rows(data: Dataset, components: int, n: int | None = None, bits: tuple[int, ...] = BITS) -> list[dict]:
    """Rows for PCA with `components` coefficients, quantised like a code (its basis, like a decoder, is apart)."""
    from sklearn.decomposition import PCA

    x = data.test_x(slice(0, n))
    shape = tuple(x.shape[1:])
    flat_train = data.train_x().flatten(1).numpy()
    pca = PCA(n_components=components, random_state=0).fit(flat_train)

    def decode(z: np.ndarray) -> np.ndarray:
        return pca.inverse_transform(z).reshape(-1, *shape).astype(np.float32)

    return code_rows(f"PCA {components}", pca.transform(flat_train),
                     pca.transform(x.flatten(1).numpy()), decode, x, bits)


def to_pixels(x: torch.Tensor) -> list[np.ndarray]:
    """[N, C, H, W] in [0, 1] -> uint8 pictures as Pillow wants them ([H, W] or [H, W, 3])."""
    arr = (x.clamp(0, 1).numpy() * 255).round().astype(np.uint8)
    return [a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0) for a in arr]


def codec_round_trip(picture: np.ndarray, fmt: str, q: int) -> tuple[int, np.ndarray]:
    """(bytes of the file, the picture decoded back) for one uint8 picture through JPEG or WebP at quality q."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, format=fmt, quality=q)
    data = buf.getvalue()
    with Image.open(io.BytesIO(data)) as im:
        back = np.asarray(im.convert("L" if picture.ndim == 2 else "RGB"))
    return len(data), back


def codec_rows(data: Dataset, n: int | None = None, qualities: tuple[int, ...] = QUALITIES) -> list[dict]:
    """Rows for JPEG and WebP at each quality: mean file bytes per image, PSNR and SSIM of the decoded pictures."""
    x = data.test_x(slice(0, n))
    pictures = to_pixels(x)
    rows = []
    for fmt in ("JPEG", "WEBP"):
        for q in qualities:
            sizes, backs = zip(*(codec_round_trip(p, fmt, q) for p in pictures))
            back = np.stack(backs).astype(np.float32) / 255.0
            back = back[:, None] if back.ndim == 3 else back.transpose(0, 3, 1, 2)
            psnr, ssim = quality(x, torch.from_numpy(back))
            rows.append(dict(method=fmt.title() if fmt == "WEBP" else fmt, setting=f"quality {q}",
                             bytes=float(np.mean(sizes)), psnr=psnr, ssim=ssim))
    return rows


def raw_bytes(data: Dataset) -> int:
    """One image uncompressed at 8 bits per value: the line every method must come under."""
    return int(np.prod(data.input_shape))


def decoder_bytes(model: Autoencoder, bytes_per_weight: int = 4) -> int:
    """What must be shipped once before any code can be read back: the decoder's weights."""
    return model.n_weights("decoder") * bytes_per_weight


def payback_images(decoder: int, code_bytes: float, other_bytes: float) -> float:
    """Images after which the decoder's weights are paid for by the per-image saving against another method; inf
    when the code saves nothing."""
    saving = other_bytes - code_bytes
    return decoder / saving if saving > 0 else math.inf


def bytes_at_psnr(rows: pd.DataFrame, method: str, psnr: float) -> float | None:
    """The fewest bytes per image at which `method` reaches `psnr` dB, linearly interpolated along its curve; None
    when it never does."""
    curve = rows[rows["method"] == method].sort_values("bytes")
    reach = curve[curve["psnr"] >= psnr]
    if reach.empty:
        return None
    first = reach.index[0]
    pos = curve.index.get_loc(first)
    if pos == 0:
        return float(curve.loc[first, "bytes"])
    below = curve.iloc[pos - 1]
    above = curve.loc[first]
    t = (psnr - below["psnr"]) / max(above["psnr"] - below["psnr"], 1e-9)
    return float(below["bytes"] + t * (above["bytes"] - below["bytes"]))


def rate_distortion(models: dict[str, Autoencoder], data: Dataset, n: int | None = None,
                    bits: tuple[int, ...] = BITS) -> pd.DataFrame:
    """Every curve for one chart: each model's code, PCA with the first model's latent size, JPEG and WebP."""
    if data.kind != "image":
        raise ValueError(f"{data.name} is tabular: compression is measured on images")
    rows: list[dict] = []
    for name, model in models.items():
        rows += model_rows(name, model, data, n, bits)
    latent = next(iter(models.values())).cfg.latent_dim if models else 16
    rows += pca_rows(data, latent, n, bits)
    rows += codec_rows(data, n)
    return pd.DataFrame(rows)


def series(rows: pd.DataFrame) -> pd.DataFrame:
    """rows with a `curve` column for the chart: a code's packed/zlib/entropy sizes are three curves (float32 sits on
    the packed one), a codec's qualities one."""
    out = rows.copy()
    coder = out["setting"].str.extract(r"bits, (\w+)$")[0].fillna("packed")
    is_code = ~out["method"].isin(["JPEG", "Webp"])
    out["curve"] = np.where(is_code, out["method"] + " (" + coder + ")", out["method"])
    return out


@dataclass
class Shown:
    """One method's pictures at a byte budget: what it had to do to fit and how close it came."""

    label: str
    images: np.ndarray | None  # [K, C, H, W] in [0, 1]; None when nothing fits
    bytes: float
    psnr: float


@dataclass(frozen=True)
class Coder:
    """What turns images into a code and back for the budget view: a model's encoder and decoder, or PCA's basis,
    with the range its train codes span (for quantising)."""

    label: str
    encode: Callable[[torch.Tensor], np.ndarray]  # [K, C, H, W] floats -> [K, D]
    decode: Callable[[np.ndarray], np.ndarray]  # [K, D] -> [K, C, H, W]
    lo: np.ndarray
    hi: np.ndarray


def model_coder(label: str, model: Autoencoder, lo: np.ndarray, hi: np.ndarray) -> Coder:
    return Coder(label, lambda x: encode(model, x).numpy(), lambda z: decode_codes(model, z), lo, hi)


def pca_coder(label: str, mean: np.ndarray, components: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> Coder:
    """PCA as a coder from its stored basis: z = (x - mean) @ components.T, x = z @ components + mean."""
    def enc(x: torch.Tensor) -> np.ndarray:
        return (x.flatten(1).numpy() - mean) @ components.T

    def dec(z: np.ndarray, shape: tuple[int, ...] = ()) -> np.ndarray:
        return (np.asarray(z, dtype=np.float32) @ components + mean).astype(np.float32)

    return Coder(label, enc, dec, lo, hi)


def code_at_budget(coder: Coder, x: torch.Tensor, budget: float) -> Shown:
    """The finest quantisation (float32, then 8, 6, 4, 2 bits) whose packed code fits `budget` bytes."""
    codes = coder.encode(x)
    dims = codes.shape[1]
    for bits in (32, 8, 6, 4, 2):
        if packed_bytes(dims, bits) <= budget:
            z = codes if bits == 32 else Quantiser.over(coder.lo, coder.hi, bits).round_trip(codes)
            images = np.clip(coder.decode(z), 0, 1).reshape(x.shape).astype(np.float32)
            psnr, _ = quality(x, torch.from_numpy(images))
            return Shown(f"{coder.label}, {'float32' if bits == 32 else f'{bits} bits'}", images,
                         packed_bytes(dims, bits), psnr)
    return Shown(f"{coder.label}: {packed_bytes(dims, 2):g} bytes at the least", None, packed_bytes(dims, 2),
                 math.nan)


def codec_at_budget(fmt: str, x: torch.Tensor, budget: float, qualities: tuple[int, ...] = QUALITIES) -> Shown:
    """Each picture at the highest quality whose file fits `budget` bytes (JPEG's header alone is ~300 bytes)."""
    name = "JPEG" if fmt == "JPEG" else "Webp"
    backs, sizes = [], []
    for picture in to_pixels(x):
        fits = [(size, back) for size, back in (codec_round_trip(picture, fmt, q) for q in qualities) if size <= budget]
        if not fits:
            smallest = codec_round_trip(picture, fmt, qualities[0])[0]
            return Shown(f"{name}: {smallest} bytes at the least", None, float(smallest), math.nan)
        size, back = fits[-1]
        sizes.append(size)
        backs.append(back)
    images = np.stack(backs).astype(np.float32) / 255.0
    images = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
    psnr, _ = quality(x, torch.from_numpy(images))
    return Shown(name, images, float(np.mean(sizes)), psnr)


def side_by_side(coders: list[Coder], x: torch.Tensor, budget: float) -> list[Shown]:
    """The same images x (floats) through every coder (each model's code, PCA) and JPEG and WebP at one byte
    budget."""
    return [*(code_at_budget(c, x, budget) for c in coders), codec_at_budget("JPEG", x, budget),
            codec_at_budget("WEBP", x, budget)]
