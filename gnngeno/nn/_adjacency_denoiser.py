"""A diffusion denoiser that mixes genes through a learnable adjacency matrix.

The architecture follows RegDiffusion (Zhu & Slonim, *J. Comput. Biol.* 2024): every gene of a
noised cell is embedded on its own, the embeddings are mixed across genes by ``I - A`` (``A[i, j]``:
how much gene ``i`` explains gene ``j``), and the result predicts the noise that was added. A
soft threshold and an L1 penalty keep ``A`` sparse; after training ``A`` is the network.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of diffusion steps ``t`` (shape ``[batch]``) -> ``[batch, dim]``."""
    half = dim // 2
    freqs = torch.exp(torch.arange(half, device=t.device) * -(math.log(10000.0) / (half - 1)))
    angles = t[:, None].float() * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class _GeneBlock(nn.Module):
    """Per-gene layer: ``tanh`` MLP of one gene's features, shifted by the step's embedding."""

    def __init__(self, in_dim: int, out_dim: int, time_dim: int, dropout: float):
        super().__init__()
        self.inner, self.outer = nn.Linear(in_dim, out_dim), nn.Linear(out_dim, out_dim)
        self.time = nn.Linear(time_dim, out_dim)
        self.shift = nn.Parameter(torch.zeros(out_dim))
        self.dropout = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, time_emb: torch.Tensor) -> torch.Tensor:
        h = self.dropout(torch.tanh(self.inner(h)))
        h = h + torch.tanh(self.time(time_emb)).unsqueeze(1) + torch.tanh(self.shift)
        return torch.tanh(self.outer(h))


class AdjacencyDenoiser(nn.Module):
    """Noise predictor whose genes interact only through a learnable adjacency ``A``.

    Shapes: ``x_noisy`` ``[cells, genes]``, ``t`` ``[cells]`` (integer diffusion steps) ->
    predicted noise ``[cells, genes]``.

    Parameters
    ----------
    n_genes
        Number of genes (``A`` is ``n_genes x n_genes``; needs at least 2).
    hidden
        Width of each gene's embedding (including its expression value).
    time_dim
        Width of the step embedding.
    adj_dropout
        Fraction of ``A``'s entries dropped at each training step.
    init_coef
        ``A`` starts at ``init_coef / (n_genes - 1)`` everywhere.
    dropout
        Dropout inside the per-gene layers.
    """

    def __init__(self, n_genes: int, *, hidden: int = 8, time_dim: int = 64,
                 adj_dropout: float = 0.3, init_coef: float = 5.0, dropout: float = 0.1):
        super().__init__()
        if n_genes < 2:
            raise ValueError(f"n_genes must be >= 2, got {n_genes}.")
        self.n_genes, self.time_dim, self.adj_dropout = int(n_genes), int(time_dim), adj_dropout
        self.scale = 1.0 / (n_genes - 1)  # one regulator's share when all regulate equally
        self.adjacency = nn.Parameter(torch.full((n_genes, n_genes), init_coef * self.scale))
        self.gene_embedding = nn.Parameter(torch.randn(n_genes, hidden - 1))
        self.time_mlp = nn.Linear(time_dim, time_dim)
        self.blocks = nn.ModuleList([_GeneBlock(hidden, hidden - 1, time_dim, dropout),
                                     _GeneBlock(hidden, hidden - 1, time_dim, dropout)])
        self.readout = nn.Linear(hidden - 1, 1)

    def thresholded_adjacency(self) -> torch.Tensor:
        """``A`` soft-thresholded at half a regulator's share, with a zero diagonal."""
        A = self.adjacency
        off = 1.0 - torch.eye(self.n_genes, device=A.device, dtype=A.dtype)
        return torch.sign(A) * torch.relu(A.abs() - self.scale / 2) * off

    def forward(self, x_noisy: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self._predict(x_noisy, t, self.thresholded_adjacency())

    def _predict(self, x_noisy: torch.Tensor, t: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        """The predicted noise, genes mixed through ``A`` (the thresholded adjacency)."""
        time_emb = torch.tanh(self.time_mlp(timestep_embedding(t, self.time_dim)))
        value = x_noisy.unsqueeze(-1)
        emb = self.gene_embedding.expand(x_noisy.shape[0], -1, -1)
        h = torch.tanh(torch.cat([value, emb], dim=-1))
        for i, block in enumerate(self.blocks):
            h = block(h if i == 0 else torch.cat([h, value], dim=-1), time_emb)
        if self.training and self.adj_dropout > 0:
            keep = (torch.rand_like(A) > self.adj_dropout).to(A.dtype)
            A = A * keep / (1.0 - self.adj_dropout)
        mix = torch.eye(self.n_genes, device=A.device, dtype=A.dtype) - A
        return self.readout(torch.einsum("cgd,gh->chd", h, mix)).squeeze(-1)

    def loss(self, x_noisy: torch.Tensor, t: torch.Tensor, noise: torch.Tensor,
             sparsity: float) -> dict[str, torch.Tensor]:
        """Mean squared error of the predicted noise plus ``sparsity`` times the mean ``|A|``."""
        A = self.thresholded_adjacency()  # once per step, for the prediction and the penalty
        mse = torch.mean((self._predict(x_noisy, t, A) - noise) ** 2)
        n = self.n_genes
        l1 = A.abs().sum() / (n * (n - 1))
        return {"loss": mse + sparsity * l1, "mse": mse.detach()}
