"""A single-cell count simulator with a planted gene-regulatory network."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import _keys as keys
from .._settings import resolve_seed
from .._validate import InputError


def simulate(
    n_cells: int = 500,
    n_genes: int = 200,
    n_tfs: int = 20,
    *,
    n_cell_types: int = 4,
    regulators_per_target: tuple[int, int] = (1, 3),
    tf_tf_fraction: float = 0.3,
    library_size: float = 1_000.0,
    dispersion: float = 5.0,
    dropout: float = 0.2,
    noise: float = 0.3,
    sparse: bool = True,
    seed: int | None = None,
):
    """Simulate counts from a planted TF -> target network with Hill-type regulation.

    The generative model, per cell ``c``:

    1. Cell type ``t(c)`` sets a log-activity programme for every TF; TF activity is
       ``a = exp(mu[t(c)] + noise * eps)``. A fraction ``tf_tf_fraction`` of TFs are themselves
       targets of earlier TFs (a DAG), so TF -> TF edges exist too.
    2. Each target ``g`` has 1-3 regulators (out-degrees are heavy-tailed: some TFs regulate
       many genes) with sign ``s`` (70 % activation) and weight ``w``; its steady-state mean is
       ``m_g = b_g + sum_r w_r * hill_s(a_r)`` with ``hill_+(x) = x^n / (K^n + x^n)`` and
       ``hill_-(x) = K^n / (K^n + x^n)``, times a per-cell log-normal noise ``exp(noise * eps)``.
    3. Counts ``~ NegativeBinomial(mean = size_factor_c * library_size * m_g / sum(m), theta =
       dispersion)``; then technical dropout sets a count to zero with probability
       ``dropout * exp(-mean / 2)`` (more for lowly expressed genes).

    Parameters
    ----------
    n_cells, n_genes, n_tfs
        Matrix size; the first ``n_tfs`` genes are the TFs (named ``TF000``...), the others
        ``G0000``....
    n_cell_types
        Number of cell types (``adata.obs["cell_type"]``).
    regulators_per_target
        Inclusive range of regulators per target gene.
    tf_tf_fraction
        Fraction of TFs regulated by other TFs.
    library_size
        Median total counts per cell.
    dispersion
        Negative-binomial inverse dispersion ``theta`` (larger = less noise).
    dropout
        Strength of the extra technical zeros (0 disables).
    noise
        Standard deviation of the log-normal biological noise.
    sparse
        Store ``X`` as CSR.
    seed
        Random seed (default: ``gnngeno.settings.seed``).

    Returns
    -------
    adata
        Cells x genes AnnData: raw counts in ``X`` and ``layers["counts"]``,
        ``obs["cell_type"]``, ``obs["size_factor"]``, ``var["is_tf"]``,
        ``uns["gnngeno_simulation"]`` with the parameters.
    net
        The planted network: DataFrame ``source, target, weight`` (weight signed: > 0
        activation, < 0 repression).

    Examples
    --------
    >>> adata, net = simulate(n_cells=100, n_genes=50, n_tfs=5, seed=0)
    >>> adata.shape, set(net.columns) == {"source", "target", "weight"}
    ((100, 50), True)
    """
    import anndata as ad

    if n_tfs < 1 or n_genes <= n_tfs:
        raise InputError(f"need 1 <= n_tfs < n_genes, got n_tfs={n_tfs}, n_genes={n_genes}.")
    if n_cells < 2:
        raise InputError(f"n_cells must be >= 2, got {n_cells}.")
    lo, hi = regulators_per_target
    if not 1 <= lo <= hi:
        raise InputError(f"regulators_per_target must be (lo, hi) with 1 <= lo <= hi, got {regulators_per_target}.")
    rng = np.random.default_rng(resolve_seed(seed))
    tf_names = [f"TF{i:03d}" for i in range(n_tfs)]
    target_names = [f"G{i:04d}" for i in range(n_genes - n_tfs)]
    genes = tf_names + target_names

    # TF popularity: heavy-tailed so that out-degrees vary as in real networks
    popularity = rng.pareto(1.5, n_tfs) + 0.2
    popularity /= popularity.sum()

    cell_type = rng.integers(0, n_cell_types, n_cells)
    programme = rng.normal(0.0, 1.0, (n_cell_types, n_tfs))
    log_act = programme[cell_type] + noise * rng.standard_normal((n_cells, n_tfs))
    activity = np.exp(log_act)  # cells x TFs

    edges: list[tuple[int, int, float]] = []
    means = np.empty((n_cells, n_genes))
    hill_n = 2.0
    K = np.median(activity, axis=0)

    def regulate(g: int, candidates: np.ndarray, level: np.ndarray) -> np.ndarray:
        k = int(rng.integers(lo, hi + 1))
        k = min(k, len(candidates))
        p = popularity[candidates] / popularity[candidates].sum()
        regs = rng.choice(candidates, size=k, replace=False, p=p)
        basal = rng.uniform(0.05, 0.3)
        m = np.full(n_cells, basal)
        for r in regs:
            sign = 1.0 if rng.random() < 0.7 else -1.0
            w = rng.uniform(0.5, 2.0)
            x = level[:, r] ** hill_n
            kn = K[r] ** hill_n
            m += w * (x / (kn + x) if sign > 0 else kn / (kn + x))
            edges.append((int(r), g, sign * w))
        return m

    # TFs: the first ones are free, a fraction of the rest is driven by earlier TFs
    n_free = max(1, int(round(n_tfs * (1 - tf_tf_fraction))))
    tf_level = activity.copy()
    for t in range(n_tfs):
        if t >= n_free:
            driven = regulate(t, np.arange(t), tf_level)
            tf_level[:, t] = np.sqrt(activity[:, t] * driven / driven.mean() * K[t])
        means[:, t] = tf_level[:, t]
    for j in range(n_tfs, n_genes):
        means[:, j] = regulate(j, np.arange(n_tfs), tf_level)

    counts, size_factor = _observe(means, rng, noise=noise, library_size=library_size,
                                   dispersion=dispersion, dropout=dropout)
    X = sp.csr_matrix(counts) if sparse else counts
    obs = pd.DataFrame(
        {"cell_type": pd.Categorical([f"type{t}" for t in cell_type]),
         "size_factor": size_factor},
        index=[f"cell{i:05d}" for i in range(n_cells)],
    )
    var = pd.DataFrame({keys.IS_TF_KEY: [True] * n_tfs + [False] * (n_genes - n_tfs)},
                       index=genes)
    adata = ad.AnnData(X=X, obs=obs, var=var)
    adata.layers[keys.COUNTS_LAYER] = X.copy()
    adata.uns["gnngeno_simulation"] = {
        "n_cells": n_cells, "n_genes": n_genes, "n_tfs": n_tfs, "n_cell_types": n_cell_types,
        "dispersion": dispersion, "dropout": dropout, "noise": noise,
        "library_size": library_size, "seed": resolve_seed(seed),
    }
    net = pd.DataFrame(
        {keys.SOURCE: [genes[s] for s, _, _ in edges],
         keys.TARGET: [genes[t] for _, t, _ in edges],
         keys.WEIGHT: [w for _, _, w in edges]}
    )
    return adata, net


def _observe(means: np.ndarray, rng: np.random.Generator, *, noise: float, library_size: float,
             dispersion: float, dropout: float) -> tuple[np.ndarray, np.ndarray]:
    """Counts observed from steady-state ``means`` (cells x genes): log-normal biological noise,
    gene scales, size factors, negative-binomial sampling and technical dropout. Returns
    ``(counts, size_factor)``."""
    n_cells, n_genes = means.shape
    means = means * np.exp(noise * rng.standard_normal(means.shape))
    gene_scale = rng.lognormal(0.0, 1.2, n_genes)  # some genes are simply expressed more
    rel = means * gene_scale
    rel /= rel.sum(axis=1, keepdims=True)
    size_factor = rng.lognormal(0.0, 0.4, n_cells)
    mu = rel * (library_size * size_factor)[:, None]
    theta = float(dispersion)
    lam = rng.gamma(theta, mu / theta)
    counts = rng.poisson(lam).astype(np.float32)
    if dropout > 0:
        drop = rng.random(counts.shape) < dropout * np.exp(-mu / 2.0)
        counts[drop] = 0.0
    # no empty cells: give an empty cell one count in its most expressed gene
    empty = counts.sum(axis=1) == 0
    if empty.any():
        counts[empty, np.argmax(mu[empty], axis=1)] = 1.0

    return counts, size_factor
