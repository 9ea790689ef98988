"""The graph convolutions every graph layer of the package is built from.

:func:`make_conv` returns one layer for a ``conv`` name of :data:`CONVS`: PyTorch Geometric's
``GCNConv`` (Kipf & Welling 2017), ``GATConv`` (Velickovic et al. 2018), ``GATv2Conv`` (Brody
et al. 2022), or for ``"sgc"`` (Wu et al. 2019) the linear map applied to features already
propagated with :func:`gnngeno.nn.sgc_propagate` / :func:`gnngeno.nn.propagate`. None of them
needs ``torch-scatter``, ``torch-sparse`` or ``pyg-lib``.
"""

from __future__ import annotations

from torch import nn

from .._validate import InputError

CONVS = ("gcn", "gat", "gatv2", "sgc")


def check_conv(conv: str, owner: str) -> None:
    """Raise an :class:`~gnngeno._validate.InputError` naming ``owner`` for an unknown
    ``conv``."""
    if conv not in CONVS:
        raise InputError(f"{owner}: conv={conv!r} is not supported; choose one of "
                         f"{list(CONVS)}.")


def make_conv(conv: str, in_dim: int, out_dim: int, *, heads: int = 1,
              attention_dropout: float = 0.0, add_self_loops: bool = True,
              cached: bool = False, batch_norm: bool = False,
              owner: str = "make_conv") -> nn.Module:
    """One graph layer ``in_dim -> out_dim`` of kind ``conv``.

    Parameters
    ----------
    conv
        ``"gcn"``, ``"gat"``, ``"gatv2"`` or ``"sgc"``.
    in_dim, out_dim
        Input and output feature sizes (for GAT: ``out_dim`` is the total over heads).
    heads
        GAT/GATv2 attention heads, concatenated (``out_dim`` must be divisible by it).
    attention_dropout
        Dropout on GAT/GATv2 attention coefficients.
    add_self_loops
        GCN (``cached=False``) and GAT/GATv2: add self-loops to the edge list.
    cached
        GCN: the layer reads an already normalised sparse adjacency
        (:func:`gnngeno.nn.gcn_adjacency`, ``GCNConv(normalize=False)``) instead of
        normalising its edge list at every call.
    batch_norm
        ``"sgc"``: batch normalisation after the linear map.
    owner
        Class name for error messages.

    Returns
    -------
    A module called as ``layer(x, edge_index[, edge_weight])`` (GCN, GAT), ``layer(x, adj)``
    (cached GCN) or ``layer(x)`` (SGC, on propagated features).

    Shapes
    ------
    ``x`` (N, in_dim), ``edge_index`` (2, E) or ``adj`` sparse (N, N) -> (N, out_dim).
    """
    check_conv(conv, owner)
    if conv == "sgc":
        lin = nn.Linear(in_dim, out_dim)
        if not batch_norm:
            return lin
        return nn.Sequential(lin, nn.BatchNorm1d(out_dim, momentum=0.01, eps=1e-3))
    from torch_geometric.nn import GATConv, GATv2Conv, GCNConv

    if conv == "gcn":
        if cached:
            return GCNConv(in_dim, out_dim, normalize=False)
        return GCNConv(in_dim, out_dim, add_self_loops=add_self_loops, normalize=True)
    if out_dim % heads:
        raise InputError(f"{owner}: the width {out_dim} of a conv={conv!r} layer must be "
                         f"divisible by heads={heads}; change heads or the layer width.")
    cls = GATConv if conv == "gat" else GATv2Conv
    # heads are concatenated, each has out_dim // heads channels
    return cls(in_dim, out_dim // heads, heads=heads, concat=True, dropout=attention_dropout,
               add_self_loops=add_self_loops)


__all__ = ["CONVS", "check_conv", "make_conv"]
