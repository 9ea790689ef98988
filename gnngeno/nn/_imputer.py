r"""Graph imputation network: a cell-graph encoder and a count decoder (tensors only).

The encoder embeds each cell's (masked, log-normalised) expression and mixes it with its
neighbours' on the cell kNN graph; the decoder maps the embedding to the parameters of a
count likelihood per gene, as in scVI/DCA: ``mu = softmax(...) * library`` with gene-wise
inverse dispersion (``"nb"``), plus zero-inflation logits (``"zinb"``), or a mean in
log-normalised space (``"gaussian"``, i.e. MSE).

The graph layers are :class:`~gnngeno.nn.ResidualGraphLayer`\ s on a **sparse** normalised
adjacency (``torch.sparse.mm``; no dense N x N matrix) for ``conv="gcn"``, or PyG's
``GATConv``/``GATv2Conv`` on its edge list for ``conv="gat"``/``"gatv2"``. With
``conv="sgc"`` the graph is read once, before training (SGC, Wu et al. 2019): each cell's
neighbourhood summary (``graph_features``, e.g. the mean of its neighbours' PCA) enters the
input layer beside its own expression, and no messages pass at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ._conv import CONVS, check_conv
from ._likelihoods import log_gaussian, log_nb, log_zinb
from ._residual_layer import ResidualGraphLayer
from ._sparse import sparse_linear
from ._utils import get_activation

IMPUTER_CONVS = CONVS  # gcn/gat/gatv2: residual graph layers; sgc: precomputed graph features
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
        ``"gcn"`` (sparse ``Â h`` products), ``"gat"``/``"gatv2"`` (PyG ``GATConv`` /
        ``GATv2Conv`` over ``Â``'s non-zero pattern, which must include self-loops;
        see :class:`~gnngeno.nn.ResidualGraphLayer`) or ``"sgc"`` (precomputed
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
        check_conv(conv, "GraphImputerModule")
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
            [ResidualGraphLayer(n_hidden, conv=conv, activation=activation, dropout=dropout,
                                heads=heads, owner="GraphImputerModule")
             for _ in range(n_layers)])
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

    def loss(self, x: torch.Tensor, adj: torch.Tensor | None, target: torch.Tensor,
             library: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, *,
             symmetric: bool = True, graph_features: torch.Tensor | None = None,
             visible_weight: float = 0.0) -> dict[str, torch.Tensor]:
        """Masked reconstruction loss of one batch: the mean negative log-likelihood of the
        entries ``mask`` (hidden from the input ``x``), plus ``visible_weight`` times that of
        the other entries.

        Parameters
        ----------
        x, adj, target, library, symmetric, graph_features
            As :meth:`forward` (``x`` with the masked entries removed).
        y
            ``(B, G)`` targets of the ``target`` cells: counts (nb/zinb) or log-normalised
            values (gaussian).
        mask
            ``(B, G)`` bool, the entries scored.
        visible_weight
            Weight of the likelihood of the entries not in ``mask`` (0: hidden entries only,
            which forces prediction from context).

        Returns
        -------
        ``{"loss": scalar tensor}``.
        """
        out = self(x, adj, target, library, symmetric=symmetric, graph_features=graph_features)
        if visible_weight > 0:
            ll = self.log_likelihood(y, out)
            v = ~mask
            loss = (-(ll * mask).sum() / mask.sum().clamp(min=1)
                    - visible_weight * (ll * v).sum() / v.sum().clamp(min=1))
            return {"loss": loss}
        # the likelihood of the hidden entries only, without (B, G) likelihood tensors
        r, c = mask.nonzero(as_tuple=True)
        picked = {k: (v[c] if k == "theta" else v[r, c]) for k, v in out.items()
                  if k in ("mu", "theta", "pi_logits", "mean")}
        return {"loss": -self.log_likelihood(y[r, c], picked).sum() / max(int(r.numel()), 1)}

    @torch.no_grad()
    def inference(self, x: Callable[[slice], torch.Tensor], n: int, *,
                  adj: Callable[[slice], torch.Tensor] | None = None,
                  library: torch.Tensor | None = None,
                  graph_features: torch.Tensor | None = None,
                  subgraph: Callable[[slice], tuple] | None = None,
                  batch_size: int = 512) -> Iterator[tuple[slice, dict[str, torch.Tensor]]]:
        """Decode all ``n`` cells in contiguous chunks (eval mode, no gradients).

        GCN layers run layer by layer over the whole graph (PyG's layer-wise inference):
        the input embedding of every cell once, then each layer as row chunks of ``Â H``,
        then the decoder per chunk, so each cell is embedded once (extra memory: two
        ``(n, n_hidden)`` float32 arrays on the CPU). Without graph layers (``conv="sgc"``,
        ``n_layers=0``) each chunk needs only its own rows; other layers (GAT) run on each
        chunk with its neighbourhood from ``subgraph``.

        Parameters
        ----------
        x
            ``x(rows)``: the input rows ``(len(rows), G)`` (dense or sparse CSR).
        n
            Number of cells.
        adj
            ``adj(rows)``: rows ``(len(rows), n)`` of the sparse normalised adjacency (GCN).
        library
            ``(n,)`` library sizes (count likelihoods).
        graph_features
            ``(n, n_graph_features)`` (``conv="sgc"``).
        subgraph
            ``subgraph(rows) -> (x, adj, target)`` of the chunk's cells with their
            ``n_layers``-hop neighbourhood (layers other than GCN).
        batch_size
            Cells per chunk.

        Yields
        ------
        ``(rows, out)``: the slice of cells and :meth:`decode`'s outputs for them.
        """
        self.eval()
        dev = next(self.parameters()).device
        chunks = [slice(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]

        def lib(rows: slice) -> torch.Tensor | None:
            return None if library is None else library[rows].to(dev)

        def feats(rows: slice) -> torch.Tensor | None:
            return None if graph_features is None else graph_features[rows].to(dev)

        if self.n_layers == 0:
            for rows in chunks:
                yield rows, self(x(rows).to(dev), None, None, lib(rows),
                                 graph_features=feats(rows))
            return
        if any(layer.conv_name != "gcn" for layer in self.layers):
            if subgraph is None:
                raise ValueError("GraphImputerModule.inference needs subgraph= for layers "
                                 "other than GCN.")
            for rows in chunks:
                xs, adj_s, target = subgraph(rows)
                yield rows, self(xs.to(dev), adj_s.to(dev), target.to(dev), lib(rows))
            return
        if adj is None:
            raise ValueError("GraphImputerModule.inference needs adj= for GCN layers.")
        H = torch.empty((n, self.lin_in.out_features), dtype=torch.float32)
        for rows in chunks:
            H[rows] = self.embed_input(x(rows).to(dev)).cpu()
        for layer in self.layers:
            H_next = torch.empty_like(H)
            Hd = H.to(dev)
            for rows in chunks:
                agg = torch.sparse.mm(adj(rows).to(dev), Hd)
                H_next[rows] = layer.combine(Hd[rows], agg).cpu()
            H = H_next
        for rows in chunks:
            yield rows, self.decode(self.lin_z(H[rows].to(dev)), lib(rows))

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
