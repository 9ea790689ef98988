"""SequenceModel: a user-facing sequence CNN (train, predict, embed, save/load)."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from .._compat import renamed_kwargs
from .._logging import logger
from .._settings import resolve_seed, seed_everything
from .._validate import InputError, check_choice
from ..data._sequence import as_one_hot, augment, decode_one_hot, split_indices
from ..nn._sequence_cnn import TASKS, SequenceCNN, predict, sequence_loss
from ..train import Batch, TrainingPlan
from ._base import BaseModel


def _lengths(X) -> set[int] | None:
    if isinstance(X, str):
        return {len(X)}
    if isinstance(X, torch.Tensor | np.ndarray):
        return None
    if hasattr(X, "columns"):
        X = X["sequence"]
    return {len(s) for s in X}


def _metrics(out: torch.Tensor, y: torch.Tensor, task: str) -> dict[str, float]:
    """AUROC/AUPRC averaged over binary targets with both classes, or R² for regression."""
    from sklearn.metrics import average_precision_score, r2_score, roc_auc_score

    yn, on = y.numpy(), out.numpy()
    res = {}
    if task == "regression":
        res["r2"] = float(np.mean([r2_score(yn[:, j], on[:, j]) for j in range(yn.shape[1])]))
    else:
        au, ap = [], []
        for j in range(yn.shape[1]):
            if 0 < yn[:, j].sum() < len(yn):
                au.append(roc_auc_score(yn[:, j], on[:, j]))
                ap.append(average_precision_score(yn[:, j], on[:, j]))
        if au:
            res["auroc"], res["auprc"] = float(np.mean(au)), float(np.mean(ap))
    return res


def _check_penalty(name: str, value: float) -> float:
    if value < 0:
        raise InputError(f"{name}={value} must be >= 0 (0 turns the penalty off).")
    return float(value)


class _SequenceData:
    """The training data of a :class:`SequenceModel` for :class:`gnngeno.train.TrainingPlan`:
    shuffled (optionally augmented) mini-batches and validation on held-out sequences."""

    def __init__(self, module: SequenceCNN, X: torch.Tensor, y: torch.Tensor,
                 X_valid: torch.Tensor | None, y_valid: torch.Tensor | None, *, batch_size: int,
                 augment_rc: bool, max_shift: int, generator: torch.Generator,
                 device: torch.device) -> None:
        self.module, self.X, self.y = module, X, y
        self.X_valid, self.y_valid = X_valid, y_valid
        self.batch_size, self.augment_rc, self.max_shift = int(batch_size), augment_rc, max_shift
        self.generator, self.device = generator, device
        self.has_validation = X_valid is not None

    def batches(self, epoch: int) -> Iterator[Batch]:
        n = self.X.shape[0]
        perm = torch.randperm(n, generator=self.generator)
        for start in range(0, n, self.batch_size):
            idx = perm[start:start + self.batch_size]
            xb = self.X[idx]
            if self.augment_rc or self.max_shift:
                xb = augment(xb, reverse_complement=self.augment_rc, max_shift=self.max_shift,
                             generator=self.generator)
            yield Batch({"x": xb.to(self.device), "y": self.y[idx].to(self.device)},
                        n=len(idx))

    def validate(self) -> dict[str, float]:
        out = predict(self.module, self.X_valid, batch_size=2048, device=self.device)
        res = {"val_loss": float(sequence_loss(out, self.y_valid, self.module.task))}
        res.update({f"val_{k}": v
                    for k, v in _metrics(out, self.y_valid, self.module.task).items()})
        return res


class SequenceModel(BaseModel):
    """A convolutional network that learns from DNA sequence (binary, multi-task or regression).

    Sequences are given as strings (A, C, G, T, N) or one-hot ``(N, 4, L)`` arrays. The first-layer
    filters act as position weight matrices (see :mod:`gnngeno.interpret`).

    Parameters
    ----------
    n_outputs
        Number of targets.
    task
        ``"binary"`` (sigmoid + binary cross-entropy), ``"multitask"`` (several binary targets) or
        ``"regression"`` (mean squared error).
    length
        Length sequences of unequal length are cropped/padded to (default: set from the training
        data).
    n_filters, filter_size, n_dilated, dilated_kernel_size, activation, dropout, pooling, both_strands
        Architecture, see :class:`gnngeno.nn.SequenceCNN`.
    n_hidden
        Units of the hidden fully connected layer (0: a linear head on the pooled features;
        ``hidden`` in :class:`gnngeno.nn.SequenceCNN`).
    l1_filters, l2
        Deprecated: pass ``l1=``/``l2=`` to :meth:`train`.
    seed
        Random seed (default ``settings.seed``).
    output_names
        Names of the targets (for tables).

    Examples
    --------
    >>> from gnngeno.data import simulate_sequences
    >>> seqs, y, _ = simulate_sequences(200, 50, seed=0)
    >>> model = SequenceModel(n_filters=8, filter_size=8)
    >>> model.train(seqs, y, max_epochs=2, l1=1e-4)  # doctest: +SKIP
    >>> model.predict(seqs).shape  # doctest: +SKIP
    (200,)
    """

    @renamed_kwargs(hidden="n_hidden")
    def __init__(self, *, n_outputs: int = 1, task: str = "binary", length: int | None = None,
                 n_filters: int = 64, filter_size: int = 19, n_dilated: int = 0,
                 dilated_kernel_size: int = 3, n_hidden: int = 32, activation: str = "relu",
                 dropout: float = 0.2, pooling: str = "max+mean", both_strands: bool = True,
                 seed: int | None = None, output_names: Sequence[str] | None = None,
                 l1_filters: float | None = None, l2: float | None = None) -> None:
        super().__init__(None)
        check_choice(task, TASKS, "task")
        # penalties are optimisation options of train(); the old constructor options still
        # set train()'s defaults for one release
        self._penalty_defaults = {"l1": 0.0, "l2": 0.0}
        for old, new, value in (("l1_filters", "l1", l1_filters), ("l2", "l2", l2)):
            if value is not None:
                warnings.warn(f"SequenceModel({old}=...) is deprecated and will be removed in "
                              f"the next release; pass {new}= to SequenceModel.train() instead.",
                              DeprecationWarning, stacklevel=3)
                self._penalty_defaults[new] = _check_penalty(new, value)
        self.seed = resolve_seed(seed)
        self.task = task
        self.length = length
        if output_names is not None and len(output_names) != n_outputs:
            raise InputError(f"{len(output_names)} output_names for n_outputs={n_outputs}.")
        self.output_names = (list(map(str, output_names)) if output_names is not None
                             else [f"output_{i}" for i in range(n_outputs)])
        self._init_params = dict(
            n_outputs=n_outputs, task=task, length=length, n_filters=n_filters,
            filter_size=filter_size, n_dilated=n_dilated,
            dilated_kernel_size=dilated_kernel_size, n_hidden=n_hidden, activation=activation,
            dropout=dropout, pooling=pooling, both_strands=both_strands, seed=self.seed,
            output_names=self.output_names,
        )
        seed_everything(self.seed)
        self.module = SequenceCNN(n_outputs, n_filters=n_filters, filter_size=filter_size,
                                  n_dilated=n_dilated, dilated_kernel_size=dilated_kernel_size,
                                  hidden=n_hidden, activation=activation, dropout=dropout,
                                  pooling=pooling, both_strands=both_strands, task=task)
        self.reference_sequences_: list[str] = []
        self.train_time_: dict[str, float] = {}

    # ------------------------------------------------------------------ data
    def _encode(self, X) -> torch.Tensor:
        lens = _lengths(X)
        if lens is not None and not lens:
            raise InputError("no sequences given; pass at least one sequence (strings of "
                             "A, C, G, T, N or a one-hot (N, 4, L) array).")
        if lens is not None and len(lens) > 1:
            target = self.length or max(lens)
            return as_one_hot(X, length=target)
        return as_one_hot(X)

    def _targets(self, y, n: int) -> torch.Tensor:
        if y is None:
            raise InputError("targets y are missing; pass one value per sequence (binary labels "
                             "0/1, or values for task='regression').")
        y = np.asarray(y, dtype=np.float32)
        if y.ndim == 1:
            y = y[:, None]
        if y.shape[0] != n:
            raise InputError(f"{n} sequences but {y.shape[0]} targets; give one target row per "
                             "sequence.")
        if y.shape[1] != self.module.n_outputs:
            raise InputError(f"targets have {y.shape[1]} column(s) but the model has "
                             f"n_outputs={self.module.n_outputs}; build it with "
                             f"SequenceModel(n_outputs={y.shape[1]}).")
        if not np.isfinite(y).all():
            raise InputError("targets contain NaN or infinite values; drop those rows first.")
        if self.task != "regression" and not np.isin(y, (0.0, 1.0)).all():
            raise InputError(f"task={self.task!r} needs 0/1 targets but they hold other values "
                             "(e.g. "
                             f"{np.unique(y[~np.isin(y, (0.0, 1.0))])[:3].tolist()}); use "
                             "task='regression' for continuous targets.")
        return torch.from_numpy(y)

    # ------------------------------------------------------------------ training
    def train(self, X, y=None, *, X_valid=None, y_valid=None, validation_fraction: float = 0.1,
              max_epochs: int = 30, batch_size: int = 256, lr: float = 2e-3,
              patience: int | None = 3, l1: float | None = None, l2: float | None = None,
              augment_rc: bool | None = None, max_shift: int = 0, device: str | None = None,
              checkpoint_path: str | None = None, resume: bool = False,
              n_reference: int = 2000) -> SequenceModel:
        """Train with Adam and early stopping on the validation loss
        (:class:`gnngeno.train.TrainingPlan`).

        Parameters
        ----------
        X, y
            Training sequences (strings or one-hot ``(N, 4, L)``) and targets ``(N,)``/``(N, T)``.
        X_valid, y_valid
            Validation data; when absent, ``validation_fraction`` of the training data is held
            out (stratified for binary targets). ``validation_fraction=0`` trains without
            validation for ``max_epochs``.
        max_epochs, batch_size, lr
            Optimisation.
        patience
            Epochs without a better validation loss before stopping (the best epoch is kept).
        l1
            Lasso penalty on the first-layer filters, which makes them sparser and more like
            position weight matrices (default 0).
        l2
            Ridge penalty on every weight matrix (default 0).
        augment_rc
            Randomly reverse-complement training sequences (default: only when the model does
            not already score both strands).
        max_shift
            Random shifts of up to this many positions (augmentation).
        device
            ``"cpu"``, ``"cuda"``, ... (default ``settings.device``).
        checkpoint_path, resume
            Resumable checkpoints (see :func:`gnngeno.train.fit`).
        n_reference
            Number of training sequences (positives first) kept with the model to derive PWMs
            from its filters later (:func:`gnngeno.interpret.filters_to_pwms`).

        Returns
        -------
        ``self``; ``history`` holds per-epoch ``loss``, ``val_loss`` and ``val_auroc``/``val_r2``
        (and ``penalty`` when ``l1`` or ``l2`` is set).
        """
        t_wall, t_cpu = time.perf_counter(), time.process_time()
        l1 = _check_penalty("l1", self._penalty_defaults["l1"] if l1 is None else l1)
        l2 = _check_penalty("l2", self._penalty_defaults["l2"] if l2 is None else l2)
        Xt, yt, Xv, yv = self._training_split(X, y, X_valid, y_valid, validation_fraction)
        if augment_rc is None:
            augment_rc = not self.module.both_strands
        # keep reference sequences for motif extraction (positives first)
        order = np.argsort(-yt[:, 0].numpy(), kind="stable") if self.task != "regression" \
            else np.argsort(-yt[:, 0].numpy())
        self.reference_sequences_ = decode_one_hot(Xt[order[:n_reference]]) if n_reference else []

        seed_everything(self.seed)
        gen = torch.Generator().manual_seed(self.seed)
        plan = TrainingPlan(self.module, max_epochs=max_epochs, lr=lr, l1=l1, l2=l2,
                            l1_parameters=[self.module.conv1.weight], patience=patience,
                            monitor="val_loss", mode="min", device=device,
                            checkpoint_path=checkpoint_path, resume=resume,
                            metadata={"params": self._init_params}, desc="SequenceModel",
                            generator=gen)
        ctx = plan.setup()
        data = _SequenceData(self.module, Xt, yt, Xv, yv, batch_size=batch_size,
                             augment_rc=augment_rc, max_shift=max_shift, generator=gen,
                             device=ctx.device)
        self.history_ = plan.run(data)
        self.module.eval()
        self.is_trained_ = True
        self.train_time_ = {"wall_s": time.perf_counter() - t_wall,
                            "cpu_s": time.process_time() - t_cpu}
        logger.info(f"SequenceModel trained {len(self.history_)} epochs in "
                    f"{self.train_time_['wall_s']:.1f}s")
        return self

    def _training_split(self, X, y, X_valid, y_valid, validation_fraction: float):
        """Encoded training and validation sequences and targets (validation ``None``s when
        there is none); sets ``length`` from the training data when unset."""
        if isinstance(y, str):
            raise InputError("y must be the targets, not a string.")
        Xt = self._encode(X)
        yt = self._targets(y, Xt.shape[0])
        if self.length is None:
            self.length = int(Xt.shape[-1])
            self._init_params["length"] = self.length
        if X_valid is not None:
            Xv = self._encode(X_valid)
            return Xt, yt, Xv, self._targets(y_valid, Xv.shape[0])
        if validation_fraction and validation_fraction > 0:
            strat = yt[:, 0].numpy() if self.task != "regression" else None
            tr, va = split_indices(Xt.shape[0], (1 - validation_fraction, validation_fraction),
                                   stratify=strat, seed=self.seed)
            return Xt[tr], yt[tr], Xt[va], yt[va]
        return Xt, yt, None, None

    # ------------------------------------------------------------------ outputs
    def predict(self, X, *, batch_size: int = 1024, device: str | None = None,
                logits: bool = False) -> np.ndarray:
        """Predicted probabilities (binary/multi-task) or values (regression).

        Parameters
        ----------
        X
            Strings or one-hot ``(N, 4, L)``.
        batch_size
            Sequences per forward pass (under ``torch.inference_mode``).
        device
            Where to run.
        logits
            Return raw logits instead of probabilities.

        Returns
        -------
        ``(N,)`` for one output, else ``(N, n_outputs)``.
        """
        self._check_trained()
        out = predict(self.module, self._encode(X), batch_size=batch_size, device=device)
        if self.task != "regression" and not logits:
            out = torch.sigmoid(out)
        out = out.numpy()
        return out[:, 0] if out.shape[1] == 1 else out

    def embed(self, X, *, layer: str = "hidden", batch_size: int = 1024,
              device: str | None = None) -> np.ndarray:
        """Per-sequence embeddings: ``layer="hidden"`` the penultimate layer, ``"pooled"`` the
        pooled first-layer (or dilated) filter activations.

        Returns
        -------
        ``(N, D)`` array.
        """
        check_choice(layer, ("hidden", "pooled"), "layer")
        func = self.module.embed if layer == "hidden" else self.module.pooled
        return predict(self.module, self._encode(X), batch_size=batch_size, device=device,
                       func=func).numpy()

    def evaluate(self, X, y, *, batch_size: int = 1024) -> dict[str, float]:
        """AUROC/AUPRC (binary, multi-task: averaged over tasks) or R² (regression)."""
        self._check_trained()
        Xt = self._encode(X)
        yt = self._targets(y, Xt.shape[0])
        out = predict(self.module, Xt, batch_size=batch_size)
        return _metrics(out, yt, self.task)

    # ------------------------------------------------------------------ save/load
    @staticmethod
    def _read_payload(dir_path, cls_name: str) -> dict[str, Any]:
        payload = BaseModel._read_payload(dir_path, cls_name)
        params = payload["init_params"]
        # models saved before the penalties moved to train() and hidden became n_hidden
        if "hidden" in params:
            params["n_hidden"] = params.pop("hidden")
        params.pop("l1_filters", None)
        params.pop("l2", None)
        return payload

    def _extra_state(self) -> dict[str, Any]:
        return {"reference_sequences": self.reference_sequences_, "length": self.length,
                "train_time": self.train_time_}

    def _set_extra_state(self, state: dict[str, Any]) -> None:
        self.reference_sequences_ = list(state.get("reference_sequences", []))
        self.length = state.get("length", self.length)
        self.train_time_ = dict(state.get("train_time", {}))
