"""Draw a digit and see what a model makes of it: its reconstruction and error, how unusual that error is among the
test images, where its code falls on the latent map, which test images have the nearest codes, and (VAE) the path
from it to a test digit.

On a PCA or raw-dimension map the drawing's point is exact (the map is a linear function of the code). UMAP and
t-SNE have no such function for a new point here (the maps are precomputed), so the drawing is placed at the
distance-weighted mean of the map points of its nearest test codes: an approximation that lands it in the right
neighbourhood, which is what a class watches for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ae.explore.embed import place_among
from ae.explore.generate import decode_codes, interpolate
from ae.explore.manifold import Plane
from ae.explore.metrics import mse_per_sample
from ae.models.base import Autoencoder

K_NEAREST = 10


@dataclass
class DrawingReport:
    x: np.ndarray  # the model's input [C, H, W]
    x_hat: np.ndarray  # its reconstruction [C, H, W]
    error: float  # mean squared error per pixel
    percentile: float  # % of test images rebuilt with a lower error: the anomaly score's rank
    code: np.ndarray  # [latent]
    nearest: np.ndarray  # test indices of the K nearest codes, nearest first
    distances: np.ndarray  # their distances in code space


@torch.no_grad()
def read_drawing(model: Autoencoder, x: torch.Tensor, test_codes: np.ndarray, test_errors: np.ndarray,
                 k: int = K_NEAREST) -> DrawingReport:
    """Everything the Draw page shows about x [1, C, H, W], against the test split's codes and errors."""
    model.eval()
    x = x.to(model.device)
    z = model.encode(x)
    x_hat = model.decode(z)
    error = float(mse_per_sample(x, x_hat)[0])
    code = z[0].cpu().numpy()
    d = np.linalg.norm(test_codes - code, axis=1)
    nearest = np.argsort(d, kind="stable")[: min(k, len(d))]
    return DrawingReport(x=x[0].cpu().numpy(), x_hat=x_hat[0].cpu().numpy(), error=error,
                         percentile=float((np.asarray(test_errors) < error).mean() * 100), code=code,
                         nearest=nearest, distances=d[nearest])


def place_on_map(report: DrawingReport, test_coords: np.ndarray, plane: Plane | None) -> tuple[np.ndarray, bool]:
    """(the drawing's [2] point on the map, exact?). Exact on a plane; else the neighbours' weighted mean."""
    if plane is not None:
        return plane.to_plane(report.code[None])[0], True
    return place_among(test_coords[report.nearest], report.distances), False


def majority(labels: np.ndarray) -> tuple[int, int]:
    """(most common label, how many of them) among the neighbours' labels."""
    counts = np.bincount(labels)
    return int(counts.argmax()), int(counts.max())


def path_to(model: Autoencoder, start: np.ndarray, target: np.ndarray, steps: int = 8) -> np.ndarray:
    """Images decoded along the straight line from the drawing's code to a test image's code: [steps, C, H, W]."""
    return decode_codes(model, interpolate(start, target, np.linspace(0, 1, steps)))
