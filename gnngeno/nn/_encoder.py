"""The graph encoder: a stack of graph convolutions (GCN, GAT, GATv2 or SGC) to node embeddings.

Tensors only. Used by the link predictor of :class:`~gnngeno.models.GRNPredictor` (through
:class:`GNNEncoder`, its argument names) and by :class:`~gnngeno.nn.GraphAutoencoder`
(optionally variational). The imputer's layers are residual blocks around the same
convolutions (:class:`~gnngeno.nn.ResidualGraphLayer`).
"""

from __future__ import annotations

import torch
from torch import nn

from .._validate import InputError
from ._conv import CONVS, check_conv, make_conv
from ._graph_ops import gcn_adjacency, propagate_features
from ._utils import get_activation


def _dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    return nn.functional.dropout(x, p, training) if p > 0 else x


class GraphEncoder(nn.Module):
    """A stack of graph convolutions mapping node features to node embeddings (or, variational,
    to the mean and log standard deviation of a Gaussian latent).

    Layer ``i`` computes ``h = act(conv_i(dropout(h)) [+ W_i dropout(h)])`` (no activation after
    the last layer; the dropout of the first layer is ``input_dropout``). ``residual=True`` adds
    the linear skip ``W_i h``, which keeps a node's own features in deep or sparse graphs. With
    ``conv="sgc"`` the layers are linear maps (with batch normalisation in the hidden ones) of
    the propagated input ``Â^hops x`` (SGC, Wu et al. 2019), computed once per graph and
    cached, so that mini-batches are rows of it (:meth:`smooth`, ``forward(rows, None)``).

    Parameters
    ----------
    n_input
        Input feature size ``F_in``.
    n_hidden
        Width of the hidden layers (for GAT: the total over heads).
    n_latent
        Output (latent) size ``F_out``.
    n_layers
        Number of graph layers (>= 1).
    conv
        ``"gcn"`` (``GCNConv``, uses edge weights), ``"gat"`` (``GATConv``), ``"gatv2"``
        (``GATv2Conv``) or ``"sgc"`` (linear layers on ``Â^hops x``, uses edge weights).
    variational
        Return ``(mu, logstd)`` (for :class:`torch_geometric.nn.VGAE`) instead of ``z``: a
        second last layer gives ``logstd`` (clamped at 10).
    activation
        Name for :func:`gnngeno.nn.get_activation`.
    dropout
        Dropout on the input of every layer after the first.
    input_dropout
        Dropout on the input features (default: ``dropout``; 0 for ``"sgc"``, whose input is
        the propagated features).
    attention_dropout
        Dropout on GAT/GATv2 attention coefficients.
    heads, out_heads
        GAT/GATv2 attention heads of the hidden layers and of the last layer (concatenated:
        the widths must be divisible by them).
    residual
        Add a linear skip connection around every layer.
    hops
        Propagation steps of ``"sgc"`` (0: an MLP that ignores the graph).
    batch_norm
        Batch normalisation in the hidden layers of ``"sgc"``.
    cached
        GCN: normalise the graph once (:func:`gnngeno.nn.gcn_adjacency`, a sparse CSR tensor
        kept while the same edge tensors come in) and multiply by it (full-graph training on
        a fixed graph); ``False``: ``GCNConv`` normalises the edge list at every call.

    Shapes
    ------
    - input: node features ``x`` ``(N, F_in)``; ``edge_index`` ``(2, E)`` (``edge_index[0]`` =
      source); ``edge_weight`` ``(E,)`` (GCN, SGC)
    - output: ``z`` ``(N, F_out)``, or ``(mu, logstd)``, each ``(N, F_out)``

    Examples
    --------
    >>> import torch
    >>> enc = GraphEncoder(4, 8, 2, conv="gcn")
    >>> ei = torch.tensor([[0, 1, 2], [1, 2, 3]])
    >>> enc(torch.randn(4, 4), ei).shape
    torch.Size([4, 2])
    """

    def __init__(self, n_input: int, n_hidden: int = 128, n_latent: int = 10, *,
                 n_layers: int = 2, conv: str = "gcn", variational: bool = False,
                 activation: str = "relu", dropout: float = 0.1,
                 input_dropout: float | None = None, attention_dropout: float = 0.0,
                 heads: int = 4, out_heads: int = 1, residual: bool = False, hops: int = 2,
                 batch_norm: bool = True, cached: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        check_conv(conv, name)
        if n_layers < 1:
            raise InputError(f"{name}: n_layers must be >= 1, got {n_layers}.")
        if int(hops) < 0:
            raise InputError(f"{name}: hops must be >= 0, got {hops}; use 0 for no propagation.")
        for key, p in (("dropout", dropout), ("input_dropout", input_dropout),
                       ("attention_dropout", attention_dropout)):
            if p is not None and not 0 <= p < 1:
                raise InputError(f"{name}: {key} must be in [0, 1), got {p}.")
        self.conv_kind, self.variational, self.hops = conv, bool(variational), int(hops)
        self.n_layers, self.residual, self.cached = int(n_layers), bool(residual), bool(cached)
        self.dropout = float(dropout)
        if input_dropout is None:
            input_dropout = 0.0 if conv == "sgc" else dropout
        self.input_dropout = float(input_dropout)
        dims = [n_input] + [n_hidden] * (n_layers - 1) + [n_latent]

        def layer(i: int) -> nn.Module:
            last = i == n_layers - 1
            return make_conv(conv, dims[i], dims[i + 1], heads=out_heads if last else heads,
                             attention_dropout=attention_dropout, cached=cached,
                             batch_norm=batch_norm and not last, owner=name)

        # construction order = parameter order = random initialisation: conv_0, skip_0, ...
        self.convs = nn.ModuleList()
        self.skips = nn.ModuleList()
        for i in range(n_layers):
            self.convs.append(layer(i))
            if residual:
                self.skips.append(nn.Linear(dims[i], dims[i + 1], bias=False))
        self.conv_logstd = layer(n_layers - 1) if variational else None
        self.act = get_activation(activation)
        self._adj_cache: tuple | None = None
        self._x_cache: tuple | None = None
        self.register_load_state_dict_pre_hook(_rename_former_keys)

    # ------------------------------------------------------------------ graph caches
    def _adjacency(self, edge_index: torch.Tensor, edge_weight: torch.Tensor | None,
                   n: int) -> torch.Tensor:
        key = (edge_index.data_ptr(), tuple(edge_index.shape), n, edge_index.device,
               None if edge_weight is None else edge_weight.data_ptr())
        if self._adj_cache is None or self._adj_cache[0] != key:
            # keep the inputs referenced so that their memory (and data_ptr) is not reused
            self._adj_cache = (key, gcn_adjacency(edge_index, edge_weight, n), edge_index,
                               edge_weight)
        return self._adj_cache[1]

    def _smoothed(self, x: torch.Tensor, edge_index: torch.Tensor,
                  edge_weight: torch.Tensor | None) -> torch.Tensor:
        """``Â^hops x``, cached while ``x`` and the graph are the same tensors."""
        adj = self._adjacency(edge_index, edge_weight, x.shape[0])
        key = (x.data_ptr(), tuple(x.shape), x.device, self._adj_cache[0], self.hops,
               x.requires_grad)
        if self._x_cache is None or self._x_cache[0] != key:
            with torch.set_grad_enabled(x.requires_grad):
                self._x_cache = (key, propagate_features(adj, x, self.hops), x)
        return self._x_cache[1]

    def smooth(self, x: torch.Tensor, edge_index: torch.Tensor,
               edge_weight: torch.Tensor | None = None) -> torch.Tensor:
        """``"sgc"``: the propagated input ``Â^hops x`` (N, F_in) that :meth:`forward` reads,
        for mini-batches of its rows (``forward(rows, None)``)."""
        if self.conv_kind != "sgc":
            raise InputError(f"{type(self).__name__}.smooth: only the 'sgc' encoder propagates "
                             f"its input before the layers; this one is {self.conv_kind!r}.")
        return self._smoothed(x, edge_index, edge_weight)

    # ------------------------------------------------------------------ forward
    def _conv(self, conv: nn.Module, h: torch.Tensor, graph, weight) -> torch.Tensor:
        if self.conv_kind == "sgc":
            return conv(h)
        if self.conv_kind == "gcn" and not self.cached:
            return conv(h, graph, weight)
        return conv(h, graph)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor | None,
                edge_weight: torch.Tensor | None = None):
        """Embedding of every node of ``x``. ``edge_index=None`` (``"sgc"`` only): ``x`` holds
        rows of the already propagated input (:meth:`smooth`), e.g. a mini-batch of nodes."""
        graph, weight = edge_index, edge_weight
        if self.conv_kind == "sgc":
            if edge_index is not None:
                x = self._smoothed(x, edge_index, edge_weight)
        elif edge_index is None:
            raise InputError(f"{type(self).__name__}(conv={self.conv_kind!r}) needs the graph "
                             "(edge_index); only the 'sgc' encoder reads precomputed rows.")
        elif self.conv_kind == "gcn" and self.cached:
            graph, weight = self._adjacency(edge_index, edge_weight, x.shape[0]), None
        h = _dropout(x, self.input_dropout, self.training)
        last = self.n_layers - 1
        logstd = None
        for i, conv in enumerate(self.convs):
            if i > 0:
                h = _dropout(h, self.dropout, self.training)
            out = self._conv(conv, h, graph, weight)
            if i == last and self.conv_logstd is not None:
                logstd = self._conv(self.conv_logstd, h, graph, weight).clamp(max=10.0)
            if self.residual:
                out = out + self.skips[i](h)
            h = self.act(out) if i < last else out
        return h if logstd is None else (h, logstd)


