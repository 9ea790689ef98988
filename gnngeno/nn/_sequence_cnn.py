"""A convolutional network over one-hot DNA whose first-layer filters act as PWMs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from ._utils import get_activation

TASKS = ("binary", "multitask", "regression")


def sequence_loss(out: torch.Tensor, y: torch.Tensor, task: str = "binary") -> torch.Tensor:
    """Mean loss of outputs ``out`` against targets ``y``, both ``(N, n_outputs)``.

    Binary cross-entropy on logits for ``task="binary"``/``"multitask"`` (one independent
    binary target per output), mean squared error for ``"regression"``.
    """
    if task == "regression":
        return nn.functional.mse_loss(out, y)
    return nn.functional.binary_cross_entropy_with_logits(out, y)


class _DilatedResidual(nn.Module):
    """``x + drop(act(bn(conv_dilated(x))))`` with 'same' padding."""

    def __init__(self, channels: int, kernel_size: int, dilation: int, activation: str,
                 dropout: float) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel_size, dilation=dilation,
                              padding=dilation * (kernel_size - 1) // 2)
        self.norm = nn.BatchNorm1d(channels)
        self.act = get_activation(activation)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.drop(self.act(self.norm(self.conv(x))))


class SequenceCNN(nn.Module):
    r"""DeepBind/Basset-style CNN over one-hot DNA, scoring both strands.

    ``x -> conv(4 -> F, filter_size) -> act -> [dilated residual convs, dilation 2^i] ->
    global max ⊕ mean pooling -> dropout -> Linear(2F -> hidden) -> act -> dropout ->
    Linear(hidden -> n_outputs)``.

    With ``both_strands=True`` the sequence and its reverse complement go through the same
    filters; the max-pooled features take the maximum over both strands and the mean-pooled ones
    the average, so the output is exactly invariant to reverse complementing the input.

    Parameters
    ----------
    n_outputs
        Number of outputs (tasks).
    n_filters
        First-layer filters ``F`` (the "motif detectors").
    filter_size
        Width of first-layer filters (motif-sized, e.g. 11-24 bp).
    n_dilated
        Dilated residual convolutions after the first layer (receptive field grows as
        ``2^n_dilated``); 0 gives the one-layer DeepBind architecture.
    dilated_kernel_size
        Kernel width of the dilated convolutions.
    hidden
        Units of the hidden fully connected layer (0: linear head on the pooled features).
    activation
        Name accepted by :func:`gnngeno.nn.get_activation`.
    dropout
        Dropout before and after the hidden layer.
    pooling
        ``"max+mean"`` (default), ``"max"`` or ``"mean"``.
    both_strands
        Score the reverse complement too (see above).
    task
        What :meth:`loss` computes: ``"binary"``/``"multitask"`` (binary cross-entropy on the
        logits) or ``"regression"`` (mean squared error); see :func:`sequence_loss`.

    Shapes
    ------
    - input ``x``: ``(N, 4, L)`` one-hot (A, C, G, T), ``L >= filter_size``
    - output: ``(N, n_outputs)`` logits (binary / multi-task) or values (regression)
    - :meth:`embed`: ``(N, hidden)`` (or ``(N, P)`` pooled features when ``hidden=0``)
    """

    def __init__(self, n_outputs: int = 1, *, n_filters: int = 64, filter_size: int = 19,
                 n_dilated: int = 0, dilated_kernel_size: int = 3, hidden: int = 32,
                 activation: str = "relu", dropout: float = 0.2, pooling: str = "max+mean",
                 both_strands: bool = True, task: str = "binary") -> None:
        super().__init__()
        if task not in TASKS:
            raise ValueError(f"task={task!r} is not supported; choose one of {list(TASKS)}.")
        if pooling not in ("max+mean", "max", "mean"):
            raise ValueError(f"pooling={pooling!r} is not supported; choose 'max+mean', 'max' "
                             "or 'mean'.")
        if n_filters < 1 or filter_size < 1 or n_outputs < 1:
            raise ValueError("n_filters, filter_size and n_outputs must be positive.")
        self.n_outputs = n_outputs
        self.task = task
        self.filter_size = filter_size
        self.both_strands = both_strands
        self.pooling = pooling
        self.conv1 = nn.Conv1d(4, n_filters, filter_size)
        self.act1 = get_activation(activation)
        self.dilated = nn.Sequential(*[
            _DilatedResidual(n_filters, dilated_kernel_size, 2 ** (i + 1), activation, dropout)
            for i in range(n_dilated)
        ])
        n_pooled = n_filters * (2 if pooling == "max+mean" else 1)
        self.drop = nn.Dropout(dropout)
        if hidden and hidden > 0:
            self.hidden = nn.Sequential(nn.Linear(n_pooled, hidden), get_activation(activation),
                                        nn.Dropout(dropout))
            n_last = hidden
        else:
            self.hidden = nn.Identity()
            n_last = n_pooled
        self.embedding_dim = n_last
        self.out = nn.Linear(n_last, n_outputs)

    def first_layer_activations(self, x: torch.Tensor) -> torch.Tensor:
        """Activations of the first-layer filters (after the non-linearity), ``(N, F, L - w + 1)``."""
        return self.act1(self.conv1(x))

    def _pool_one(self, x: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        h = self.dilated(self.first_layer_activations(x))
        mx = h.amax(-1) if self.pooling in ("max+mean", "max") else None
        mn = h.mean(-1) if self.pooling in ("max+mean", "mean") else None
        return mx, mn

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """Globally pooled features over both strands, ``(N, F)`` or ``(N, 2F)``."""
        if x.shape[-1] < self.filter_size:
            raise ValueError(f"sequences of {x.shape[-1]} bp are shorter than the filters "
                             f"({self.filter_size} bp); pad them (one_hot_encode(length=...)).")
        n = x.shape[0]
        if self.both_strands:
            mx, mn = self._pool_one(torch.cat([x, x.flip(-1).flip(-2)], 0))
            mx = None if mx is None else torch.maximum(mx[:n], mx[n:])
            mn = None if mn is None else 0.5 * (mn[:n] + mn[n:])
        else:
            mx, mn = self._pool_one(x)
        return torch.cat([t for t in (mx, mn) if t is not None], 1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer activations, ``(N, embedding_dim)``."""
        return self.hidden(self.drop(self.pooled(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.embed(x))

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Training loss on a batch: ``{"loss": sequence_loss(self(x), y, self.task)}``.

        Parameters
        ----------
        x
            One-hot sequences ``(N, 4, L)``.
        y
            Targets ``(N, n_outputs)`` (0/1 for binary tasks).
        """
        return {"loss": sequence_loss(self(x), y, self.task)}


def predict(model, X, *, batch_size: int = 1024, device: str | torch.device | None = None,
            func: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """Run ``model`` over ``X`` in batches under :func:`torch.inference_mode` (tangermeme-style).

    Parameters
    ----------
    model
        A :class:`torch.nn.Module` (or a :class:`~gnngeno.models.SequenceModel`, whose module is
        used; its outputs are then raw logits).
    X
        One-hot ``(N, 4, L)`` tensor or array (encode strings with
        :func:`gnngeno.data.one_hot_encode`, or use :meth:`gnngeno.models.SequenceModel.predict`).
    batch_size
        Sequences per forward pass.
    device
        Where to run (default ``settings.device``); results come back on the CPU.
    func
        Called on each batch instead of ``model(batch)`` (e.g. ``module.embed``).

    Returns
    -------
    Tensor with the outputs of all batches concatenated, on the CPU.
    """
    from .._settings import settings

    module = getattr(model, "module", model)
    if isinstance(X, str) or not isinstance(X, torch.Tensor | np.ndarray):
        raise TypeError(f"predict takes one-hot sequences (N, 4, L) as a tensor or array, got "
                        f"{type(X).__name__}; encode strings with gnngeno.data.one_hot_encode.")
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim == 2:  # one sequence
        X = X[None]
    if X.ndim != 3 or X.shape[1] != 4:
        raise ValueError(f"expected one-hot sequences of shape (N, 4, L), got {tuple(X.shape)}; "
                         "if channels come last, transpose with X.transpose(1, 2).")
    dev = settings.torch_device(None if device is None else str(device))
    module = module.to(dev)
    was_training = module.training
    module.eval()
    f = func if func is not None else module
    outs = []
    try:
        with torch.inference_mode():
            for start in range(0, X.shape[0], int(batch_size)):
                outs.append(f(X[start:start + int(batch_size)].to(dev)).float().cpu())
    finally:
        module.train(was_training)
    if not outs:
        return torch.zeros((0,))
    return torch.cat(outs, 0)

