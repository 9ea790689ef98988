"""One training plan for every gnngeno model.

A model supplies its module (whose ``loss(**batch)`` returns ``{"loss": tensor, ...}``), its
data (:class:`TrainingData`: the batches of an epoch and a validation function) and options; the
plan does the rest, once and in this order for every model:

1. join the ``torchrun`` process group when ``distributed=True`` (before anything is placed on
   a device, so that each process takes its own GPU);
2. resolve the device and move the module there;
3. build the optimizer and wrap the module's ``loss`` for data-parallel training (DDP);
4. run the epochs: each batch's loss plus the weight penalty (L1 / L2 / elastic net) is
   back-propagated and stepped; logged values are averaged over batches and processes;
5. validate after every epoch, stop early on the monitored value (after an optional warm-up
   and smoothing), restore the best parameters, write checkpoints and resume from them.

This follows scvi-tools' ``TrainingPlan``: the module owns its loss, the plan owns the steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from .._logging import logger
from .._settings import settings
from ..nn import weight_penalty
from . import _distributed as D
from ._loop import TrainingHistory, fit

OPTIMIZERS = ("adam", "adamw")


@dataclass
class Batch:
    """One training step's input.

    Attributes
    ----------
    kwargs
        Keyword arguments of the module's loss method.
    n
        Weight of this batch in the epoch's logged means (e.g. its number of cells).
    n_total
        Under data-parallel training, the number of observations of this step summed over all
        processes when the processes' shares may differ in size: the loss is then scaled by
        ``n * world_size / n_total`` for the gradient, so that the averaged step equals the
        one-process step. ``None``: shares are taken as equal.
    """

    kwargs: dict[str, Any]
    n: float = 1.0
    n_total: float | None = None


class TrainingData(Protocol):
    """What a model gives the plan: the batches of an epoch and, optionally, validation."""

    has_validation: bool

    def batches(self, epoch: int) -> Iterable[Batch]:
        """The batches of ``epoch`` (this process's share under data-parallel training)."""
        ...

    def validate(self) -> dict[str, float]:
        """Validation values (run in eval mode without gradients), e.g. ``{"val_loss": ...}``."""
        ...


@dataclass
class PlanContext:
    """Where the plan runs, known after :meth:`TrainingPlan.setup`.

    Attributes
    ----------
    device
        The device the module was moved to.
    rank, world_size
        This process's rank and the number of processes (0 and 1 without a process group).
    """

    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


@dataclass
class TrainingPlan:
    """Optimisation, penalties, early stopping, checkpoints and data-parallel set-up.

    Parameters
    ----------
    module
        The network; ``getattr(module, loss_method)(**batch.kwargs)`` returns a dict with a
        scalar ``"loss"`` tensor and, optionally, other scalar tensors to log.
    max_epochs
        Upper bound on epochs.
    lr, weight_decay, optimizer
        ``"adam"`` or ``"adamw"`` with this learning rate and weight decay.
    param_groups
        Parameter groups with options of their own (``[{"params": [...], "lr": ...}, ...]``,
        as :class:`torch.optim.Optimizer` takes them), given to the optimizer instead of all
        of the module's parameters; ``lr`` and ``weight_decay`` apply where a group sets none.
    l1, l2
        Lasso / ridge / elastic-net penalty on the module's weight matrices
        (:func:`gnngeno.nn.weight_penalty`), added to every step's loss.
    l1_parameters
        The parameters the lasso term applies to (``None``: all of the module's weight
        matrices), e.g. only a sequence CNN's first-layer filters, which it makes sparse and
        motif-like; the ridge term always covers the whole module.
    patience, monitor, mode, min_delta
        Early stopping on the validation value ``monitor`` (``patience=None``: never stop
        early; ``mode="min"`` for losses, ``"max"`` for scores).
    warmup_epochs
        Epochs before the monitored value counts (no early stop and no best state before).
    smoothing
        Weight on the past of an exponential moving average of the monitored value (0: the
        raw value), so that a single noisy epoch is not restored as the best.
    restore_best
        Load the best validation epoch's parameters at the end.
    device
        ``"cpu"``, ``"cuda"``, ... (default ``settings.device``).
    distributed
        Data-parallel training over the processes started by ``torchrun``; without torchrun it
        trains in one process.
    checkpoint_path, resume, metadata
        Resumable checkpoints (see :func:`gnngeno.train.fit`).
    desc
        Progress-bar label.
    generator
        A torch generator used by the data whose state is checkpointed.
    loss_method
        Name of the module's loss method.
    """

    module: torch.nn.Module
    max_epochs: int
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: str = "adam"
    param_groups: list[dict[str, Any]] | None = None
    l1: float = 0.0
    l2: float = 0.0
    l1_parameters: Iterable[torch.nn.Parameter] | None = None
    patience: int | None = None
    monitor: str = "val_loss"
    mode: str = "min"
    min_delta: float = 0.0
    warmup_epochs: int = 0
    smoothing: float = 0.0
    restore_best: bool = True
    device: str | torch.device | None = None
    distributed: bool = False
    checkpoint_path: str | Path | None = None
    resume: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    desc: str = "training"
    generator: torch.Generator | None = None
    loss_method: str = "loss"
    context: PlanContext | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}.")
        if self.l1 < 0 or self.l2 < 0:
            raise ValueError(f"l1 and l2 must be >= 0, got l1={self.l1}, l2={self.l2}.")
        if self.l1_parameters is not None:
            self.l1_parameters = list(self.l1_parameters)
        if int(self.max_epochs) < 1:
            raise ValueError(f"max_epochs must be >= 1, got {self.max_epochs}.")

    # ------------------------------------------------------------------ set-up
    def setup(self) -> PlanContext:
        """Join the process group (if asked), pick the device, move the module, build the
        optimizer and the (DDP-wrapped) loss. Call before building device tensors."""
        if self.context is not None:
            return self.context
        settings.apply_threads()  # torch's intra-op threads: settings.n_threads
        if self.distributed and D.launched_by_torchrun() and not D.is_distributed():
            D.init_distributed(device=self.device)
        on = bool(self.distributed) and D.is_distributed()
        if self.distributed and not on:
            logger.info(f"{self.desc}: distributed=True without a torchrun process group; "
                        "training in one process.")
        dev = settings.torch_device(None if self.device is None else str(self.device))
        if on and dev.type == "cuda":
            dev = torch.device("cuda", torch.cuda.current_device())
        self.module.to(dev)
        rank, world = (D.get_rank(), D.get_world_size()) if on else (0, 1)
        self.context = PlanContext(device=dev, rank=rank, world_size=world)
        cls = torch.optim.AdamW if self.optimizer == "adamw" else torch.optim.Adam
        params = self.module.parameters() if self.param_groups is None else self.param_groups
        self._optimizer = cls(params, lr=self.lr, weight_decay=self.weight_decay)
        # DDP averages the gradients of what runs through its forward: the module's loss
        self._loss = (D.wrap_ddp(self.module, method=self.loss_method) if on
                      else getattr(self.module, self.loss_method))
        return self.context

    @property
    def optimizer_(self) -> torch.optim.Optimizer:
        """The optimizer (after :meth:`setup`)."""
        self.setup()
        return self._optimizer

    # ------------------------------------------------------------------ steps
    def step(self, batch: Batch) -> dict[str, float]:
        """One optimisation step on ``batch``; returns the logged values (penalty excluded)."""
        ctx = self.setup()
        out = self._loss(**batch.kwargs)
        loss = out["loss"]
        grad_loss = loss
        if ctx.distributed and batch.n_total:
            grad_loss = loss * (batch.n * ctx.world_size / batch.n_total)
        penalised = bool(self.l1 or self.l2)
        if penalised:
            if self.l1_parameters is None:
                pen = weight_penalty(self.module.parameters(), l1=self.l1, l2=self.l2)
            else:
                pen = (weight_penalty(self.l1_parameters, l1=self.l1)
                       + weight_penalty(self.module.parameters(), l2=self.l2))
            grad_loss = grad_loss + pen.to(ctx.device)
        self._optimizer.zero_grad(set_to_none=True)
        grad_loss.backward()
        self._optimizer.step()
        logged = {k: float(v.detach()) if torch.is_tensor(v) else float(v)
                  for k, v in out.items()}
        if penalised:
            logged["penalty"] = float(pen.detach())
        return logged

    def _epoch(self, data: TrainingData, epoch: int) -> dict[str, float]:
        self.module.train()
        sums: dict[str, float] = {}
        count = 0.0
        for batch in data.batches(epoch):
            for k, v in self.step(batch).items():
                sums[k] = sums.get(k, 0.0) + v * batch.n
            count += batch.n
        means = {k: v / count for k, v in sums.items()} if count else {"loss": float("nan")}
        return D.reduce_dict(means, weight=count) if self.context.distributed else means

    # ------------------------------------------------------------------ run
    def run(self, data: TrainingData,
            validate: Callable[[], dict[str, float]] | None = None) -> TrainingHistory:
        """Train on ``data`` and return the history (best parameters restored).

        ``validate`` overrides ``data.validate`` (``None``: use it when
        ``data.has_validation``)."""
        self.setup()
        if validate is None and getattr(data, "has_validation", False):
            validate = data.validate
        return fit(
            self.module, self._optimizer, lambda epoch: self._epoch(data, epoch),
            max_epochs=int(self.max_epochs), validate=validate, monitor=self.monitor,
            mode=self.mode, patience=self.patience, min_delta=self.min_delta,
            warmup_epochs=self.warmup_epochs, smoothing=self.smoothing,
            restore_best=self.restore_best, checkpoint_path=self.checkpoint_path,
            resume=self.resume, metadata=self.metadata, desc=self.desc,
            generator=self.generator)
