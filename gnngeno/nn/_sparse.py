"""Sparse products for graph layers on CPU and GPU without torch-sparse/pyg-lib.

Tensors (and SciPy matrices converted to tensors) only:

- :func:`to_torch_csr`: a SciPy matrix as a float32 torch CSR tensor;
- :func:`propagate`: ``A @ X`` with a backward that reuses ``A`` for symmetric graphs
  (torch's default builds a sparse transpose: about 3x slower on kNN graphs); ``A`` is used
  as given (normalise it with :func:`gnngeno.nn.gcn_adjacency`);
- :func:`sparse_linear`: ``X @ W^T + b`` for sparse ``X`` (expression rows) with a CSR
  backward (torch's default for sparse inputs sorts all non-zeros every step).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch


def to_torch_csr(A: sp.spmatrix, device: torch.device | str | None = None) -> torch.Tensor:
    """A SciPy sparse matrix as a float32 ``torch.sparse_csr_tensor`` (on ``device``)."""
    A = sp.csr_matrix(A, dtype=np.float32)
    A.sort_indices()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        t = torch.sparse_csr_tensor(torch.from_numpy(A.indptr.astype(np.int64)),
                                    torch.from_numpy(A.indices.astype(np.int64)),
                                    torch.from_numpy(A.data), size=A.shape)
    return t if device is None else t.to(device)


class _SymmetricSpMM(torch.autograd.Function):
    """``A @ X`` whose backward is ``A @ G`` (valid for symmetric ``A``), avoiding the sparse
    transpose torch's default backward builds (about 3x faster on kNN graphs)."""

    @staticmethod
    def forward(ctx, A, X):  # noqa: D102
        ctx.A = A
        return torch.sparse.mm(A, X)

    @staticmethod
    def backward(ctx, G):  # noqa: D102
        return None, torch.sparse.mm(ctx.A, G)


def propagate(A: torch.Tensor, X: torch.Tensor, *, symmetric: bool = True) -> torch.Tensor:
    """Sparse propagation ``A @ X`` with autograd.

    Parameters
    ----------
    A
        Sparse (CSR or COO) ``(N, M)`` adjacency, e.g. from :func:`to_torch_csr`.
    X
        Dense ``(M, F)`` node features.
    symmetric
        ``A`` is symmetric (GCN-normalised kNN graphs are): the backward pass reuses ``A``.

    Shapes
    ------
    ``A`` (N, M), ``X`` (M, F) -> (N, F).
    """
    if symmetric and X.requires_grad and A.shape[0] == A.shape[1]:
        return _SymmetricSpMM.apply(A, X)
    return torch.sparse.mm(A, X)


class _SparseLinear(torch.autograd.Function):
    """``X @ W^T + b`` for a sparse CSR ``X`` (no gradient for ``X``); the weight gradient
    ``G^T X`` is computed as ``(X^T G)^T`` with a CSR transpose of ``X``, avoiding the sort in
    torch's default sparse backward (embedding-bag / COO paths)."""

    @staticmethod
    def forward(ctx, X, W, b):  # noqa: D102
        ctx.X = X
        ctx.has_bias = b is not None
        out = torch.sparse.mm(X, W.t())
        return out + b if b is not None else out

    @staticmethod
    def backward(ctx, G):  # noqa: D102
        X = ctx.X
        Xt = getattr(ctx, "Xt", None)
        if Xt is None:
            Xt = _csr_transpose(X)
        gW = torch.sparse.mm(Xt, G).t()
        gb = G.sum(0) if ctx.has_bias else None
        return None, gW, gb


def _csr_transpose(X: torch.Tensor) -> torch.Tensor:
    """CSR transpose through SciPy (one O(nnz) pass)."""
    crow, col, val = X.crow_indices(), X.col_indices(), X.values()
    M = sp.csr_matrix((val.detach().cpu().numpy(), col.cpu().numpy(), crow.cpu().numpy()),
                      shape=tuple(X.shape))
    return to_torch_csr(M.T.tocsr(), X.device)


def sparse_linear(X: torch.Tensor, weight: torch.Tensor,
                  bias: torch.Tensor | None = None) -> torch.Tensor:
    """``X @ weight.T + bias`` for sparse ``X`` (e.g. expression rows), never densified.

    With a CSR ``X`` it uses a custom backward (weight gradient through ``X^T`` in CSR),
    several times faster than torch's default for COO/CSR inputs on CPU; other layouts fall
    back to :func:`torch.sparse.mm`.

    Shapes
    ------
    ``X`` (N, F_in) sparse, ``weight`` (F_out, F_in), ``bias`` (F_out,) -> (N, F_out).
    """
    if X.layout == torch.sparse_csr and X.device.type == "cpu":
        return _SparseLinear.apply(X, weight, bias)
    out = torch.sparse.mm(X, weight.t())
    return out + bias if bias is not None else out


__all__ = ["propagate", "sparse_linear", "to_torch_csr"]
