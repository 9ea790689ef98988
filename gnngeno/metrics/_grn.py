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


def epr_tf_edges(y_true, y_score, sources, *, tfs) -> float:
    """BEELINE's early precision ratio over TF edges only.

    Only candidates whose source is a TF count (ground-truth edges out of non-TFs cannot be
    predicted by a TF -> gene method); ``k`` is the number of true TF edges among them and the
    random precision is ``k`` over the number of those candidates (the fixed definition of
    Murali-group/Beeline#131).

    Parameters
    ----------
    y_true, y_score
        Labels and scores of the candidates.
    sources
        Source (gene position or name) of each candidate.
    tfs
        The TFs.
    """
    keep = np.isin(np.asarray(sources).ravel(), np.asarray(tfs))
    if not keep.any():
        raise InputError("no candidate starts at one of the tfs; pass the TFs of the candidates.")
    y, s = _check(np.asarray(y_true).ravel()[keep], np.asarray(y_score).ravel()[keep])
    return early_precision_ratio(y, s)


def auroc_by_degree(y_true, y_score, degree, *, threshold: float | None = None
                    ) -> dict[str, float]:
    """AUROC of the candidates of low- and of high-degree TFs.

    Parameters
    ----------
    y_true, y_score
        Labels and scores of the candidates.
    degree
        Training out-degree of each candidate's TF.
    threshold
        Candidates whose TF degree is ``<= threshold`` are "low" (default: the median of
        ``degree`` over the candidates).

    Returns
    -------
    ``{"auroc_low_degree", "auroc_high_degree", "degree_threshold"}``; NaN for a stratum
    that lacks positives or negatives.
    """
    y = np.asarray(y_true, dtype=float).ravel()
    s = np.asarray(y_score, dtype=float).ravel()
    d = np.asarray(degree, dtype=float).ravel()
    if not y.shape == s.shape == d.shape:
        raise InputError(f"y_true, y_score and degree must have one entry per candidate, got "
                         f"{y.size}, {s.size} and {d.size}.")
    thr = float(np.median(d)) if threshold is None else float(threshold)
    out: dict[str, float] = {}
    for name, mask in (("low", d <= thr), ("high", d > thr)):
        ok = mask.any() and 0 < y[mask].sum() < mask.sum()
        out[f"auroc_{name}_degree"] = auroc(y[mask], s[mask]) if ok else float("nan")
    out["degree_threshold"] = thr
    return out


def full_space_metrics(scores, positives, *, tf_index, exclude=None, sources=None,
                       targets=None) -> dict[str, float]:
    """Rank the full candidate space: every TF x gene pair of a score matrix.

    Parameters
    ----------
    scores
        ``(n_tfs, n_genes)`` scores, rows following ``tf_index``.
    positives
        ``(2, E)`` positive pairs (gene positions) to find; pairs not starting at a TF of
        ``tf_index`` are ignored.
    tf_index
        Gene position of each row of ``scores``.
    exclude
        ``(2, E')`` pairs left out of the ranking (training positives and validation pairs:
        they are neither positives nor negatives of the test). Self-pairs are always left out.
    sources, targets
        Restrict the ranking to these TFs / target genes (gene positions; e.g. the held-out
        TFs of an inductive split, whose full candidate space is their own rows).

    Returns
    -------
    dict of :func:`grn_metrics` over all remaining candidates.
    """
    S = np.asarray(scores, dtype=float)
    tf_index = np.asarray(tf_index, dtype=np.int64)
    n_tfs, n = S.shape
    if len(tf_index) != n_tfs:
        raise InputError(f"scores have {n_tfs} rows but tf_index has {len(tf_index)} TFs.")
    row = np.full(max(n, int(tf_index.max(initial=0)) + 1), -1, np.int64)
    row[tf_index] = np.arange(n_tfs)
    y = np.zeros((n_tfs, n))
    pos = np.asarray(positives, dtype=np.int64).reshape(2, -1)
    pos = pos[:, row[pos[0]] >= 0]
    y[row[pos[0]], pos[1]] = 1
    keep = np.ones((n_tfs, n), bool)
    keep[np.arange(n_tfs), tf_index[tf_index < n]] = False
    if sources is not None:
        keep &= np.isin(tf_index, np.asarray(sources, dtype=np.int64))[:, None]
    if targets is not None:
        keep &= np.isin(np.arange(n), np.asarray(targets, dtype=np.int64))[None, :]
    if exclude is not None:
        ex = np.asarray(exclude, dtype=np.int64).reshape(2, -1)
        ex = ex[:, row[ex[0]] >= 0]
        ex = ex[:, y[row[ex[0]], ex[1]] == 0]  # a positive is never excluded
        keep[row[ex[0]], ex[1]] = False
    return grn_metrics(y[keep], S[keep])


__all__ = ["auprc", "auprc_ratio", "auroc", "auroc_by_degree", "candidate_pairs", "density",
           "early_precision", "early_precision_ratio", "epr_tf_edges", "evaluate_grn",
           "full_space_metrics", "grn_metrics"]
