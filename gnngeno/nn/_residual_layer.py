"""A residual graph layer on a sparse adjacency, for graphs trained in mini-batches.

Tensors only. The imputer's graph layers (:class:`~gnngeno.nn.GraphImputerModule`).
"""

from __future__ import annotations

import torch
from torch import nn

from .._validate import InputError
from ._conv import CONVS, make_conv
from ._sparse import propagate
from ._utils import get_activation


def edge_index_of(adj: torch.Tensor) -> torch.Tensor:
    """``(2, E)`` edge list ``(row, col)`` of a sparse CSR or COO adjacency.

    Shapes
    ------
    ``adj`` sparse (N, M) -> (2, nnz).
    """
    if adj.layout == torch.sparse_csr:
        crow = adj.crow_indices()
        rows = torch.repeat_interleave(torch.arange(adj.shape[0], device=adj.device),
                                       crow[1:] - crow[:-1])
        return torch.stack([rows, adj.col_indices()])
    return adj.coalesce().indices()


class ResidualGraphLayer(nn.Module):
    """One residual graph layer ``h + dropout(act(LayerNorm(conv(h))))`` of width ``dim``.

    ``conv="gcn"``: ``conv(h) = (Â h) W + b``, the sparse product :func:`gnngeno.nn.propagate`
    followed by the linear map of :func:`gnngeno.nn.make_conv`'s ``"sgc"`` layer (one hop per
    layer). ``"gat"``/``"gatv2"``: PyG's attention convolution over ``Â``'s non-zero pattern
    (which must include the self-loops), messages flowing column -> row.

    This is not a :class:`~gnngeno.nn.GraphEncoder` layer because its GCN form keeps the
    propagation apart from the weights: it runs on torch CSR mini-batches (row blocks of a
    symmetric ``Â`` whose backward reuses ``Â``, with no transposed copy and no torch-sparse),
    and layer-wise inference applies it to precomputed row chunks of ``Â H``
    (:meth:`combine`), where PyG's ``GCNConv`` needs the whole square graph in one call.

    Parameters
    ----------
    dim
        Width ``F`` of the input and output.
    conv
        ``"gcn"``, ``"gat"`` or ``"gatv2"``.
    activation
        Name for :func:`gnngeno.nn.get_activation`.
    dropout
        Dropout on the update (and on the attention coefficients).
    heads
        GAT/GATv2 attention heads (``dim`` must be divisible by it).
    owner
        Class name for error messages.

    Shapes
    ------
    - input: ``h`` ``(N, F)``; ``adj`` sparse ``(N, N)`` normalised adjacency (CSR or COO)
    - output: ``(N, F)``
    """

    def __init__(self, dim: int, *, conv: str = "gcn", activation: str = "relu",
                 dropout: float = 0.0, heads: int = 1,
                 owner: str = "ResidualGraphLayer") -> None:
        super().__init__()
        if conv not in CONVS or conv == "sgc":
            raise InputError(f"{owner}: conv={conv!r} has no residual graph layer; choose one "
                             f"of {[c for c in CONVS if c != 'sgc']}.")
        self.conv_name = conv
        if conv == "gcn":
            self.lin = make_conv("sgc", dim, dim, owner=owner)
        else:
            self.conv = make_conv(conv, dim, dim, heads=heads, attention_dropout=dropout,
                                  add_self_loops=False, owner=owner)
        self.norm = nn.LayerNorm(dim)
        self.act = get_activation(activation)
        self.drop = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, adj: torch.Tensor, symmetric: bool = True) -> torch.Tensor:
        """Update of every row of ``h`` (``symmetric=False`` for an adjacency that is not
        symmetric, e.g. with sampled neighbours)."""
        if self.conv_name == "gcn":
            return self.combine(h, propagate(adj, h, symmetric=symmetric))
        ei = edge_index_of(adj)
        m = self.conv(h, ei[[1, 0]])  # messages flow col -> row
        return h + self.drop(self.act(self.norm(m)))

    def combine(self, h: torch.Tensor, agg: torch.Tensor) -> torch.Tensor:
        """GCN update of rows ``h`` from their aggregated neighbourhood ``agg = (Â H)[rows]``.

        Shapes
        ------
        ``h`` (B, F), ``agg`` (B, F) -> (B, F).
        """
        return h + self.drop(self.act(self.norm(self.lin(agg))))


__all__ = ["ResidualGraphLayer", "edge_index_of"]
