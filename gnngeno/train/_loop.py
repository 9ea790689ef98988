"""One training loop for every gnngeno model: epochs, validation, early stopping, best-state
restore, progress bar and resumable checkpoints."""

from __future__ import annotations

import copy
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .._logging import logger, progress
from .._version import __version__
from ._early_stopping import EarlyStopping


@dataclass
class TrainingHistory:
    """What happened during training.

    Attributes
    ----------
    records
        One dict per epoch: ``epoch`` and every value the epoch and validation functions returned.
    monitor
        Name of the monitored value, or ``None`` without validation.
    best_epoch
        Epoch whose parameters were kept (the last one without validation).
    stopped_early
        Whether early stopping ended training before ``max_epochs``.
    """

    records: list[dict[str, float]] = field(default_factory=list)
    monitor: str | None = None
    best_epoch: int = -1
    stopped_early: bool = False

    def to_frame(self) -> pd.DataFrame:
        """The records as a DataFrame indexed by epoch."""
        if not self.records:
            return pd.DataFrame()
        return pd.DataFrame(self.records).set_index("epoch")

    def to_dict(self) -> dict[str, Any]:
        return {"records": self.records, "monitor": self.monitor, "best_epoch": self.best_epoch,
                "stopped_early": self.stopped_early}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> TrainingHistory:
        return cls(**d) if d else cls()

    def __len__(self) -> int:
        return len(self.records)


def _is_main_process() -> bool:
    import torch.distributed as dist

    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def _rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()  # dropout, VAE noise on the GPU
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def _postfix(record: dict[str, float], monitor: str | None, smoothing: float,
             monitored: bool) -> dict[str, str]:
    """The progress-bar postfix: the training loss and, once it counts, the monitored value."""
    shown = {"loss": record.get("loss")}
    if monitor is not None and monitored:
        shown[monitor] = record.get(f"{monitor}_ema" if smoothing else monitor)
    return {k: f"{v:.4g}" for k, v in shown.items() if v is not None}


