"""The one path from configs to a saved model: fit -> evaluate -> metadata -> save -> recording -> analyses.

The CLI, the pretrained zoo and the Train page's jobs (on a Dask worker) all call `train_and_save`, so every model
records the same facts and ships with the same files: NAME.safetensors, NAME.json, NAME.recording.safetensors and
NAME.analyses/ (everything the pages read about it on its own dataset: `ae.explore.analyses`). It knows nothing
about who asked; callers differ only in callbacks, the weights' dtype and extra metrics.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from ae.config import ModelConfig, TrainConfig, check_fits
from ae.data.sources import Dataset
from ae.device import describe_device, pick_device
from ae.errors import InputError
from ae.explore.learning import MapRecorder
from ae.explore.metrics import evaluate
from ae.models.base import Autoencoder
from ae.registry import build_model, materialise
from ae.store.checkpoints import save_model
from ae.store.recording import save_recording
from ae.train import Callback, train_loop

ExtraMetrics = Callable[[Autoencoder, Dataset], dict[str, float]]


@dataclass
class Result:
    path: Path  # the JSON
    model: Autoencoder
    history: pd.DataFrame
    metrics: dict[str, float]
    meta: dict[str, Any]
    stopped: bool
    after_training_s: float = 0.0  # evaluating, saving and analysing: everything after the last epoch


_GATE = object()  # only preflight holds it: a Plan cannot be made without passing the checks


@dataclass(frozen=True)
class Plan:
    """A run that passed `preflight`: the configs, the network it will train (built once, on the meta device, with
    no memory yet) and what the checks measured. `train_and_save` trusts it and checks nothing again; it travels to
    a Dask worker inside a job as it is."""

    model_cfg: ModelConfig
    train_cfg: TrainConfig
    dataset: str
    network: Autoencoder  # on the meta device; `train_and_save` gives a copy memory and the seed's weights
    parameters: int
    activation_bytes: int
    gate: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.gate is not _GATE:
            raise TypeError("a Plan is made by preflight(), which checks it")


def preflight(model_cfg: ModelConfig, train_cfg: TrainConfig, data: Dataset) -> Plan:
    """The one gate of a training run (the CLI's, a job's, the zoo's), checked in milliseconds before anything
    starts: the input shape, that the network builds (its weights within budget) and runs on the meta device (no
    memory), and a training batch's activations against the budget in ae.limits. Fails here, at once, never
    minutes into training; what passes is a Plan."""
    from ae.limits import MAX_ACTIVATIONS, mb

    check_fits(model_cfg.input_shape, data.input_shape, data.name)
    network = build_model(model_cfg, on_meta=True)
    outputs = [0]

    def count(_module: torch.nn.Module, _inputs: Any, out: Any) -> None:
        if isinstance(out, torch.Tensor):
            outputs[0] += out.numel()

    hooks = [m.register_forward_hook(count) for m in network.modules() if not list(m.children())]
    x = torch.empty(train_cfg.batch_size, *model_cfg.input_shape, device="meta")
    try:
        network.train()(x)
    except (RuntimeError, ValueError) as e:
        raise InputError(f"this model cannot run on {list(model_cfg.input_shape)} inputs: {e}") from e
    finally:
        for h in hooks:
            h.remove()
    need = outputs[0] * 4 * 2  # float32 activations kept for backward, and their gradients
    if need > MAX_ACTIVATIONS:
        raise InputError(
            f"a batch of {train_cfg.batch_size} would take about {mb(need)} of activations, over the limit of "
            f"{mb(MAX_ACTIVATIONS)}; lower the batch size or the layer sizes"
        )
    return Plan(model_cfg, train_cfg, data.name, network, sum(p.numel() for p in network.parameters()), need,
                gate=_GATE)


def dataset_record(data: Dataset) -> dict[str, str]:
    return {"name": data.name, "split": "test", "source": data.source, "kind": data.kind}


def train_and_save(
    data: Dataset,
    plan: Plan,
    folder: str | Path,
    name: str,
    *,
    callbacks: Sequence[Callback] = (),
    recorder: MapRecorder | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    dtype: torch.dtype = torch.float32,
    overwrite: bool = False,
    about: str = "",
    credit: str = "",
    extra_metrics: ExtraMetrics | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> Result:
    """Train what `plan` (from `preflight` on this data) describes on data's train split and save it (weights,
    JSON, recording, analyses) as `folder/name`. The name is the caller's, checked where it reserved it (the CLI and
    jobs hold a reservation; `overwrite` replaces a model of that name).

    Metrics are measured on the weights as saved: with dtype=float16 the model is rounded first and its float32
    metrics are kept beside as `fp32_metrics`. A stop request (should_stop) ends training after the current batch;
    the best weights so far are evaluated and saved, marked stopped_early. Every epoch adds a frame to the
    training recording (`recorder`, made here unless the caller wants to watch it). `log` hears what is being done
    after training, as it happens. `credit` is who trained it (a student's first name, for the class board).
    """
    train_cfg = plan.train_cfg
    device = pick_device(train_cfg.device)
    model = materialise(copy.deepcopy(plan.network), train_cfg.seed)  # a copy: one plan can serve two runs

    class Stop(Callback):
        def should_stop(self) -> bool:
            return should_stop()

    t0 = time.perf_counter()
    recorder = recorder or MapRecorder.for_data(data)
    history = train_loop(model, data.x_train, train_cfg, callbacks=[recorder, *callbacks, Stop()])
    seconds = time.perf_counter() - t0
    stopped = bool(should_stop()) and len(history) < train_cfg.epochs
    log(f"{name}: trained {len(history)} epochs in {seconds:.1f} s; measuring on the test split")
    t_after = time.perf_counter()
    if dtype != torch.float32:  # measure what ships, not what was in memory
        fp32_metrics = evaluate(model, data.x_test)
        with torch.no_grad():
            for p in model.state_dict().values():
                p.copy_(p.to(dtype).to(p.dtype))
    else:
        fp32_metrics = None
    from ae.explore.analyses import compute

    recon = compute("recon", model, data)
    metrics = evaluate(model, data.x_test, errors=recon.arrays)
    if extra_metrics is not None:
        metrics.update(extra_metrics(model, data))
    meta: dict[str, Any] = {
        "dataset": dataset_record(data),
        "train": train_cfg.to_dict(),
        "history": history.to_dict(orient="records"),
        "metrics": metrics,
        "train_seconds": round(seconds, 2),
        "train_device": describe_device(device),
        "epochs_run": int(len(history)),
        "stopped_early": stopped,
        "torch": torch.__version__,
        "about": about or f"trained in Latent Lab on {data.name}" + (" (stopped early)" if stopped else ""),
    }
    if fp32_metrics is not None:
        meta["fp32_metrics"] = fp32_metrics
    if credit:
        meta["trained_by"] = credit
    path = save_model(model, folder, name, meta, overwrite=overwrite, dtype=dtype)
    recorded = recorder.recording()
    if recorded is not None:
        save_recording(path, *recorded)
    analyse_saved(path, data, model, recon, log)
    after = time.perf_counter() - t_after
    log(f"{name}: after training: {after:.1f} s (evaluation, saving and analyses)")
    return Result(path=path, model=model, history=history, metrics=metrics, meta=meta, stopped=stopped,
                  after_training_s=after)


def analyse_saved(path: Path, data: Dataset, model: Autoencoder, recon: Any, log: Callable[[str], None]) -> None:
    """Store the analyses the pages read for a model just saved at `path` (its reconstruction errors `recon`, already
    measured, then maps, codes...), so that nobody waits for them on a first visit: after training and after an
    import."""
    from ae.explore.analyses import model_kinds
    from ae.run.analyse import analyse, save

    save(recon, path, data)
    for key in model_kinds(data)[1:]:
        log(f"{Path(path).stem}: {key} analysis")
        analyse(key, path, data, model)
