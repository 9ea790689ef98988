"""Metrics for ranked regulatory edges: AUROC, AUPRC, AUPRC ratio, early precision ratio.

Built on :mod:`sklearn.metrics`. ``density`` is the fraction of positives among the evaluated
candidates, i.e. the AUPRC of a random ranking; ratios divide by it (BEELINE's convention).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import _keys as keys
from .._validate import InputError, check_network


def _check(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true).astype(float).ravel()
    s = np.asarray(y_score, dtype=float).ravel()
    if y.shape != s.shape:
        raise InputError(f"y_true has {y.size} entries but y_score has {s.size}; pass one score "
                         "per candidate edge.")
    if not np.isin(y, (0.0, 1.0)).all():
        raise InputError("y_true must hold 0/1 labels (1 = true regulatory edge); convert "
                         "them first, e.g. (y_true > 0).astype(int).")
    if not np.isfinite(s).all():
        raise InputError(f"y_score holds {int((~np.isfinite(s)).sum())} non-finite values; "
                         "replace them (e.g. by the lowest score) before evaluating.")
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == y.size:
        raise InputError(f"the candidates hold {n_pos} positives out of {y.size}; AUROC/AUPRC "
                         "need both positives and negatives.")
    return y, s


def auroc(y_true, y_score) -> float:
    """Area under the ROC curve (``sklearn.metrics.roc_auc_score``)."""
    from sklearn.metrics import roc_auc_score

    y, s = _check(y_true, y_score)
    return float(roc_auc_score(y, s))


def auprc(y_true, y_score) -> float:
    """Area under the precision-recall curve as average precision
    (``sklearn.metrics.average_precision_score``)."""
    from sklearn.metrics import average_precision_score

    y, s = _check(y_true, y_score)
    return float(average_precision_score(y, s))


def density(y_true) -> float:
    """Fraction of positives among the candidates (the AUPRC of a random ranking)."""
    y = np.asarray(y_true, dtype=float).ravel()
    return float(y.mean())


def auprc_ratio(y_true, y_score) -> float:
    """AUPRC divided by the density of positives (1 = random, higher is better)."""
    return auprc(y_true, y_score) / density(y_true)


def early_precision(y_true, y_score, k: int | None = None) -> float:
    """Precision among the top ``k`` candidates (``k`` = number of positives by default).

    As in BEELINE, candidates tied with the ``k``-th score are all included.
    """
    y, s = _check(y_true, y_score)
    k = int(y.sum()) if k is None else int(k)
    if k < 1:
        raise InputError(f"k must be >= 1, got {k}.")
    k = min(k, y.size)
    threshold = np.partition(s, y.size - k)[y.size - k]  # k-th largest score
    top = s >= threshold
    return float(y[top].mean())


def early_precision_ratio(y_true, y_score, k: int | None = None) -> float:
    """Early precision divided by the density (BEELINE's EPR; 1 = random)."""
    return early_precision(y_true, y_score, k) / density(y_true)


def grn_metrics(y_true, y_score) -> dict[str, float]:
    """All ranking metrics at once.

    Returns
    -------
    dict with ``auroc``, ``auprc``, ``auprc_ratio``, ``epr``, ``density``, ``n_pos`` and
    ``n_candidates``.
    """
    y, s = _check(y_true, y_score)
    ap = auprc(y, s)
    dens = density(y)
    return {"auroc": auroc(y, s), "auprc": ap, "auprc_ratio": ap / dens,
            "epr": early_precision_ratio(y, s), "density": dens, "n_pos": int(y.sum()),
            "n_candidates": int(y.size)}


def candidate_pairs(tfs: Sequence[str], genes: Sequence[str], *,
                    self_loops: bool = False) -> pd.DataFrame:
    """Every TF -> gene candidate as a ``source, target`` DataFrame (self-loops left out)."""
    tfs = [str(t) for t in tfs]
    genes = [str(g) for g in genes]
    src = np.repeat(tfs, len(genes))
    tgt = np.tile(genes, len(tfs))
    out = pd.DataFrame({keys.SOURCE: src, keys.TARGET: tgt})
    if not self_loops:
        out = out[out[keys.SOURCE] != out[keys.TARGET]]
    return out.reset_index(drop=True)


def evaluate_grn(scores: pd.DataFrame, truth: pd.DataFrame | None = None, *,
                 pairs: pd.DataFrame | None = None, tfs: Sequence[str] | None = None,
                 genes: Sequence[str] | None = None) -> dict[str, float]:
    """Evaluate a scored edge table against true edges.

    Parameters
    ----------
    scores
        DataFrame ``source, target, score``. Candidates without a score rank last.
    truth
        True edges (``source, target``); not needed when ``pairs`` has a ``label`` column.
    pairs
        Candidates to evaluate (``source, target`` [, ``label``]), e.g. a benchmark's test set.
        ``None``: every ``tfs`` x ``genes`` pair except self-loops.
    tfs, genes
        Candidate TFs and genes when ``pairs`` is None (default: the sources and all names of
        ``scores``).

    Returns
    -------
    dict of :func:`grn_metrics`.
    """
    check_network(scores, what="the scores")
    if keys.SCORE not in scores:
        raise InputError(f"the scores lack a '{keys.SCORE}' column (columns: {list(scores.columns)}).")
    if pairs is None:
        tfs = pd.unique(scores[keys.SOURCE].astype(str)) if tfs is None else tfs
        genes = (pd.unique(pd.concat([scores[keys.SOURCE], scores[keys.TARGET]]).astype(str))
                 if genes is None else genes)
        pairs = candidate_pairs(tfs, genes)
    else:
        check_network(pairs, what="the pairs")
    if "label" in pairs:
        y = pairs["label"].to_numpy(dtype=float)
    else:
        if truth is None:
            raise InputError("pass truth= (true edges) or pairs with a 'label' column.")
        check_network(truth, what="the true network")
        true_set = set(zip(truth[keys.SOURCE].astype(str), truth[keys.TARGET].astype(str), strict=True))
        y = np.fromiter(((s, t) in true_set for s, t in
                         zip(pairs[keys.SOURCE].astype(str), pairs[keys.TARGET].astype(str), strict=True)),
                        dtype=float, count=len(pairs))
    lookup = pd.Series(scores[keys.SCORE].to_numpy(dtype=float),
                       index=pd.MultiIndex.from_arrays([scores[keys.SOURCE].astype(str),
                                                        scores[keys.TARGET].astype(str)]))
    lookup = lookup[~lookup.index.duplicated()]
    idx = pd.MultiIndex.from_arrays([pairs[keys.SOURCE].astype(str), pairs[keys.TARGET].astype(str)])
    s = lookup.reindex(idx).to_numpy()
    missing = ~np.isfinite(s)
    if missing.any():
        low = np.nanmin(s[~missing]) if (~missing).any() else 0.0
        s[missing] = low - 1.0
    return grn_metrics(y, s)


__all__ = ["auprc", "auprc_ratio", "auroc", "candidate_pairs", "density", "early_precision",
           "early_precision_ratio", "evaluate_grn", "grn_metrics"]
