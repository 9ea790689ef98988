"""Small tensor-only helpers shared by the modules: activations and weight penalties."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "selu": nn.SELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softplus": nn.Softplus,
    "identity": nn.Identity,
}


def get_activation(name: str | nn.Module) -> nn.Module:
    """Return a fresh activation module by name (``"relu"``, ``"leaky_relu"``, ``"elu"``,
    ``"gelu"``, ``"selu"``, ``"tanh"``, ``"sigmoid"``, ``"softplus"``, ``"identity"``), or the
    module itself when one is given."""
    if isinstance(name, nn.Module):
        return name
    key = str(name).lower()
    if key not in ACTIVATIONS:
        raise ValueError(f"activation={name!r} is not supported; choose one of {sorted(ACTIVATIONS)}.")
    return ACTIVATIONS[key]()


def weight_penalty(parameters: Iterable[torch.nn.Parameter], *, l1: float = 0.0,
                   l2: float = 0.0) -> torch.Tensor:
    """Lasso (L1), ridge (L2) or elastic-net (both) penalty over weight matrices.

    Biases and other 1-d parameters are not penalised.

    Parameters
    ----------
    parameters
        Parameters to penalise, e.g. ``module.parameters()``.
    l1
        Weight of ``sum |w|`` (drives weights to exactly zero).
    l2
        Weight of ``sum w**2`` (shrinks weights).

    Returns
    -------
    A scalar tensor (``0.`` when both weights are zero).
    """
    if l1 < 0 or l2 < 0:
        raise ValueError(f"penalty weights must be >= 0, got l1={l1}, l2={l2}.")
    total = None
    if l1 == 0 and l2 == 0:
        return torch.zeros(())
    for p in parameters:
        if p.dim() < 2 or not p.requires_grad:
            continue
        term = 0.0
        if l1:
            term = term + l1 * p.abs().sum()
        if l2:
            term = term + l2 * p.pow(2).sum()
        total = term if total is None else total + term
    return total if total is not None else torch.zeros(())
