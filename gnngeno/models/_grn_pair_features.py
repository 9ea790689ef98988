"""What the classic methods know, as features of every regulator -> gene pair for the link
decoder of :class:`GRNPredictor`: absolute Pearson and Spearman correlation and a
GENIE3-style tree importance, each put on one quantile scale."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from .._logging import logger
from .._validate import InputError

#: The expression pair features the decoder can use (``"auto"``: all of them).
PAIR_FEATURES = ("pearson", "spearman", "tree")

#: The tree importance is fitted on at most this many cells (a seeded subsample) with this
#: many extra-trees per target, which keeps it to seconds per thousand genes.
TREE_MAX_CELLS = 500
TREE_ESTIMATORS = 10

_CACHE: OrderedDict[tuple, np.ndarray] = OrderedDict()
_CACHE_SIZE = 4


def resolve_pair_features(value: str | Sequence[str] | None, mode: str | None) -> tuple[str, ...]:
    """The pair features to use: ``"auto"`` is every one of :data:`PAIR_FEATURES` when the
    model learns from known edges and none in the self-supervised mode (whose training pairs
    are the top co-expression pairs, so co-expression features would give the answer away);
    ``None``, ``"none"`` or ``()``: none."""
    if value is None or (isinstance(value, str) and value == "none"):
        return ()
    if isinstance(value, str) and value == "auto":
        return () if mode == "self-supervised" else PAIR_FEATURES
    kinds = (value,) if isinstance(value, str) else tuple(value)
    bad = [k for k in kinds if k not in PAIR_FEATURES]
    if bad or len(set(kinds)) != len(kinds):
        raise InputError(f"pair_features must be 'auto', 'none' or a list of distinct names "
                         f"among {list(PAIR_FEATURES)}, got {value!r}.")
    return kinds


def _quantiles(S: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Each valid entry's quantile among the valid entries, centred (-0.5..0.5); ties share
    their mean quantile; invalid entries (self-pairs) get 0."""
    from scipy.stats import rankdata

    out = np.zeros(S.shape, np.float32)
    v = S[valid]
    if v.size:
        out[valid] = ((rankdata(v) - 0.5) / v.size - 0.5).astype(np.float32)
    return out


def _one(kind: str, M: np.ndarray, tf_index: np.ndarray, seed: int,
         n_threads: int | None) -> np.ndarray:
    from ..baselines import correlation_scores, tree_scores

    if kind in ("pearson", "spearman"):
        return np.nan_to_num(correlation_scores(M, tf_index, method=kind))
    cells = np.arange(M.shape[0])
    if cells.size > TREE_MAX_CELLS:
        cells = np.sort(np.random.default_rng(seed).choice(cells, TREE_MAX_CELLS, replace=False))
    return tree_scores(M[cells], tf_index, n_estimators=TREE_ESTIMATORS, rank=True, seed=seed,
                       n_jobs=n_threads)


def expression_pair_features(X, tf_index: np.ndarray, kinds: Sequence[str], *,
                             seed: int = 0, n_threads: int | None = None) -> np.ndarray:
    """``(n_tfs, n_genes, len(kinds))`` features of every regulator -> gene pair.

    ``"pearson"`` / ``"spearman"``: absolute correlation over cells; ``"tree"``: the
    importance of the regulator in a GENIE3-style extra-trees regression of the gene on all
    regulators (Huynh-Thu et al., *PLoS ONE* 2010; on each gene's ranks, :data:`TREE_ESTIMATORS`
    trees per target on at most :data:`TREE_MAX_CELLS` cells). Each feature is replaced by its
    centred quantile over all pairs (self-pairs excluded, set to 0), so that the decoder
    weighs ranks, as rank-fusion of GRN methods does, whatever each score's distribution.
    Results of the last few calls are kept in memory (the cross-fitted models share them).

    Parameters
    ----------
    X
        Cells x genes expression (counts are log-normalised first).
    tf_index
        Gene positions of the candidate regulators (the rows).
    kinds
        Names among :data:`PAIR_FEATURES`.
    seed
        Seed of the cell subsample and the trees.
    n_threads
        Threads of the tree fits.
    """
    from ..data._grn_graph import fingerprint, log_normalise_if_counts

    kinds = tuple(kinds)
    tf_index = np.asarray(tf_index, dtype=np.int64)
    shape = (len(tf_index), X.shape[1], len(kinds))
    if not kinds:
        return np.zeros(shape, np.float32)
    key = (fingerprint(X), tf_index.tobytes(), kinds, int(seed))
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    M = log_normalise_if_counts(X)
    valid = np.ones(shape[:2], bool)
    valid[np.arange(len(tf_index)), tf_index] = False
    if "tree" in kinds:
        logger.info(f"pair features {', '.join(kinds)}: GENIE3-style trees for {M.shape[1]} "
                    f"genes on {min(M.shape[0], TREE_MAX_CELLS)} cells")
    out = np.stack([_quantiles(_one(k, M, tf_index, seed, n_threads), valid) for k in kinds],
                   axis=-1)
    _CACHE[key] = out
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return out


__all__ = ["PAIR_FEATURES", "TREE_ESTIMATORS", "TREE_MAX_CELLS", "expression_pair_features",
           "resolve_pair_features"]
