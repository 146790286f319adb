"""Samples per second for the dense and conv AE on this machine's device: in-memory tensor slicing (what ae.train
does) beside a torch DataLoader that copies every batch. Prints a table; not part of the test suite.

    .venv/bin/python bench/train_speed.py [--epochs 3] [--device auto]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ae.config import ModelConfig, TrainConfig  # noqa: E402
from ae.data.sources import load_dataset  # noqa: E402
from ae.device import describe_device, pick_device  # noqa: E402
from ae.registry import build_model  # noqa: E402
from ae.train import fit  # noqa: E402


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def with_fit(arch: str, x: torch.Tensor, epochs: int, device: torch.device) -> float:
    model = build_model(ModelConfig(arch=arch, latent_dim=16), seed=0)
    fit(model, x, TrainConfig(epochs=1, val_fraction=0, device=str(device), keep_best=False))  # warm-up
    sync(device)
    t0 = time.perf_counter()
    fit(model, x, TrainConfig(epochs=epochs, val_fraction=0, device=str(device), keep_best=False))
    sync(device)
    return epochs * len(x) / (time.perf_counter() - t0)


def with_dataloader(arch: str, x: torch.Tensor, epochs: int, device: torch.device) -> float:
    """The common tutorial loop: CPU tensors, a shuffled DataLoader, a host-to-device copy per batch."""
    model = build_model(ModelConfig(arch=arch, latent_dim=16), seed=0).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(x), batch_size=128, shuffle=True, generator=torch.Generator().manual_seed(0))

    def epoch() -> None:
        model.train()
        for (xb,) in loader:
            xb = xb.to(device)
            opt.zero_grad()
            model(xb).loss.backward()
            opt.step()

    epoch()  # warm-up
    sync(device)
    t0 = time.perf_counter()
    for _ in range(epochs):
        epoch()
    sync(device)
    return epochs * len(x) / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--device", default="auto")
    a = p.parse_args()
    device = pick_device(a.device)
    x = load_dataset("mnist-5k").x_train
    print(f"device: {describe_device(device)}; torch {torch.__version__}; {torch.get_num_threads()} threads; "
          f"mnist-5k train split ({len(x)} samples), batch 128, {a.epochs} timed epochs after one warm-up")
    print(f"{'model':<22}{'in-memory slices':>20}{'DataLoader copies':>20}{'speed-up':>10}")
    for arch in ("dense", "conv"):
        fast = with_fit(arch, x, a.epochs, device)
        slow = with_dataloader(arch, x, a.epochs, device)
        print(f"{arch + ' AE, latent 16':<22}{fast:>14,.0f} /s{slow:>14,.0f} /s{fast / slow:>9.2f}x")


if __name__ == "__main__":
    main()
