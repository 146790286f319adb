"""`fit`: one training loop for every variant; it reads only `Output.loss` and its components.

In-memory data lives on the device and each epoch slices a seeded permutation, which is several times faster than
a DataLoader that copies each batch (bench/train_speed.py measures it).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence

import pandas as pd
import torch

from ae.config import TrainConfig, check_fits
from ae.data.sources import as_float
from ae.device import pick_device
from ae.models.base import Autoencoder

COMPONENTS = ("loss", "recon_loss", "reg_loss")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the model holds the last good weights."""


class Callback:
    """Hooks the Train page and the CLI use for progress and cancellation; every method is optional. `fit` sets
    `model` to the model it trains (as Keras does), so a callback can draw previews of it."""

    model: Autoencoder | None = None

    def on_epoch_end(self, history: pd.DataFrame) -> None:
        pass

    def should_stop(self) -> bool:
        return False


def validation_size(n: int, fraction: float) -> int:
    return int(round(n * fraction))


def split_validation(x: torch.Tensor, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Seeded (train, val) split of x; val is None when fraction is 0."""
    n_val = validation_size(len(x), fraction)
    if n_val == 0:
        return x, None
    if n_val >= len(x):
        raise ValueError(f"{len(x)} samples are too few for a validation fraction of {fraction}")
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    return x[perm[n_val:]], x[perm[:n_val]]


def _run_epoch(model: Autoencoder, x: torch.Tensor, batch_size: int, opt: torch.optim.Optimizer | None,
               gen: torch.Generator | None, stop: Callable[[], bool]) -> tuple[dict[str, float], bool]:
    """One pass over x (training when opt is given). Returns mean components and whether a stop was asked."""
    train = opt is not None
    model.train(train)
    order = torch.randperm(len(x), generator=gen).to(x.device) if train else torch.arange(len(x), device=x.device)
    sums = torch.zeros(len(COMPONENTS), device=x.device)
    seen = 0
    stopped = False
    with torch.set_grad_enabled(train):
        for start in range(0, len(x), batch_size):
            xb = as_float(x[order[start : start + batch_size]])  # stored uint8 pixels become floats a batch at a time
            out = model(xb)
            if train:
                opt.zero_grad(set_to_none=True)
                out.loss.backward()
                opt.step()
            # Accumulate on the device; one sync per epoch instead of one per batch.
            sums += torch.stack([out.loss.detach(), out.recon_loss.detach(), out.reg_loss.detach()]) * len(xb)
            seen += len(xb)
            if train and stop():
                stopped = True
                break
    means = (sums / max(seen, 1)).tolist()
    return dict(zip(COMPONENTS, means)), stopped


def fit(model: Autoencoder, x_train: torch.Tensor, cfg: TrainConfig, x_val: torch.Tensor | None = None,
        callbacks: Sequence[Callback] = ()) -> pd.DataFrame:
    """Train `model` in place on x_train ([N, *input_shape], stored samples: uint8 pixels or floats); return the
    per-epoch history. The library's entry point: it checks the tensors, then runs `train_loop`.

    Without x_val, cfg.val_fraction of x_train is held out. A stop request ends the run after the current batch.
    With cfg.keep_best the model ends with the weights of its best validation epoch. A non-finite loss raises
    TrainingDiverged with the weights of the last finished epoch restored.
    """
    if len(x_train) == 0:
        raise ValueError("no training samples")
    check_fits(model.cfg.input_shape, tuple(x_train.shape[1:]), "the training data")
    return train_loop(model, x_train, cfg, x_val, callbacks)


def train_loop(
    model: Autoencoder,
    x_train: torch.Tensor,
    cfg: TrainConfig,
    x_val: torch.Tensor | None = None,
    callbacks: Sequence[Callback] = (),
) -> pd.DataFrame:
    """`fit` without its checks, for a caller whose inputs passed them already (the pipeline runs a Plan)."""
    device = pick_device(cfg.device)
    torch.manual_seed(cfg.seed)  # noise and reparameterisation draws come from the global generator
    if x_val is None:
        x_train, x_val = split_validation(x_train, cfg.val_fraction, cfg.seed)
    model.to(device)
    x_train = x_train.to(device)  # as stored (uint8 images stay uint8 on the device)
    x_val = x_val.to(device) if x_val is not None else None
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)

    for cb in callbacks:
        cb.model = model

    def stop() -> bool:
        return any(cb.should_stop() for cb in callbacks)

    rows: list[dict[str, float]] = []
    best_loss, best_state = math.inf, None
    for epoch in range(1, cfg.epochs + 1):
        good_state = copy.deepcopy(model.state_dict())
        t0 = time.perf_counter()
        train_stats, stopped = _run_epoch(model, x_train, cfg.batch_size, opt, gen, stop)
        if not all(math.isfinite(v) for v in train_stats.values()):
            model.load_state_dict(good_state)
            raise TrainingDiverged(
                f"the training loss became {train_stats['loss']} in epoch {epoch}; stopped and restored the weights "
                f"from the end of epoch {epoch - 1}. Try a lower learning rate."
            )
        row = {"epoch": epoch, **{f"train_{k}": v for k, v in train_stats.items()}}
        if x_val is not None:
            val_stats, _ = _run_epoch(model, x_val, max(cfg.batch_size, 512), None, None, stop)
            row.update({f"val_{k}": v for k, v in val_stats.items()})
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
        score = row.get("val_loss", row["train_loss"])
        if cfg.keep_best and math.isfinite(score) and score < best_loss:
            best_loss, best_state = score, copy.deepcopy(model.state_dict())
        history = pd.DataFrame(rows)
        for cb in callbacks:
            cb.on_epoch_end(history)
        if stopped or stop():
            break
    if cfg.keep_best and best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return pd.DataFrame(rows)
