"""Memory budgets, stated once: what one upload or one model may cost the server.

A class of thirty shares one process, so every input is measured by what it *declares* (array headers, image
headers, a model config's layer sizes) and refused before anything of that size is allocated.
"""

from __future__ import annotations

MiB = 2**20

MAX_UPLOAD_FILE = 100 * MiB  # one uploaded file (dataset or model zip); .streamlit/config.toml says the same
MAX_DATASET_BYTES = 256 * MiB  # a dataset once decoded to float32 (MNIST's 70,000 digits are 220 MB)
MAX_SAMPLES = 200_000
MAX_SIDE = 256  # pixels per image side; larger images are out of scope for a CPU autoencoder
MAX_FEATURES = 10_000  # tabular columns
MAX_FILES = 200_000  # members of an uploaded zip
MAX_IMAGE_UPLOAD = 5 * MiB  # one picture to reconstruct or score
MAX_IMAGE_PIXELS = 40_000_000  # a picture's declared width x height, refused before decoding

MAX_PARAMETERS = 20_000_000  # a model's weights (80 MB in float32; training holds about four copies)
MAX_ACTIVATIONS = 512 * MiB  # a training batch's activations, estimated from the config before building
MAX_CONFIG_BYTES = 1 * MiB  # a model's JSON


def mb(n: float) -> str:
    """Bytes as megabytes for a message."""
    return f"{n / MiB:,.0f} MB" if n >= MiB else f"{n / MiB:.1f} MB"
