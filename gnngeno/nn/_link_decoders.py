"""Link decoders: score a (source, target) node pair from node embeddings.

Tensors only. Every decoder returns **logits** (apply ``sigmoid`` for probabilities).
"""

from __future__ import annotations

import torch
from torch import nn

from .._compat import renamed_kwargs
from ._utils import get_activation

DECODERS = ("dot", "bilinear", "mlp")


class LinkDecoder(nn.Module):
    """Score directed node pairs ``(u, v)`` from embeddings ``z``.

    ``kind``:

    - ``"dot"``: ``<z_u, z_v>`` (symmetric: u -> v scores like v -> u);
    - ``"bilinear"``: ``z_u^T W z_v`` with a full learnable ``W`` (directed: the source role
      and the target role differ, as for TF -> target);
    - ``"mlp"``: an MLP on ``[z_u, z_v, z_u * z_v]`` (directed).

    Two optional additive terms capture node-level propensities:

    - ``n_nodes`` given: learnable per-node **source bias** ``b_s[u]`` and **target bias**
      ``b_t[v]`` (zero-initialised). They are transductive: a node never seen in training keeps
      bias 0 (neutral);
    - ``n_pair_features > 0``: a linear term ``w^T f_uv`` on per-pair features passed to
      :meth:`forward` (e.g. log training degrees of u and v).

    Parameters
    ----------
    dim
        Embedding dimension ``F``.
    kind
        ``"dot"``, ``"bilinear"`` or ``"mlp"``.
    n_nodes
        Number of nodes for the per-node biases (``None``: no biases).
    n_pair_features
        Number of per-pair features ``K`` (0: none).
    n_hidden
        Hidden width of the MLP decoder (default ``dim``).
    activation, dropout
        Of the MLP decoder.

    Shapes
    ------
    - input: z ``(N, F)``, pairs ``(2, E)`` (row 0 = source), pair_features ``(E, K)``
    - output: logits ``(E,)``

    Examples
    --------
    >>> import torch
    >>> dec = LinkDecoder(3, kind="bilinear")
    >>> dec(torch.randn(5, 3), torch.tensor([[0, 1], [2, 3]])).shape
    torch.Size([2])
    """

    @renamed_kwargs(hidden_dim="n_hidden")
    def __init__(self, dim: int, *, kind: str = "bilinear", n_nodes: int | None = None,
                 n_pair_features: int = 0, n_hidden: int | None = None,
                 activation: str = "relu", dropout: float = 0.0):
        super().__init__()
        if kind not in DECODERS:
            raise ValueError(f"LinkDecoder: kind={kind!r} is not supported; choose one of {list(DECODERS)}.")
        self.kind = kind
        if kind == "bilinear":
            self.weight = nn.Parameter(torch.empty(dim, dim))
            nn.init.xavier_uniform_(self.weight)
            with torch.no_grad():  # start close to a dot product
                self.weight.add_(torch.eye(dim))
        elif kind == "mlp":
            hidden = n_hidden or dim
            self.mlp = nn.Sequential(
                nn.Linear(3 * dim, hidden), get_activation(activation), nn.Dropout(dropout),
                nn.Linear(hidden, 1),
            )
        self.scale = 1.0 / dim ** 0.5
        if n_nodes is not None:
            self.source_bias = nn.Parameter(torch.zeros(n_nodes))
            self.target_bias = nn.Parameter(torch.zeros(n_nodes))
        else:
            self.source_bias = None
            self.target_bias = None
        self.n_pair_features = int(n_pair_features)
        self.pair_linear = nn.Linear(n_pair_features, 1) if n_pair_features > 0 else None

    def forward(self, z: torch.Tensor, pairs: torch.Tensor,
                pair_features: torch.Tensor | None = None) -> torch.Tensor:
        zu, zv = z[pairs[0]], z[pairs[1]]
        if self.kind == "dot":
            out = (zu * zv).sum(-1) * self.scale
        elif self.kind == "bilinear":
            out = ((zu @ self.weight) * zv).sum(-1) * self.scale
        else:
            out = self.mlp(torch.cat([zu, zv, zu * zv], dim=-1)).squeeze(-1)
        if self.source_bias is not None:
            out = out + self.source_bias[pairs[0]] + self.target_bias[pairs[1]]
        if self.pair_linear is not None:
            if pair_features is None:
                raise ValueError(f"LinkDecoder was built with n_pair_features={self.n_pair_features}; "
                                 "pass pair_features of shape (E, K).")
            out = out + self.pair_linear(pair_features).squeeze(-1)
        return out


