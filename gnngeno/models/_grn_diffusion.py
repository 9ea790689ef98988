"""Regulator -> target scores from a diffusion model with a learnable adjacency.

Cells are noised step by step (a denoising diffusion schedule) and
:class:`gnngeno.nn.AdjacencyDenoiser` learns to predict the noise, its genes exchanging
information only through a sparse adjacency ``A``; ``A[i, j]`` is then the score of ``i -> j``.
This is RegDiffusion's scheme (Zhu & Slonim, *J. Comput. Biol.* 2024) with its published
settings, trained through the package's training plan.
"""

from __future__ import annotations

import numpy as np
import torch

from .._settings import resolve_seed
from ..data._grn_graph import standardise_genes
from ..nn._adjacency_denoiser import AdjacencyDenoiser
from ..train import Batch, TrainingPlan

#: RegDiffusion's published settings (its defaults), but for a narrower gene embedding:
#: 8 instead of 16 wide halves the cost and scored the same on the data the choice was made on
DIFFUSION_DEFAULTS = {"n_steps": 1000, "batch_size": 128, "n_diffusion_steps": 5000,
                      "beta_start": 1e-4, "beta_end": 0.02, "hidden": 8, "sparsity": 0.25,
                      "sparsity_after": 10}


def diffusion_input(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each cell scaled to [0, 1] by its own minimum and maximum, then each gene z-scored.

    Returns ``(Z, genes_kept)``: cells whose genes all hold one value and genes without variance
    (in ``X`` or after the scaling) are left out (``genes_kept`` marks the columns of ``X`` in
    ``Z``).
    """
    M = np.asarray(X, dtype=np.float64)
    lo, hi = M.min(axis=1, keepdims=True), M.max(axis=1, keepdims=True)
    cells = (hi - lo)[:, 0] > 0
    Z = (M[cells] - lo[cells]) / (hi - lo)[cells]
    sd = Z.std(axis=0) if Z.shape[0] else np.zeros(M.shape[1])
    genes = (sd > 0) & (M.std(axis=0) > 0)  # a constant gene varies after the cells' scaling
    return standardise_genes(Z[:, genes]), genes


class _NoisedCells:
    """Each training step: a batch of cells drawn with replacement, a diffusion step per cell,
    and the cells noised to that step."""

    has_validation = False

    def __init__(self, Z: np.ndarray, *, batch_size: int, n_diffusion_steps: int,
                 beta_start: float, beta_end: float, sparsity: float, sparsity_after: int,
                 generator: torch.Generator):
        self.cells = torch.as_tensor(Z, dtype=torch.float32)
        alpha_bar = torch.cumprod(1.0 - torch.linspace(beta_start, beta_end, n_diffusion_steps),
                                  dim=0)
        self.signal, self.noise_sd = alpha_bar.sqrt(), (1.0 - alpha_bar).sqrt()
        self.batch_size, self.n_diffusion_steps = batch_size, n_diffusion_steps
        self.sparsity, self.sparsity_after = sparsity, sparsity_after
        self.generator = generator
        self.device = torch.device("cpu")

    def to(self, device: torch.device) -> _NoisedCells:
        self.device = device
        self.cells = self.cells.to(device)
        self.signal, self.noise_sd = self.signal.to(device), self.noise_sd.to(device)
        return self

    def batches(self, epoch: int):
        g = self.generator
        rows = torch.randint(0, self.cells.shape[0], (self.batch_size,), generator=g)
        t = torch.randint(0, self.n_diffusion_steps, (self.batch_size,), generator=g)
        x0 = self.cells[rows.to(self.device)]
        noise = torch.randn(x0.shape, generator=g).to(self.device)
        t = t.to(self.device)
        x_noisy = self.signal[t, None] * x0 + self.noise_sd[t, None] * noise
        sparsity = self.sparsity if epoch > self.sparsity_after else 0.0
        yield Batch({"x_noisy": x_noisy, "t": t, "noise": noise, "sparsity": sparsity},
                    n=float(self.batch_size))

    def validate(self) -> dict[str, float]:  # pragma: no cover - has_validation is False
        return {}


def diffusion_scores(X, tf_index, *, seed: int | None = 0, n_steps: int | None = None,
                     hidden: int | None = None) -> np.ndarray:
    """Score regulator -> gene pairs with a diffusion model's learnable adjacency.

    Parameters
    ----------
    X
        Cells x genes expression, log-normalised, dense.
    tf_index
        Gene positions of the candidate regulators (rows of the result). Every gene takes
        part in the model; only these rows are returned.
    seed
        Random seed (``None``: ``settings.seed``); the same seed gives the same scores.
    n_steps, hidden
        Training steps (one batch each) and gene-embedding width (defaults in
        :data:`DIFFUSION_DEFAULTS`).

    Returns
    -------
    ``(len(tf_index), n_genes)`` float array: the learned ``A[tf, gene]`` before its soft
    threshold (the threshold sets most weak entries to exactly 0; the raw values keep their
    order). Genes without variance score below every other gene.
    """
    opts = dict(DIFFUSION_DEFAULTS)
    opts.update({k: v for k, v in {"n_steps": n_steps, "hidden": hidden}.items() if v is not None})
    Z, genes = diffusion_input(X)
    tfs = np.asarray(tf_index, dtype=np.int64)
    n_genes = int(genes.sum())
    out = np.full((len(tfs), genes.size), np.nan)
    if n_genes >= 2 and Z.shape[0] >= 2:
        seed = resolve_seed(seed)
        with torch.random.fork_rng(devices=[]):  # the caller's random state is left alone
            torch.manual_seed(seed)  # initial weights and dropout
            module = AdjacencyDenoiser(n_genes, hidden=int(opts["hidden"]))
            A = _train(module, Z, opts, torch.Generator().manual_seed(seed))
        kept = np.flatnonzero(genes)
        pos = np.full(genes.size, -1)
        pos[kept] = np.arange(kept.size)
        rows = pos[tfs] >= 0
        out[np.ix_(rows, kept)] = A[pos[tfs[rows]]]
    low = np.nanmin(out) - 1.0 if np.isfinite(out).any() else 0.0
    return np.where(np.isnan(out), low, out)


def _train(module: AdjacencyDenoiser, Z: np.ndarray, opts: dict, generator: torch.Generator
           ) -> np.ndarray:
    """Train ``module`` on the noised cells of ``Z``; its adjacency before the threshold."""
    others = [p for name, p in module.named_parameters() if name != "adjacency"]
    groups = [  # RegDiffusion's optimiser: the adjacency steps a fiftieth of a regulator's share
        {"params": others, "lr": 1e-3, "weight_decay": 0.1, "betas": (0.9, 0.99)},
        {"params": [module.adjacency], "lr": module.scale / 50, "weight_decay": 0.01,
         "betas": (0.9, 0.99)}]
    data = _NoisedCells(Z, batch_size=int(opts["batch_size"]),
                        n_diffusion_steps=int(opts["n_diffusion_steps"]),
                        beta_start=opts["beta_start"], beta_end=opts["beta_end"],
                        sparsity=opts["sparsity"], sparsity_after=int(opts["sparsity_after"]),
                        generator=generator)
    plan = TrainingPlan(module, max_epochs=int(opts["n_steps"]), param_groups=groups,
                        desc="diffusion adjacency", generator=generator)
    plan.run(data.to(plan.setup().device))
    module.eval()
    return module.adjacency.detach().double().cpu().numpy()


__all__ = ["DIFFUSION_DEFAULTS", "diffusion_input", "diffusion_scores"]
