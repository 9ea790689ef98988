"""Attribution over one-hot sequences: saliency, input x gradient, in-silico mutagenesis.

Every function takes a :class:`~gnngeno.models.SequenceModel` or a plain :class:`torch.nn.Module`
mapping ``(N, 4, L)`` to ``(N, T)`` outputs, and returns a numpy array ``(N, 4, L)``. Attributions
are computed on the output logits (for binary models), as is customary.
"""

from __future__ import annotations

import numpy as np
import torch

from .._settings import settings
from .._validate import InputError


def _module_and_x(model, X) -> tuple[torch.nn.Module, torch.Tensor]:
    module = getattr(model, "module", model)
    if not isinstance(module, torch.nn.Module):
        raise InputError(f"expected a SequenceModel or torch.nn.Module, got {type(model).__name__}.")
    if hasattr(model, "_encode"):
        X = model._encode(X)
    else:
        from ..data._sequence import as_one_hot

        X = as_one_hot(X)
    return module, X


def _select(out: torch.Tensor, target: int) -> torch.Tensor:
    if out.ndim == 1:
        return out
    if not 0 <= target < out.shape[1]:
        raise InputError(f"target={target} but the model has {out.shape[1]} output(s); pass "
                         f"0..{out.shape[1] - 1}.")
    return out[:, target]


def _gradients(model, X, *, target: int, batch_size: int, device) -> tuple[np.ndarray, np.ndarray]:
    module, X = _module_and_x(model, X)
    dev = settings.torch_device(device)
    module = module.to(dev)
    was_training = module.training
    module.eval()
    grads = []
    try:
        for start in range(0, X.shape[0], batch_size):
            xb = X[start:start + batch_size].to(dev).clone().requires_grad_(True)
            out = _select(module(xb), target)
            (g,) = torch.autograd.grad(out.sum(), xb)
            grads.append(g.detach().cpu())
    finally:
        module.train(was_training)
    return torch.cat(grads).numpy(), X.numpy()


def saliency(model, X, *, target: int = 0, batch_size: int = 256,
             device: str | None = None) -> np.ndarray:
    """Saliency map: absolute gradient of the output with respect to the one-hot input
    (Simonyan et al. 2014).

    Parameters
    ----------
    model
        A trained :class:`~gnngeno.models.SequenceModel` or a module.
    X
        Strings or one-hot ``(N, 4, L)``.
    target
        Output (task) index.
    batch_size, device
        Batching and device.

    Returns
    -------
    ``(N, 4, L)`` array, non-negative.
    """
    g, _ = _gradients(model, X, target=target, batch_size=batch_size, device=device)
    return np.abs(g)


def input_x_gradient(model, X, *, target: int = 0, batch_size: int = 256,
                     device: str | None = None) -> np.ndarray:
    """Input-masked gradient (gradient x input): the gradient at the observed base of each
    position, zero elsewhere.

    Returns
    -------
    ``(N, 4, L)`` array; ``.sum(1)`` gives one score per position.
    """
    g, x = _gradients(model, X, target=target, batch_size=batch_size, device=device)
    return g * x


def in_silico_mutagenesis(model, X, *, target: int = 0, batch_size: int = 1024,
                          device: str | None = None) -> np.ndarray:
    """In-silico saturation mutagenesis: the change of the output when each position is mutated
    to each base.

    All ``4 L`` single-base variants of each sequence are scored in batches under
    ``torch.inference_mode``.

    Returns
    -------
    ``(N, 4, L)`` array: ``out(variant with base b at position l) - out(sequence)``; zero at the
    observed bases. ``-ism.mean(1)`` (or the value at the observed base of the mean-centred
    array) gives a per-position importance.
    """
    from ..nn._sequence_cnn import predict

    module, X = _module_and_x(model, X)
    N, _, L = X.shape
    ref = _select(predict(module, X, batch_size=batch_size, device=device), target).numpy()
    out = np.zeros((N, 4, L), dtype=np.float32)
    eye = torch.eye(4)
    per_seq = 4 * L
    seqs_per_batch = max(1, batch_size // per_seq)
    for start in range(0, N, seqs_per_batch):
        xb = X[start:start + seqs_per_batch]  # (n, 4, L)
        n = xb.shape[0]
        var = xb[:, None, None].repeat(1, 4, L, 1, 1)  # (n, 4, L, 4, L)
        pos = torch.arange(L)
        # variant (b, l): column l replaced by base b
        # advanced indices (pos, pos) separated by slices put their axis first: (L, n, 4, 4)
        var[:, :, pos, :, pos] = eye[None, None].expand(L, n, 4, 4)
        scores = _select(predict(module, var.reshape(n * 4 * L, 4, L), batch_size=batch_size,
                                 device=device), target).numpy().reshape(n, 4, L)
        out[start:start + n] = scores - ref[start:start + n, None, None]
    # exact zero at the observed base (identical input)
    observed = X.numpy() == 1.0
    out[observed] = 0.0
    return out
