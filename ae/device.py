"""Which accelerator to run on: CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

import torch


def pick_device(name: str = "auto") -> torch.device:
    """'auto' picks the best available; a named device that is not available is an error, not a silent fallback."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but no CUDA GPU is available")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' was asked for, but Apple MPS is not available")
    return dev


def describe_device(device: torch.device) -> str:
    """A name for people: 'CPU', the GPU's model name, or 'Apple MPS'."""
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple MPS"
    return "CPU"
