"""Regulator -> target scores from expression alone (no prior network).

Two model families, and the classic scorers under their own names for comparison:

* ``"trees"``: an extra-trees regression of every target gene on the candidate regulators,
  GENIE3's scheme (Huynh-Thu et al., *PLoS ONE* 2010), fitted on each gene's ranks over cells,
  whose importances are put in context as in CLR (Faith et al., *PLoS Biology* 2007): a score
  counts by how far it stands above the regulator's other scores and above the target's other
  scores, which discounts regulators or targets that score high with every gene.
* ``"diffusion"``: the learnable adjacency of a diffusion model (RegDiffusion's scheme, Zhu &
  Slonim, *J. Comput. Biol.* 2024; :mod:`gnngeno.models._grn_diffusion`).
* ``"ensemble"``: the mean of the two families' ranks (the diffusion adjacency and the trees'
  raw importances), the rank averaging that made DREAM5's community network robust (Marbach
  et al., *Nature Methods* 2012).

``"auto"`` is ``"trees"`` below :data:`ENSEMBLE_MIN_GENES` genes and ``"ensemble"`` from there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._settings import default_threads, resolve_seed
from .._validate import InputError, check_choice, check_finite
from ..baselines import boosting_scores, correlation_scores, tree_scores
from ._grn_diffusion import diffusion_scores

EXPRESSION_METHODS = ("auto", "trees", "diffusion", "ensemble", "pearson", "spearman", "genie3",
                      "grnboost2")

#: ``method="auto"`` uses the ensemble from this many genes (columns of X) on, the trees below.
#: The diffusion model needs many genes: on simulated networks of 5-19 genes it ranked near
#: chance (mean AUPRC ratio 1.22 vs 1.80 for the trees), on ~950 genes of liver scRNA-seq data
#: it led (1.52 vs 1.36); on random subsets of 25-400 of those genes the ensemble was ahead of
#: the trees from 100 genes on (see benchmarks/README.md).
ENSEMBLE_MIN_GENES = 100

_AUTO_TREES = {"n_estimators": 100, "max_features": "sqrt", "min_samples_leaf": 5, "rank": True}


def _check_input(X, tf_index) -> tuple[np.ndarray, np.ndarray]:
    M = np.asarray(X)
    if M.ndim != 2:
        raise InputError(f"X must be a cells x genes matrix (2-D), got {M.ndim} dimension(s); "
                         "pass a dense array, e.g. adata.X.toarray().")
    if not np.issubdtype(M.dtype, np.number):
        raise InputError(f"X must hold numbers, got dtype {M.dtype}; convert it with "
                         "np.asarray(X, dtype=float).")
    if M.shape[0] < 3 or M.shape[1] < 2:
        raise InputError(f"X has {M.shape[0]} cells and {M.shape[1]} genes; scoring needs at "
                         "least 3 cells and 2 genes.")
    M = M.astype(np.float64)
    check_finite(M, "X")
    tfs = np.asarray(tf_index)
    if tfs.ndim != 1 or tfs.size == 0 or not np.issubdtype(tfs.dtype, np.integer):
        raise InputError("tf_index must be a non-empty 1-D list of integer gene positions (columns "
                         "of X), e.g. np.arange(X.shape[1]) to score every gene as a regulator.")
    if tfs.min() < 0 or tfs.max() >= M.shape[1]:
        raise InputError(f"tf_index holds positions outside 0..{M.shape[1] - 1} (X has "
                         f"{M.shape[1]} genes); pass column positions of X.")
    if np.unique(tfs).size != tfs.size:
        raise InputError("tf_index lists a gene more than once; pass each regulator once.")
    return M, tfs.astype(np.int64)


def _self_mask(tf_index: np.ndarray, n_genes: int) -> np.ndarray:
    mask = np.zeros((len(tf_index), n_genes), dtype=bool)
    mask[np.arange(len(tf_index)), tf_index] = True
    return mask


def context_scores(S: np.ndarray, self_mask: np.ndarray, tie_break: np.ndarray) -> np.ndarray:
    """CLR-style context normalisation of a regulators x genes score matrix.

    Each score is z-scored against its row (the regulator's scores with every gene) and its
    column (every regulator's score for the gene), negative z-scores are set to 0, and the two
    are combined as ``sqrt(z_row**2 + z_col**2)`` (Faith et al., *PLoS Biology* 2007). Pairs
    whose two z-scores are both clipped (often half of all pairs) keep their order by the raw
    score, then by ``tie_break`` (same shape: a tree ensemble gives every regulator it never
    split on an importance of exactly 0), spread evenly by rank over ``[-1, 0)``, below every
    positive context score, so the ranking has no block of ties. Entries where ``self_mask`` is
    true are left out of the statistics and returned as 0.
    """
    A = np.where(self_mask, np.nan, np.asarray(S, dtype=np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        z_row = (A - np.nanmean(A, axis=1, keepdims=True)) / np.nanstd(A, axis=1, keepdims=True)
        z_col = (A - np.nanmean(A, axis=0, keepdims=True)) / np.nanstd(A, axis=0, keepdims=True)
    z_row = np.clip(np.nan_to_num(z_row, nan=0.0, posinf=0.0, neginf=0.0), 0.0, None)
    z_col = np.clip(np.nan_to_num(z_col, nan=0.0, posinf=0.0, neginf=0.0), 0.0, None)
    combined = np.sqrt(z_row ** 2 + z_col ** 2)
    raw = np.nan_to_num(A, nan=0.0)
    clipped = ~self_mask & ~(combined > 0)
    order = np.lexsort((np.asarray(tie_break, dtype=np.float64)[clipped], raw[clipped]))
    rank = np.empty(order.size)
    rank[order] = np.arange(order.size)
    below = np.zeros_like(raw)
    below[clipped] = rank / max(order.size, 1) - 1.0
    return np.where(self_mask, 0.0, np.where(combined > 0, combined, below))


def resolve_expression_method(method: str, n_genes: int) -> str:
    """The scorer ``method`` stands for on ``n_genes`` genes (``"auto"`` resolved)."""
    if method != "auto":
        return method
    return "ensemble" if n_genes >= ENSEMBLE_MIN_GENES else "trees"


def _ranks(S: np.ndarray, self_mask: np.ndarray) -> np.ndarray:
    """Ranks of the off-diagonal scores scaled to (0, 1] (ties share their mean rank)."""
    from scipy.stats import rankdata

    out = np.zeros(S.shape)
    out[~self_mask] = rankdata(S[~self_mask]) / max(int((~self_mask).sum()), 1)
    return out


def _rank_mean(first: np.ndarray, second: np.ndarray, self_mask: np.ndarray) -> np.ndarray:
    """The order of the mean of two rank matrices, equal means ordered by ``first``, as ranks
    scaled to (0, 1] (no ties where ``first`` has none)."""
    off = ~self_mask
    order = np.lexsort((first[off], first[off] + second[off]))
    rank = np.empty(order.size)
    rank[order] = np.arange(1, order.size + 1) / order.size
    out = np.zeros(first.shape)
    out[off] = rank
    return out


def _score(M: np.ndarray, tfs: np.ndarray, method: str, seed: int, n_threads: int) -> np.ndarray:
    mask = _self_mask(tfs, M.shape[1])
    if method in ("pearson", "spearman"):
        return correlation_scores(M, tfs, method=method)
    if method == "genie3":
        return tree_scores(M, tfs, seed=seed, n_jobs=n_threads)
    if method == "grnboost2":
        return boosting_scores(M, tfs, seed=seed)
    if method == "diffusion":
        return diffusion_scores(M, tfs, seed=seed)
    trees = tree_scores(M, tfs, seed=seed, n_jobs=n_threads, **_AUTO_TREES)
    if method == "ensemble":
        adjacency = _ranks(diffusion_scores(M, tfs, seed=seed), mask)
        return _rank_mean(adjacency, _ranks(trees, mask), mask)
    # regulators a target's trees never split on tie at 0: |Spearman| orders them
    return context_scores(trees, mask, tie_break=correlation_scores(M, tfs, method="spearman"))


def score_from_expression(X, tf_index: Sequence[int], *, method: str = "auto", seed: int | None = 0,
                          n_threads: int | None = None) -> np.ndarray:
    """Score every regulator -> gene pair from expression alone.

    Parameters
    ----------
    X
        Cells x genes expression, dense (log-normalised; whole-number counts are log-normalised
        first).
    tf_index
        Gene positions (columns of ``X``) of the candidate regulators; every gene may be one.
    method
        ``"auto"`` (default): ``"trees"`` on fewer than :data:`ENSEMBLE_MIN_GENES` genes,
        ``"ensemble"`` from there. ``"trees"``: GENIE3-style extra-trees on each gene's ranks
        over cells, 100 trees per target, CLR-normalised (see Notes). ``"diffusion"``: the
        learnable adjacency of a diffusion model over every gene of ``X`` (RegDiffusion's
        scheme; about 3 CPU minutes on 1 000 genes). ``"ensemble"``: the mean rank of the
        diffusion adjacency and the trees' raw importances. ``"pearson"`` / ``"spearman"``:
        absolute correlation. ``"genie3"``: the GENIE3-style extra-trees baseline
        (:func:`gnngeno.baselines.tree_scores`). ``"grnboost2"``: the GRNBoost2-style
        gradient-boosting baseline (:func:`gnngeno.baselines.boosting_scores`).
    seed
        Random seed of the tree ensembles and the diffusion model (``None``:
        ``settings.seed``); the same seed gives the same scores.
    n_threads
        Threads of the extra-trees fits (default: ``$OMP_NUM_THREADS`` when set, else half the
        usable cores).

    Returns
    -------
    ``(len(tf_index), n_genes)`` float array; higher means a more likely edge ``tf -> gene``.
    Self-pairs (a regulator with itself) score strictly below every other pair.

    Raises
    ------
    InputError
        If ``X`` is not a finite 2-D numeric matrix of at least 3 cells and 2 genes, if
        ``tf_index`` is empty, repeats a gene or points outside ``X``, or if ``method`` is unknown.

    Notes
    -----
    ``"trees"`` fits a GENIE3-style extra-trees regression (Huynh-Thu et al., *PLoS ONE* 2010)
    per target and z-scores each importance against the regulator's row and the target's column
    as in CLR (Faith et al., *PLoS Biology* 2007). The column z-score is taken even for a gene
    that no candidate regulator explains, so where many genes are unregulated, pairs into them
    can rank above weak true edges; ``method="genie3"`` keeps the raw, per-target normalised
    importances. With many candidate regulators and few cells the trees never split on most
    regulators of a target, whose importance is then exactly 0; those pairs rank below the
    others, ordered by their absolute Spearman correlation, so the ranking has no ties.

    ``"diffusion"`` scales each cell to [0, 1] by its minimum and maximum, z-scores each gene and
    trains a denoiser whose genes interact only through a learnable adjacency ``A`` for 1 000
    steps of 128 cells (:class:`gnngeno.nn.AdjacencyDenoiser`; Zhu & Slonim, *J. Comput.
    Biol.* 2024); ``A[tf, gene]`` before the soft threshold is the score. It needs many genes:
    on simulated networks of 5-19 genes it ranks near chance, hence the switch in ``"auto"``
    (on random 25-400-gene subsets of two scRNA-seq sets the ensemble is ahead of the trees from
    100 genes on; see benchmarks/README.md).
    """
    check_choice(method, EXPRESSION_METHODS, "method")
    M, tfs = _check_input(X, tf_index)
    n_threads = default_threads() if n_threads is None else int(n_threads)
    method = resolve_expression_method(method, M.shape[1])
    S = np.asarray(_score(M, tfs, method, resolve_seed(seed), n_threads), dtype=np.float64)
    mask = _self_mask(tfs, M.shape[1])
    lowest = S[~mask].min() - 1.0 if (~mask).any() else -1.0
    S[mask] = lowest
    return S
