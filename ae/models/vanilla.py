"""The plain autoencoder: reconstruction loss only (Hinton & Salakhutdinov, Science 2006)."""

from ae.models.base import Autoencoder
from ae.registry import register


@register("vanilla")
class Vanilla(Autoencoder):
    """Nothing beyond the shared interface: the bottleneck alone forces a compressed code."""

    title = "autoencoder"
