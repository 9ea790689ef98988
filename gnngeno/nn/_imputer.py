"""Graph imputation network: a cell-graph encoder and a count decoder (tensors only).

The encoder embeds each cell's (masked, log-normalised) expression and mixes it with its
neighbours' on the cell kNN graph; the decoder maps the embedding to the parameters of a
count likelihood per gene, as in scVI/DCA: ``mu = softmax(...) * library`` with gene-wise
inverse dispersion (``"nb"``), plus zero-inflation logits (``"zinb"``), or a mean in
log-normalised space (``"gaussian"``, i.e. MSE).

Graph propagation uses a **sparse** normalised adjacency (``torch.sparse.mm``; no dense N x N
matrix) for ``conv="gcn"``, or PyG's ``GATConv`` on its edge list for ``conv="gat"``. With
``conv="sgc"`` the graph is read once, before training (SGC, Wu et al. 2019): each cell's
neighbourhood summary (``graph_features``, e.g. the mean of its neighbours' PCA) enters the
input layer beside its own expression, and no messages pass at run time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._likelihoods import log_gaussian, log_nb, log_zinb
from ._sparse import propagate, sparse_linear
from ._utils import get_activation

IMPUTER_CONVS = ("gcn", "gat", "sgc")
IMPUTER_LIKELIHOODS = ("nb", "zinb", "gaussian")


def _linear_in(lin: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """``lin(x)`` for dense or sparse (CSR/COO) ``x``; a sparse ``x`` is never densified.

    CSR input on CPU goes through :func:`gnngeno.nn.sparse_linear` (CSR product with a CSR
    backward: 2-3x faster than ``embedding_bag`` for forward + backward); on other devices
    through ``embedding_bag`` (sum of the weight rows of the non-zero genes, weighted by their
    values).
    """
    if x.layout == torch.sparse_csr and x.device.type == "cpu":
        return sparse_linear(x, lin.weight, lin.bias)
    if x.layout == torch.sparse_csr:
        crow = x.crow_indices()
        return F.embedding_bag(x.col_indices(), lin.weight.t().contiguous(), crow[:-1], mode="sum",
                               per_sample_weights=x.values(), include_last_offset=False) + lin.bias
    if x.is_sparse:
        return torch.sparse.mm(x, lin.weight.t()) + lin.bias
    return lin(x)


def _edge_index(adj: torch.Tensor) -> torch.Tensor:
    """``(2, E)`` edge list (row, col) of a sparse CSR or COO adjacency."""
    if adj.layout == torch.sparse_csr:
        crow = adj.crow_indices()
        rows = torch.repeat_interleave(torch.arange(adj.shape[0], device=adj.device),
                                       crow[1:] - crow[:-1])
        return torch.stack([rows, adj.col_indices()])
    return adj.coalesce().indices()


class _GraphLayer(nn.Module):
    """One residual graph layer: ``h + dropout(act(norm(propagate(h) W)))``.

    The GCN product reuses the (symmetric) normalised adjacency in its backward pass
    (:func:`gnngeno.nn.propagate`), so no sparse transpose is built.
    """

    def __init__(self, dim: int, conv: str, activation: str, dropout: float, heads: int) -> None:
        super().__init__()
        self.conv_name = conv
        if conv == "gcn":
            self.lin = nn.Linear(dim, dim)
        else:
            from torch_geometric.nn import GATConv

            if dim % heads:
                raise ValueError(f"GraphImputerModule: n_hidden={dim} must be divisible by "
                                 f"heads={heads} for conv='gat'.")
            self.conv = GATConv(dim, dim // heads, heads=heads, concat=True,
                                dropout=dropout, add_self_loops=False)
        self.norm = nn.LayerNorm(dim)
        self.act = get_activation(activation)
        self.drop = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, adj: torch.Tensor, symmetric: bool = True) -> torch.Tensor:
        if self.conv_name == "gcn":
            return self.combine(h, propagate(adj, h, symmetric=symmetric))
        ei = _edge_index(adj)
        m = self.conv(h, ei[[1, 0]])  # messages flow col -> row
        return h + self.drop(self.act(self.norm(m)))

    def combine(self, h: torch.Tensor, agg: torch.Tensor) -> torch.Tensor:
        """GCN update of rows ``h`` from their aggregated neighbourhood ``agg = (Â H)[rows]``."""
        return h + self.drop(self.act(self.norm(self.lin(agg))))


class GraphImputerModule(nn.Module):
    """Cell-graph encoder + count decoder for imputation.

    Encoder: ``h = act(norm(W_in x))`` per cell (``conv="sgc"``: ``act(norm(W_in x + W_g g))``
    with ``g`` the cell's precomputed graph features), then ``n_layers`` residual graph layers
    (GCN: ``h + act(norm((Â h) W))`` with ``Â`` the given sparse normalised adjacency, which
    must be symmetric, as GCN normalisation of an undirected graph and its induced subgraphs
    are; or GAT),
    then ``z = W_z h``. Decoder: ``act(norm(W_1 z))`` -> per-gene parameters.

    Parameters
    ----------
    n_genes
        Number of genes ``G``.
    n_hidden
        Width of the encoder and decoder hidden layers.
    n_latent
        Embedding (bottleneck) dimension.
    n_layers
        Graph layers (0 = no graph: a plain masked autoencoder). Each layer adds one hop to
        the neighbourhood a cell reads from. ``conv="sgc"`` has none (its graph is in
        ``graph_features``).
    conv
        ``"gcn"`` (sparse ``Â h`` products), ``"gat"`` (PyG ``GATConv`` over ``Â``'s
        non-zero pattern, which must include self-loops) or ``"sgc"`` (precomputed
        ``graph_features`` of each cell, read by the input layer).
    n_graph_features
        Size of the ``graph_features`` rows (``conv="sgc"``).
    likelihood
        ``"nb"``, ``"zinb"`` or ``"gaussian"`` (MSE on log-normalised values).
    activation
        Name for :func:`gnngeno.nn.get_activation`.
    dropout
        Dropout after every hidden layer.
    heads
        GAT attention heads.

    Shapes
    ------
    - input: node features ``x`` ``(N, G)`` dense or sparse (log-normalised expression of the
      N cells of a graph or of a sampled neighbourhood); ``adj`` sparse ``(N, N)`` normalised
      adjacency with self-loops; ``target`` ``(B,)`` indices of the cells to decode (default
      all); ``library`` ``(B,)`` library sizes of those cells (count likelihoods);
      ``graph_features`` ``(N, n_graph_features)`` (``conv="sgc"``).
    - output: dict with ``z`` ``(B, n_latent)`` and the likelihood parameters: ``rho``
      ``(B, G)`` (proportions, rows sum to 1), ``mu`` ``(B, G)``, ``theta`` ``(G,)``,
      ``pi_logits`` ``(B, G)`` (zinb); or ``mean`` ``(B, G)`` (gaussian).

    Examples
    --------
    >>> import torch
    >>> m = GraphImputerModule(5, n_hidden=8, n_latent=4)
    >>> adj = torch.eye(3).to_sparse()
    >>> out = m(torch.rand(3, 5), adj, library=torch.full((3,), 100.0))
    >>> out["mu"].shape, bool(torch.allclose(out["mu"].sum(1), torch.full((3,), 100.0)))
    (torch.Size([3, 5]), True)
    """

    def __init__(self, n_genes: int, *, n_hidden: int = 256, n_latent: int = 64,
                 n_layers: int = 1, conv: str = "gcn", likelihood: str = "nb",
                 activation: str = "relu", dropout: float = 0.1, heads: int = 4,
                 n_graph_features: int = 0) -> None:
        super().__init__()
        if conv not in IMPUTER_CONVS:
            raise ValueError(f"conv={conv!r} is not supported; choose one of {list(IMPUTER_CONVS)}.")
        if likelihood not in IMPUTER_LIKELIHOODS:
            raise ValueError(f"likelihood={likelihood!r} is not supported; choose one of "
                             f"{list(IMPUTER_LIKELIHOODS)}.")
        if n_layers < 0:
            raise ValueError(f"n_layers must be >= 0, got {n_layers}.")
        if conv == "sgc":
            if n_graph_features < 1:
                raise ValueError("conv='sgc' needs n_graph_features >= 1 (the size of the "
                                 "precomputed graph features).")
            n_layers = 0  # the graph is read through graph_features, not by message passing
        self.n_genes = int(n_genes)
        self.n_layers = int(n_layers)
        self.likelihood = likelihood
        self.lin_in = nn.Linear(n_genes, n_hidden)
        self.lin_graph = nn.Linear(n_graph_features, n_hidden) if conv == "sgc" else None
        self.norm_in = nn.LayerNorm(n_hidden)
        self.act_in = get_activation(activation)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            [_GraphLayer(n_hidden, conv, activation, dropout, heads) for _ in range(n_layers)])
        self.lin_z = nn.Linear(n_hidden, n_latent)
        self.dec = nn.Sequential(nn.Linear(n_latent, n_hidden), nn.LayerNorm(n_hidden),
                                 get_activation(activation), nn.Dropout(dropout))
        self.out = nn.Linear(n_hidden, n_genes)
        if likelihood == "zinb":
            self.out_pi = nn.Linear(n_hidden, n_genes)
        if likelihood != "gaussian":
            self.log_theta = nn.Parameter(torch.zeros(n_genes))

    def embed_input(self, x: torch.Tensor,
                    graph_features: torch.Tensor | None = None) -> torch.Tensor:
        """Per-cell input embedding ``act(norm(W_in x [+ W_g graph_features]))``
        ``(N, n_hidden)``."""
        h = _linear_in(self.lin_in, x)
        if self.lin_graph is not None:
            if graph_features is None:
                raise ValueError("conv='sgc' needs graph_features (N, n_graph_features) for "
                                 "the N input rows.")
            h = h + self.lin_graph(graph_features)
        return self.drop(self.act_in(self.norm_in(h)))

    def encode(self, x: torch.Tensor, adj: torch.Tensor,
               target: torch.Tensor | None = None, symmetric: bool = True,
               graph_features: torch.Tensor | None = None) -> torch.Tensor:
        """Embeddings ``(B, n_latent)`` of the ``target`` cells (``symmetric=False`` for an
        adjacency that is not symmetric, e.g. with sampled neighbours; ``graph_features``
        for ``conv="sgc"``)."""
        h = self.embed_input(x, graph_features)
        for layer in self.layers:
            h = layer(h, adj, symmetric=symmetric)
        if target is not None:
            h = h[target]
        return self.lin_z(h)

    def decode(self, z: torch.Tensor, library: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Likelihood parameters from embeddings (see the class Shapes block)."""
        d = self.dec(z)
        out: dict[str, torch.Tensor] = {"z": z}
        if self.likelihood == "gaussian":
            out["mean"] = self.out(d)
            return out
        rho = torch.softmax(self.out(d), dim=-1)
        out["rho"] = rho
        out["theta"] = torch.exp(self.log_theta)
        if library is not None:
            out["mu"] = rho * library.unsqueeze(-1)
        if self.likelihood == "zinb":
            out["pi_logits"] = self.out_pi(d)
        return out

    def forward(self, x: torch.Tensor, adj: torch.Tensor, target: torch.Tensor | None = None,
                library: torch.Tensor | None = None, symmetric: bool = True,
                graph_features: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        return self.decode(self.encode(x, adj, target, symmetric=symmetric,
                                       graph_features=graph_features), library)

    def log_likelihood(self, y: torch.Tensor, out: dict[str, torch.Tensor]) -> torch.Tensor:
        """Per-entry log-likelihood ``(B, G)`` of targets ``y``: counts for nb/zinb,
        log-normalised values for gaussian (where it is ``-0.5 * (y - mean)**2`` up to a
        constant, i.e. MSE, with the gene-wise variance fixed to 1)."""
        if self.likelihood == "gaussian":
            return log_gaussian(y, out["mean"], 0.0)
        if self.likelihood == "zinb":
            return log_zinb(y, out["mu"], out["theta"], out["pi_logits"])
        return log_nb(y, out["mu"], out["theta"])

    def normalized_expression(self, out: dict[str, torch.Tensor],
                              target_sum: float = 1e4) -> torch.Tensor:
        """Imputed ``log1p`` of expression normalised to ``target_sum`` per cell ``(B, G)``.

        For nb/zinb this is ``log1p(rho * target_sum)``: the mean of the negative binomial
        (the denoised expression, zero-inflation removed); for gaussian the predicted
        log-normalised mean clipped at 0.
        """
        if self.likelihood == "gaussian":
            return torch.clamp(out["mean"], min=0.0)
        return torch.log1p(out["rho"] * target_sum)


__all__ = ["GraphImputerModule", "IMPUTER_CONVS", "IMPUTER_LIKELIHOODS"]
