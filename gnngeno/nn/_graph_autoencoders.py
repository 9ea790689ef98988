"""Graph autoencoder and variational graph autoencoder (PyG ``GAE``/``VGAE``) with GCN, GAT or
SGC-style encoders, for the cell graph or the gene graph.

Tensors only. The encoder is a :class:`~gnngeno.nn.GraphEncoder`: two graph-convolution
layers (``"gcn"``, ``"gat"``, ``"gatv2"``), or ``hops`` propagation steps of the normalised
adjacency on the input features followed by an MLP (``"sgc"``: ``z = MLP(Â^K X)``, as in SGC,
Wu et al. 2019; the propagation is computed once per graph and cached, so training costs one
MLP, and mini-batches are rows of ``Â^K X``: pass them with ``edge_index=None``); the decoder
is PyG's inner product
on node pairs (edge reconstruction with negative sampling), optionally plus an
:class:`~gnngeno.nn._autoencoders.ExpressionDecoder` that reconstructs every node's features
(counts with a NB/ZINB likelihood, or values with a Gaussian one), which makes the latent keep
the expression signal and not only the graph's neighbourhoods.

Shapes
------
- node features ``x``: (N, F_in); ``edge_index``: (2, E); ``edge_weight``: (E,) (GCN only);
- latent ``z``: (N, n_latent).
"""

from __future__ import annotations

import torch
from torch import nn

from ._autoencoders import ExpressionDecoder
from ._conv import CONVS
from ._encoder import GraphEncoder
from ._graph_ops import gcn_adjacency, propagate_features