def _rename_former_keys(module: GraphEncoder, state_dict: dict, prefix: str, *_args) -> None:
    """Load state dicts saved before the encoders were merged (``conv1``/``conv_mu``/``body``
    of the graph autoencoder's encoder)."""
    sgc_bn = module.conv_kind == "sgc" and isinstance(module.convs[0], nn.Sequential)
    old_to_new = {"conv1.": "convs.0.", "conv_mu.": f"convs.{module.n_layers - 1}.",
                  "body.0.": "convs.0.0." if sgc_bn else "convs.0.", "body.1.": "convs.0.1."}
    for key in [k for k in state_dict if k.startswith(prefix)]:
        rest = key[len(prefix):]
        for old, new in old_to_new.items():
            if rest.startswith(old):
                state_dict[prefix + new + rest[len(old):]] = state_dict.pop(key)
                break


class GNNEncoder(GraphEncoder):
    """:class:`GraphEncoder` with the link predictor's argument names and defaults: residual
    layers, the same attention heads (and attention dropout ``dropout``) in every layer, and
    GCN layers that normalise their edge list at every call.

    Parameters
    ----------
    in_dim, hidden_dim, out_dim, num_layers
        ``n_input``, ``n_hidden``, ``n_latent`` and ``n_layers`` of :class:`GraphEncoder`.
    conv, activation, dropout, residual, heads, input_dropout, hops
        As in :class:`GraphEncoder` (``heads`` for every layer).

    Shapes
    ------
    - input: node features ``(N, in_dim)``, edge_index ``(2, E)`` (``edge_index[0]`` = source)
    - output: node embeddings ``(N, out_dim)``

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
                 residual: bool = True, heads: int = 1, input_dropout: float | None = None,
                 hops: int = 2):
        if num_layers < 1:
            raise InputError(f"GNNEncoder: num_layers must be >= 1, got {num_layers}.")
        super().__init__(in_dim, hidden_dim, out_dim, n_layers=num_layers, conv=conv,
                         activation=activation, dropout=dropout, input_dropout=input_dropout,
                         attention_dropout=dropout, heads=heads, out_heads=heads,
                         residual=residual, hops=hops, cached=False)


__all__ = ["CONVS", "GNNEncoder", "GraphEncoder"]