def save_atomic(obj: Any, path: str | Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def fit(
    module: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    train_epoch: Callable[[int], dict[str, float]],
    *,
    max_epochs: int,
    validate: Callable[[], dict[str, float]] | None = None,
    monitor: str = "val_loss",
    mode: str = "min",
    patience: int | None = 10,
    min_delta: float = 0.0,
    warmup_epochs: int = 0,
    smoothing: float = 0.0,
    restore_best: bool = True,
    checkpoint_path: str | Path | None = None,
    checkpoint_every: int = 1,
    resume: bool = False,
    metadata: dict[str, Any] | None = None,
    desc: str = "training",
    generator: torch.Generator | None = None,
) -> TrainingHistory:
    """Train ``module`` for up to ``max_epochs`` epochs.

    Parameters
    ----------
    module
        The model being trained (its ``state_dict`` is checkpointed and restored).
    optimizer
        Its optimizer.
    train_epoch
        ``train_epoch(epoch) -> {"loss": ...}``: runs one epoch (sets ``module.train()`` itself)
        and returns the values to record.
    max_epochs
        Upper bound on epochs.
    validate
        ``validate() -> {monitor: ..., ...}`` run after every epoch (under
        ``torch.no_grad``); ``None`` trains for ``max_epochs`` and keeps the last state.
    monitor, mode, patience, min_delta
        Early stopping on ``monitor`` (``mode="min"`` for losses, ``"max"`` for scores).
    warmup_epochs, smoothing
        The monitored value counts from epoch ``warmup_epochs`` on; with ``smoothing > 0``
        early stopping judges an exponential moving average of it (weight ``smoothing`` on the
        past), recorded as ``"{monitor}_ema"`` (see :class:`EarlyStopping`).
    restore_best
        Load the parameters of the best validation epoch at the end.
    checkpoint_path
        File written every ``checkpoint_every`` epochs (atomically) with the module, optimizer,
        early-stopping and random-number states, the history, the package version and
        ``metadata`` (e.g. parameters and gene order).
    resume
        Continue from ``checkpoint_path`` when it exists.
    metadata
        Stored in the checkpoint (and checked on resume: a checkpoint written with other
        ``metadata["var_names"]`` is refused).
    desc
        Progress-bar label.
    generator
        A torch generator used by ``train_epoch`` whose state is checkpointed too.

    Returns
    -------
    TrainingHistory
    """
    if max_epochs < 1:
        raise ValueError(f"max_epochs must be >= 1, got {max_epochs}.")
    stopper = EarlyStopping(patience if validate is not None else None, mode, min_delta,
                            warmup=warmup_epochs, smoothing=smoothing)
    history = TrainingHistory(monitor=monitor if validate is not None else None)
    best_state: dict[str, torch.Tensor] | None = None
    start = 0

    if resume and checkpoint_path is not None and Path(checkpoint_path).exists():
        ckpt = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
        saved_genes = (ckpt.get("metadata") or {}).get("var_names")
        new_genes = (metadata or {}).get("var_names")
        if saved_genes is not None and new_genes is not None and list(saved_genes) != list(new_genes):
            raise ValueError(f"checkpoint {checkpoint_path} was written for other genes; "
                             "delete it or pass resume=False to start over.")
        module.load_state_dict(ckpt["module"])
        optimizer.load_state_dict(ckpt["optimizer"])
        stopper.load_state_dict(ckpt["stopper"])
        history = TrainingHistory.from_dict(ckpt["history"])
        best_state = ckpt.get("best_state")
        _set_rng_state(ckpt["rng"])
        if generator is not None and ckpt.get("generator") is not None:
            generator.set_state(ckpt["generator"])
        start = ckpt["epoch"] + 1
        logger.info(f"resumed from {checkpoint_path} at epoch {start}")
        if stopper.should_stop or start >= max_epochs:
            if restore_best and best_state is not None:
                module.load_state_dict(best_state)
            return history

    bar = progress(range(start, max_epochs), total=max_epochs - start, desc=desc)
    for epoch in bar:
        record: dict[str, float] = {"epoch": epoch}
        record.update({k: float(v) for k, v in train_epoch(epoch).items()})
        if validate is not None:
            was_training = module.training
            module.eval()
            with torch.no_grad():
                record.update({k: float(v) for k, v in validate().items()})
            module.train(was_training)
            if monitor not in record:
                raise KeyError(f"validate() returned {sorted(record)} but monitor={monitor!r}.")
            improved = stopper.step(record[monitor])
            if smoothing:
                record[f"{monitor}_ema"] = float(stopper.smoothed)
            if improved:
                history.best_epoch = epoch
                if restore_best:
                    best_state = copy.deepcopy(module.state_dict())
        else:
            history.best_epoch = epoch
        history.records.append(record)
        bar.set_postfix(_postfix(record, monitor if validate is not None else None,
                                 smoothing, epoch >= warmup_epochs))
        stop = stopper.should_stop
        if checkpoint_path is not None and _is_main_process() and (
            (epoch + 1) % checkpoint_every == 0 or stop or epoch == max_epochs - 1
        ):
            save_atomic({
                "module": module.state_dict(), "optimizer": optimizer.state_dict(),
                "stopper": stopper.state_dict(), "history": history.to_dict(),
                "best_state": best_state, "rng": _rng_state(), "epoch": epoch,
                "generator": generator.get_state() if generator is not None else None,
                "version": __version__, "metadata": metadata or {},
            }, checkpoint_path)
        if stop:
            history.stopped_early = True
            logger.info(f"early stopping at epoch {epoch}; best epoch {history.best_epoch} "
                        f"({monitor}={stopper.best:.4g})")
            break
    bar.close()
    if restore_best and best_state is not None:
        module.load_state_dict(best_state)
    return history