class GraphAutoencoder(nn.Module):
    """(Variational) graph autoencoder over PyG's :class:`~torch_geometric.nn.GAE` /
    :class:`~torch_geometric.nn.VGAE`, with an optional node-feature decoder.

    Loss (averaged per node or per edge): ``edge BCE`` (positive edges vs. negative samples,
    PyG's ``recon_loss``) ``+ feature_weight * feature NLL`` (summed over features, averaged
    over nodes) ``+ kl_weight * KL / N`` (VGAE).

    Parameters
    ----------
    n_input
        Node feature size F_in (encoder input).
    n_latent, n_hidden, conv, activation, dropout, heads, hops, batch_norm
        Of the :class:`GraphEncoder`.
    variational
        VGAE (``True``) or GAE (``False``).
    feature_likelihood
        ``None`` (edges only, the classic (V)GAE), or ``"nb"``, ``"zinb"``, ``"gaussian"``:
        also reconstruct node features with that likelihood.
    n_features_out
        Size of the reconstructed features (default ``n_input``).
    feature_weight
        Weight of the feature term relative to the edge term.

    Shapes
    ------
    ``x`` (N, F_in), ``edge_index`` (2, E) -> ``z`` (N, n_latent).
    """

    def __init__(self, n_input: int, *, n_latent: int = 10, n_hidden: int = 128,
                 conv: str = "gcn", variational: bool = False, activation: str = "relu",
                 dropout: float = 0.1, heads: int = 4, feature_likelihood: str | None = None,
                 n_features_out: int | None = None, feature_weight: float = 1.0,
                 hops: int = 2, batch_norm: bool = True) -> None:
        super().__init__()
        from torch_geometric.nn import GAE, VGAE

        encoder = GraphEncoder(n_input, n_hidden, n_latent, conv=conv, variational=variational,
                               activation=activation, dropout=dropout, heads=heads, hops=hops,
                               batch_norm=batch_norm)
        self.gae = VGAE(encoder) if variational else GAE(encoder)
        self.variational = variational
        self.n_latent = n_latent
        self.feature_weight = float(feature_weight)
        self.feature_decoder = None
        if feature_likelihood is not None:
            self.feature_decoder = ExpressionDecoder(
                n_latent, n_features_out or n_input, hidden=(n_hidden,),
                likelihood=feature_likelihood, activation=activation)

    def encode(self, x: torch.Tensor, edge_index: torch.Tensor | None,
               edge_weight: torch.Tensor | None = None) -> torch.Tensor:
        """Latent (N, n_latent): sampled for a VGAE in training mode, the mean otherwise.
        ``edge_index=None``: ``x`` holds propagated rows (``"sgc"``, see
        :meth:`GraphEncoder.smooth`)."""
        return self.gae.encode(x, edge_index, edge_weight)

    def loss(self, x: torch.Tensor, edge_index: torch.Tensor | None,
             pos_edge_index: torch.Tensor, *, edge_weight: torch.Tensor | None = None,
             neg_edge_index: torch.Tensor | None = None, target: torch.Tensor | None = None,
             size_factor: torch.Tensor | None = None, nodes: torch.Tensor | None = None,
             num_nodes: int | None = None, kl_weight: float = 1.0) -> dict[str, torch.Tensor]:
        """Loss on the graph ``edge_index`` (message passing) for edges ``pos_edge_index``.

        :class:`gnngeno.train.TrainingPlan` calls it with one step's keyword arguments (a
        full-graph step, or a mini-batch of propagated rows) and logs every value of the
        returned dict.

        Parameters
        ----------
        x, edge_index, edge_weight
            Node features and the graph the encoder passes messages on. ``edge_index=None``
            (``"sgc"`` encoder): ``x`` holds rows of the propagated input
            (:meth:`GraphEncoder.smooth`), e.g. a mini-batch, and every index below refers to
            those rows.
        pos_edge_index
            (2, E') edges to reconstruct (e.g. a mini-batch, or held-out validation edges).
        neg_edge_index
            (2, E'') non-edges scored against them; default: as many drawn with
            :func:`torch_geometric.utils.negative_sampling` (PyG's ``recon_loss``).
        target, size_factor
            Features to reconstruct and size factors of the nodes in ``nodes`` (all nodes when
            ``nodes`` is ``None``), (n, F_out) and (n,); ``target`` defaults to those rows of
            ``x``.
        nodes
            Node indices whose features enter the feature term (default: all).
        num_nodes
            Nodes of the whole graph, which scales the VGAE's KL term as PyG's examples do
            (``KL / N``; default ``len(x)``).
        kl_weight
            Weight of the VGAE's KL term.

        Returns
        -------
        dict with ``loss``, ``edges`` (BCE), ``features`` (NLL per node), ``kl``.
        """
        z = self.encode(x, edge_index, edge_weight)
        zero = torch.zeros((), device=x.device)
        edges = (self.edge_loss(z, pos_edge_index, neg_edge_index) if pos_edge_index.numel()
                 else zero)
        feats = zero
        if self.feature_decoder is not None:
            if target is None:
                target = x if nodes is None else x[nodes]
            feats = self.feature_loss(z if nodes is None else z[nodes], target, size_factor)
        n = x.shape[0] if num_nodes is None else int(num_nodes)
        kl = self.gae.kl_loss() / n if self.variational else zero
        loss = edges + self.feature_weight * feats + kl_weight * kl
        return {"loss": loss, "edges": edges, "features": feats, "kl": kl}

    def edge_loss(self, z: torch.Tensor, pos_edge_index: torch.Tensor,
                  neg_edge_index: torch.Tensor | None = None) -> torch.Tensor:
        """Binary cross-entropy of the inner-product decoder: mean over the edges
        ``pos_edge_index`` plus mean over the non-edges ``neg_edge_index`` (default: as many
        drawn by PyG's negative sampling), indices into the rows of ``z``."""
        return self.gae.recon_loss(z, pos_edge_index, neg_edge_index)

    def feature_loss(self, z: torch.Tensor, target: torch.Tensor,
                     size_factor: torch.Tensor | None = None) -> torch.Tensor:
        """Negative log-likelihood of the node features ``target`` (n, F_out) given the
        latent rows ``z`` (n, n_latent), summed over features and averaged over nodes."""
        if self.feature_decoder is None:
            raise ValueError("this GraphAutoencoder has no feature decoder "
                             "(feature_likelihood=None).")
        params = self.feature_decoder(z, size_factor)
        return -self.feature_decoder.log_likelihood(target, params).sum(1).mean()

    @torch.no_grad()
    def get_latent(self, x: torch.Tensor, edge_index: torch.Tensor,
                   edge_weight: torch.Tensor | None = None, *,
                   batch_size: int | None = None) -> torch.Tensor:
        """Latent means (N, n_latent) in evaluation mode. With the ``"sgc"`` encoder and a
        ``batch_size``, the layers after the propagation run on that many rows at a time
        (the same result in less memory)."""
        was = self.training
        self.eval()
        encoder = self.gae.encoder
        if encoder.conv_kind == "sgc" and batch_size:
            h = encoder.smooth(x, edge_index, edge_weight)
            z = torch.cat([self.encode(h[s:s + batch_size], None)
                           for s in range(0, h.shape[0], batch_size)])
        else:
            z = self.encode(x, edge_index, edge_weight)
        self.train(was)
        return z


__all__ = ["CONVS", "GraphAutoencoder", "GraphEncoder", "gcn_adjacency", "propagate_features"]
