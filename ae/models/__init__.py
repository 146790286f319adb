"""Importing this package registers every variant."""

from ae.models import contractive, denoising, sparse, vanilla, variational  # noqa: F401
from ae.models.base import Autoencoder, Output

__all__ = ["Autoencoder", "Output"]
