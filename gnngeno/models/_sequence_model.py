"""SequenceModel: a user-facing sequence CNN (train, predict, embed, save/load)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .._logging import logger
from .._settings import resolve_seed, seed_everything, settings
from .._validate import InputError, check_choice
from ..data._sequence import as_one_hot, augment, split_indices
from ..nn._sequence_cnn import SequenceCNN, predict
from ..nn._utils import weight_penalty
from ..train import fit
from ._base import BaseModel

TASKS = ("binary", "multitask", "regression")


def _lengths(X) -> set[int] | None:
    if isinstance(X, str):
        return {len(X)}
    if isinstance(X, torch.Tensor | np.ndarray):
        return None
    if hasattr(X, "columns"):
        X = X["sequence"]
    return {len(s) for s in X}


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
    n_filters, filter_size, n_dilated, dilated_kernel_size, hidden, activation, dropout, pooling, both_strands
        Architecture, see :class:`gnngeno.nn.SequenceCNN`.
    l1_filters
        L1 (lasso) penalty on the first-layer filters (sparser, more PWM-like filters).
    l2
        L2 (ridge) penalty on every weight matrix.
    seed
        Random seed (default ``settings.seed``).
    output_names
        Names of the targets (for tables).

    Examples
    --------
    >>> from gnngeno.data import simulate_sequences
    >>> seqs, y, _ = simulate_sequences(200, 50, seed=0)
    >>> model = SequenceModel(n_filters=8, filter_size=8)
    >>> model.train(seqs, y, max_epochs=2)  # doctest: +SKIP
    >>> model.predict(seqs).shape  # doctest: +SKIP
    (200,)
    """

    def __init__(self, *, n_outputs: int = 1, task: str = "binary", length: int | None = None,
                 n_filters: int = 64, filter_size: int = 19, n_dilated: int = 0,
                 dilated_kernel_size: int = 3, hidden: int = 32, activation: str = "relu",
                 dropout: float = 0.2, pooling: str = "max+mean", both_strands: bool = True,
                 l1_filters: float = 0.0, l2: float = 0.0, seed: int | None = None,
                 output_names: Sequence[str] | None = None) -> None:
        super().__init__(None)
        check_choice(task, TASKS, "task")
        if l1_filters < 0 or l2 < 0:
            raise InputError(f"l1_filters and l2 must be >= 0, got {l1_filters}, {l2}.")
        self.seed = resolve_seed(seed)
        self.task = task
        self.length = length
        self.l1_filters = float(l1_filters)
        self.l2 = float(l2)
        if output_names is not None and len(output_names) != n_outputs:
            raise InputError(f"{len(output_names)} output_names for n_outputs={n_outputs}.")
        self.output_names = (list(map(str, output_names)) if output_names is not None
                             else [f"output_{i}" for i in range(n_outputs)])
        self._init_params = dict(
            n_outputs=n_outputs, task=task, length=length, n_filters=n_filters,
            filter_size=filter_size, n_dilated=n_dilated,
            dilated_kernel_size=dilated_kernel_size, hidden=hidden, activation=activation,
            dropout=dropout, pooling=pooling, both_strands=both_strands,
            l1_filters=self.l1_filters, l2=self.l2, seed=self.seed,
            output_names=self.output_names,
        )
        seed_everything(self.seed)
        self.module = SequenceCNN(n_outputs, n_filters=n_filters, filter_size=filter_size,
                                  n_dilated=n_dilated, dilated_kernel_size=dilated_kernel_size,
                                  hidden=hidden, activation=activation, dropout=dropout,
                                  pooling=pooling, both_strands=both_strands)
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

    def _loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.task == "regression":
            return torch.nn.functional.mse_loss(out, y)
        return torch.nn.functional.binary_cross_entropy_with_logits(out, y)

    def _metrics(self, out: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        from sklearn.metrics import average_precision_score, r2_score, roc_auc_score

        yn, on = y.numpy(), out.numpy()
        res = {}
        if self.task == "regression":
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

    # ------------------------------------------------------------------ training
    def train(self, X, y=None, *, X_valid=None, y_valid=None, validation_fraction: float = 0.1,
              max_epochs: int = 30, batch_size: int = 256, lr: float = 2e-3,
              patience: int | None = 3, augment_rc: bool | None = None, max_shift: int = 0,
              device: str | None = None, checkpoint_path: str | None = None,
              resume: bool = False, n_reference: int = 2000) -> SequenceModel:
        """Train with Adam and early stopping on the validation loss.

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
        ``self``; ``history`` holds per-epoch ``loss``, ``val_loss`` and ``val_auroc``/``val_r2``.
        """
        t_wall, t_cpu = time.perf_counter(), time.process_time()
        if isinstance(y, str):
            raise InputError("y must be the targets, not a string.")
        Xt = self._encode(X)
        yt = self._targets(y, Xt.shape[0])
        if self.length is None:
            self.length = int(Xt.shape[-1])
            self._init_params["length"] = self.length
        if X_valid is not None:
            Xv = self._encode(X_valid)
            yv = self._targets(y_valid, Xv.shape[0])
        elif validation_fraction and validation_fraction > 0:
            strat = yt[:, 0].numpy() if self.task != "regression" else None
            tr, va = split_indices(Xt.shape[0], (1 - validation_fraction, validation_fraction),
                                   stratify=strat, seed=self.seed)
            Xt, yt, Xv, yv = Xt[tr], yt[tr], Xt[va], yt[va]
        else:
            Xv = yv = None
        if augment_rc is None:
            augment_rc = not self.module.both_strands
        # keep reference sequences for motif extraction (positives first)
        order = np.argsort(-yt[:, 0].numpy(), kind="stable") if self.task != "regression" \
            else np.argsort(-yt[:, 0].numpy())
        from ..data._sequence import decode_one_hot
        self.reference_sequences_ = decode_one_hot(Xt[order[:n_reference]]) if n_reference else []

        dev = settings.torch_device(device)
        seed_everything(self.seed)
        gen = torch.Generator().manual_seed(self.seed)
        module = self.module.to(dev)
        opt = torch.optim.Adam(module.parameters(), lr=lr)
        n = Xt.shape[0]

        def train_epoch(epoch: int) -> dict[str, float]:
            module.train()
            perm = torch.randperm(n, generator=gen)
            total, count = 0.0, 0
            for start in range(0, n, batch_size):
                idx = perm[start:start + batch_size]
                xb = Xt[idx]
                if augment_rc or max_shift:
                    xb = augment(xb, reverse_complement=augment_rc, max_shift=max_shift,
                                 generator=gen)
                xb, yb = xb.to(dev), yt[idx].to(dev)
                loss = self._loss(module(xb), yb)
                pen = loss.new_zeros(())
                if self.l1_filters:
                    pen = pen + weight_penalty([module.conv1.weight], l1=self.l1_filters).to(dev)
                if self.l2:
                    pen = pen + weight_penalty(module.parameters(), l2=self.l2).to(dev)
                opt.zero_grad(set_to_none=True)
                (loss + pen).backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
                count += len(idx)
            return {"loss": total / max(count, 1)}

        validate = None
        if Xv is not None:
            def validate() -> dict[str, float]:
                out = predict(module, Xv, batch_size=2048, device=dev)
                res = {"val_loss": float(self._loss(out, yv))}
                res.update({f"val_{k}": v for k, v in self._metrics(out, yv).items()})
                return res
        self.history_ = fit(module, opt, train_epoch, max_epochs=max_epochs, validate=validate,
                            monitor="val_loss", mode="min", patience=patience,
                            checkpoint_path=checkpoint_path, resume=resume,
                            metadata={"params": self._init_params}, desc="SequenceModel",
                            generator=gen)
        module.eval()
        self.is_trained_ = True
        self.train_time_ = {"wall_s": time.perf_counter() - t_wall,
                            "cpu_s": time.process_time() - t_cpu}
        logger.info(f"SequenceModel trained {len(self.history_)} epochs in "
                    f"{self.train_time_['wall_s']:.1f}s")
        return self

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
        return self._metrics(out, yt)

    # ------------------------------------------------------------------ save/load
    def _extra_state(self) -> dict[str, Any]:
        return {"reference_sequences": self.reference_sequences_, "length": self.length,
                "train_time": self.train_time_}

    def _set_extra_state(self, state: dict[str, Any]) -> None:
        self.reference_sequences_ = list(state.get("reference_sequences", []))
        self.length = state.get("length", self.length)
        self.train_time_ = dict(state.get("train_time", {}))