__all__ = ["DECODERS", "LinkDecoder"]


class LinkPredictor(nn.Module):
    """A graph encoder followed by a link decoder: ``logits = decoder(encoder(x, edge_index), pairs)``.

    Parameters
    ----------
    encoder
        A module ``(x, edge_index) -> z`` such as :class:`gnngeno.nn.GNNEncoder`.
    decoder
        A :class:`LinkDecoder`.
    n_nodes, embedding_dim
        With both given, a learnable embedding per node (``(n_nodes, embedding_dim)``, small
        random init) is appended to the node features; the encoder's ``in_dim`` must count it.
        Transductive: it lets the model learn from graph structure alone (collaborative
        filtering), but a node unseen in training keeps its random vector.

    Shapes
    ------
    - input: node features ``(N, F_in)``, edge_index ``(2, E)``, pairs ``(2, P)``,
      pair_features ``(P, K)``
    - output: logits ``(P,)``
    """

    def __init__(self, encoder: nn.Module, decoder: LinkDecoder, *, n_nodes: int | None = None,
                 embedding_dim: int = 0):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        if n_nodes is not None and embedding_dim > 0:
            self.node_embedding = nn.Parameter(torch.randn(n_nodes, embedding_dim) * 0.1)
        else:
            self.node_embedding = None

    def encode(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        if self.node_embedding is not None:
            x = torch.cat([x, self.node_embedding], dim=1)
        return self.encoder(x, edge_index)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, pairs: torch.Tensor,
                pair_features: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(self.encode(x, edge_index), pairs, pair_features)

    def loss(self, x: torch.Tensor, edge_index: torch.Tensor, pairs: torch.Tensor,
             labels: torch.Tensor, pair_features: torch.Tensor | None = None, *,
             n_ranking: int = 0, ranking_weight: float = 1.0) -> dict[str, torch.Tensor]:
        """Binary cross-entropy of labelled pairs, plus an optional pairwise ranking term.

        The first ``len(labels)`` columns of ``pairs`` are scored against ``labels``. With
        ``n_ranking > 0`` the last ``2 * n_ranking`` columns are ranking pairs: ``n_ranking``
        positives ``(u, v)`` followed by as many negatives ``(u, w)`` (column ``i`` of each
        sharing the source ``u``), and ``ranking_weight * mean(softplus(s(u, w) - s(u, v)))``
        is added, which asks every positive to outscore its matched negative.

        Parameters
        ----------
        x, edge_index
            Node features and the message-passing edges.
        pairs
            ``(2, P)`` pairs to score (``P = len(labels) + 2 * n_ranking``).
        labels
            0/1 labels of the first ``len(labels)`` pairs.
        pair_features
            ``(P, K)`` per-pair decoder features, or ``None``.
        n_ranking, ranking_weight
            Number of ranking pairs and the weight of the ranking term.

        Returns
        -------
        ``{"loss": scalar tensor}``.
        """
        logits = self(x, edge_index, pairs, pair_features)
        n = labels.shape[0]
        loss = nn.functional.binary_cross_entropy_with_logits(logits[:n], labels)
        if n_ranking:
            diff = logits[n + n_ranking:] - logits[n:n + n_ranking]  # negative - positive
            loss = loss + ranking_weight * nn.functional.softplus(diff).mean()
        return {"loss": loss}


__all__ += ["LinkPredictor"]
