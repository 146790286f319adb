"""Training in a background thread, so a page can show progress, be left and come back, and ask it to stop.

A job owns its model, data and thread; nothing is shared between jobs except read-only datasets, so several
sessions can train at once. When the run ends (finished or stopped) the job saves the model with its metrics and
maps under the name given at the start, refusing to overwrite a model that exists.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ae.config import ModelConfig, TrainConfig
from ae.data import Dataset
from ae.device import describe_device, pick_device
from ae.embed import METHODS, embed_2d
from ae.io import check_name, paths, save_model
from ae.maps import save_maps
from ae.metrics import encode, evaluate
from ae.registry import build_model
from ae.train import Callback, TrainingDiverged, fit

PREVIEW = 8


def preview_indices(data: Dataset, n: int = PREVIEW) -> list[int]:
    """One test image per class where there are labels (the test split may be sorted by class), else the first n."""
    if data.y_test is None:
        return list(range(min(n, len(data.x_test))))
    firsts = [int((data.y_test == c).nonzero()[0]) for c in data.y_test.unique().tolist()]
    return sorted(firsts)[:n] or list(range(min(n, len(data.x_test))))


@dataclass
class JobState:
    status: str = "starting"  # starting | training | saving | done | stopped | failed
    epoch: int = 0
    epochs: int = 0
    started: float = field(default_factory=time.time)
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    preview: np.ndarray | None = None  # reconstructions of the fixed preview batch, latest epoch
    message: str = ""
    saved_path: str = ""
    metrics: dict = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in ("done", "stopped", "failed")

    def eta_seconds(self) -> float | None:
        if self.epoch == 0:
            return None
        per_epoch = (time.time() - self.started) / self.epoch
        return per_epoch * (self.epochs - self.epoch)


class TrainingJob:
    """Train `model_cfg` on `data` in a thread and save it into `folder` as `name`."""

    def __init__(self, data: Dataset, model_cfg: ModelConfig, train_cfg: TrainConfig, folder: str | Path,
                 name: str) -> None:
        check_name(name)
        weights, config = paths(folder, name)
        if weights.exists() or config.exists():
            raise FileExistsError(f"a model named {name!r} already exists; choose another name")
        if tuple(model_cfg.input_shape) != tuple(data.input_shape):
            raise ValueError(f"the model expects {list(model_cfg.input_shape)} but {data.name} is "
                             f"{list(data.input_shape)}")
        self.data, self.model_cfg, self.train_cfg = data, model_cfg, train_cfg
        self.folder, self.name = Path(folder), name
        self.device = pick_device(train_cfg.device)
        self.device_name = describe_device(self.device)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._state = JobState(epochs=train_cfg.epochs)
        self.preview_input = data.x_test[preview_indices(data)].clone()
        self.thread = threading.Thread(target=self._run, name=f"train-{name}", daemon=True)

    def start(self) -> TrainingJob:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to end after the current batch; the best weights so far are kept and saved."""
        self._stop.set()

    def state(self) -> JobState:
        with self._lock:
            s = self._state
            return JobState(s.status, s.epoch, s.epochs, s.started, s.history.copy(), s.preview, s.message,
                            s.saved_path, dict(s.metrics))

    def _update(self, **kw) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self._state, k, v)

    def _run(self) -> None:
        job = self
        model = build_model(self.model_cfg, seed=self.train_cfg.seed)

        class Progress(Callback):
            def on_epoch_end(self, history: pd.DataFrame) -> None:
                with torch.no_grad():
                    model.eval()
                    rec = model.reconstruct(job.preview_input.to(next(model.parameters()).device)).cpu().numpy()
                    model.train()
                job._update(epoch=len(history), history=history, preview=rec, status="training")

            def should_stop(self) -> bool:
                return job._stop.is_set()

        try:
            self._update(status="training", started=time.time())
            t0 = time.perf_counter()
            history = fit(model, self.data.x_train, self.train_cfg, callbacks=[Progress()])
            seconds = time.perf_counter() - t0
            stopped = self._stop.is_set()
            self._update(status="saving", message="measuring the model on the test split and drawing its maps")
            metrics = evaluate(model, self.data.x_test)
            meta = {
                "dataset": {"name": self.data.name, "split": "test", "source": self.data.source,
                            "kind": self.data.kind},
                "train": self.train_cfg.to_dict(), "history": history.to_dict(orient="records"),
                "metrics": metrics, "train_seconds": round(seconds, 2), "train_device": self.device_name,
                "epochs_run": int(len(history)), "stopped_early": stopped, "torch": torch.__version__,
                "about": f"trained in Latent Lab on {self.data.name}" + (" (stopped early)" if stopped else ""),
            }
            path = save_model(model, self.folder, self.name, meta)
            codes = encode(model, self.data.x_test).numpy()
            maps = {"codes": codes}
            if len(codes) >= 3 and codes.shape[1] >= 1:
                for method in METHODS:
                    maps[method] = embed_2d(codes, method)
            save_maps(path, maps, {"dataset": self.data.name, "split": "test"})
            self._update(status="stopped" if stopped else "done", saved_path=str(path), metrics=metrics,
                         message=f"saved as {self.name}")
        except TrainingDiverged as e:
            self._update(status="failed", message=str(e))
        except Exception as e:  # a background thread must report, never die silently
            self._update(status="failed", message=f"{e.__class__.__name__}: {e}")
            traceback.print_exc()
