"""Graph encoders: stacks of GCN / GAT / GATv2 layers with activation, dropout and residuals.

Tensors only (no AnnData). Built on PyTorch Geometric's ``GCNConv``, ``GATConv`` and
``GATv2Conv``, which need neither ``torch-scatter`` nor ``torch-sparse``.
"""

from __future__ import annotations

import torch
from torch import nn

from ._utils import get_activation

CONVS = ("gcn", "gat", "gatv2")


def _make_conv(conv: str, in_dim: int, out_dim: int, *, heads: int, dropout: float,
               last: bool) -> nn.Module:
    from torch_geometric.nn import GATConv, GATv2Conv, GCNConv

    if conv == "gcn":
        return GCNConv(in_dim, out_dim, add_self_loops=True, normalize=True)
    cls = GATConv if conv == "gat" else GATv2Conv
    if out_dim % heads:
        raise ValueError(f"GNNEncoder: hidden/out dimension {out_dim} must be divisible by "
                         f"heads={heads}; change heads or the dimension.")
    # heads are concatenated, each head has out_dim // heads channels
    return cls(in_dim, out_dim // heads, heads=heads, concat=True, dropout=dropout,
               add_self_loops=True)


class GNNEncoder(nn.Module):
    """A stack of graph convolutions mapping node features to node embeddings.

    Layer ``i`` computes ``h = act(conv_i(dropout(h), edge_index))`` (no activation after the
    last layer). With ``residual=True`` each layer adds a linear projection of its input
    (``h = conv(h) + W h``), which keeps the node's own features in deep or sparse graphs.

    Parameters
    ----------
    in_dim
        Input feature dimension ``F_in``.
    hidden_dim
        Width of the hidden layers.
    out_dim
        Embedding dimension ``F_out``.
    num_layers
        Number of graph layers (1 to 3 is typical; >= 1).
    conv
        ``"gcn"`` (Kipf & Welling), ``"gat"`` (Velickovic et al.) or ``"gatv2"`` (Brody et al.).
    activation
        Name for :func:`gnngeno.nn.get_activation` (``"relu"``, ``"elu"``, ...).
    dropout
        Dropout on each layer's input (and on attention weights for GAT).
    residual
        Add a linear skip connection around every layer.
    heads
        Attention heads for GAT/GATv2 (concatenated; dimensions must be divisible by it).
    input_dropout
        Dropout on the raw input features (default: ``dropout``).

    Shapes
    ------
    - input: node features ``(N, F_in)``, edge_index ``(2, E)`` (``edge_index[0]`` = source)
    - output: node embeddings ``(N, F_out)``

    Examples
    --------
    >>> import torch
    >>> enc = GNNEncoder(4, 8, 2, num_layers=2, conv="gcn")
    >>> ei = torch.tensor([[0, 1, 2], [1, 2, 3]])
    >>> enc(torch.randn(4, 4), ei).shape
    torch.Size([4, 2])
    """

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, num_layers: int = 2, *,
                 conv: str = "gcn", activation: str = "relu", dropout: float = 0.0,
                 residual: bool = True, heads: int = 1, input_dropout: float | None = None):
        super().__init__()
        if conv not in CONVS:
            raise ValueError(f"GNNEncoder: conv={conv!r} is not supported; choose one of {list(CONVS)}.")
        if num_layers < 1:
            raise ValueError(f"GNNEncoder: num_layers must be >= 1, got {num_layers}.")
        if not 0 <= dropout < 1:
            raise ValueError(f"GNNEncoder: dropout must be in [0, 1), got {dropout}.")
        self.conv_type = conv
        self.num_layers = num_layers
        self.residual = residual
        self.dropout = float(dropout)
        self.input_dropout = float(dropout if input_dropout is None else input_dropout)
        dims = [in_dim] + [hidden_dim] * (num_layers - 1) + [out_dim]
        self.convs = nn.ModuleList()
        self.skips = nn.ModuleList()
        for i in range(num_layers):
            last = i == num_layers - 1
            self.convs.append(_make_conv(conv, dims[i], dims[i + 1], heads=heads, dropout=dropout,
                                         last=last))
            if residual:
                self.skips.append(nn.Linear(dims[i], dims[i + 1], bias=False))
        self.act = get_activation(activation)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor,
                edge_weight: torch.Tensor | None = None) -> torch.Tensor:
        h = nn.functional.dropout(x, self.input_dropout, self.training)
        for i, conv in enumerate(self.convs):
            if i > 0:
                h = nn.functional.dropout(h, self.dropout, self.training)
            if self.conv_type == "gcn":
                out = conv(h, edge_index, edge_weight)
            else:
                out = conv(h, edge_index)
            if self.residual:
                out = out + self.skips[i](h)
            h = self.act(out) if i < self.num_layers - 1 else out
        return h


__all__ = ["CONVS", "GNNEncoder"]
