"""Inputs of GRN link prediction: gene features from expression, training-graph degrees,
co-expression neighbours and the message-passing graph (numpy/torch only, no AnnData)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np
import scipy.sparse as sp
import torch

from .._validate import is_counts

#: expression features of the last few matrices (the models of one cross-fit share them)
_FEATURES: OrderedDict[tuple, np.ndarray] = OrderedDict()
_FEATURES_KEPT = 2


def fingerprint(X) -> tuple:
    """A key for the values of a dense or sparse matrix: shape, dtype and a hash of the
    values (two matrices with the same key hold the same numbers)."""
    h = hashlib.blake2b(digest_size=16)
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        parts = (X.data, X.indices, X.indptr)
    else:
        X = np.asarray(X)
        parts = (X,)
    for part in parts:
        h.update(np.ascontiguousarray(part).view(np.uint8))
    return (X.shape, str(X.dtype), sp.issparse(X), h.hexdigest())


def log_normalise_if_counts(X) -> np.ndarray:
    """Dense float64 cells x genes; whole-number counts get log1p(counts / total * 1e4)."""
    M = X.toarray() if sp.issparse(X) else np.asarray(X)
    M = M.astype(np.float64)
    if M.size and is_counts(M):
        tot = M.sum(axis=1, keepdims=True)
        tot[tot == 0] = 1.0
        M = np.log1p(M / tot * 1e4)
    return M


def standardise_genes(M: np.ndarray) -> np.ndarray:
    """z-score every gene (column) over cells; constant genes become 0."""
    Z = M - M.mean(axis=0, keepdims=True)
    sd = Z.std(axis=0, keepdims=True)
    sd[sd == 0] = 1.0
    return Z / sd


def expression_features(X, *, n_components: int | None = 64, seed: int = 0) -> np.ndarray:
    """Gene features from a cells x genes matrix: standardised profiles, optionally PCA-reduced.

    Parameters
    ----------
    X
        Cells x genes expression (counts are log-normalised first).
    n_components
        Principal components kept (``None`` or >= cells: the full standardised profile).
    seed
        Seed of the randomized PCA.

    Returns
    -------
    ``(n_genes, d)`` float32 array, each column scaled to unit variance.
    """
    key = (fingerprint(X), n_components, int(seed))
    if key not in _FEATURES:
        _FEATURES[key] = _expression_features(X, n_components, seed)
        while len(_FEATURES) > _FEATURES_KEPT:
            _FEATURES.popitem(last=False)
    _FEATURES.move_to_end(key)
    return _FEATURES[key].copy()


def _expression_features(X, n_components: int | None, seed: int) -> np.ndarray:
    Z = standardise_genes(log_normalise_if_counts(X)).T  # genes x cells
    if n_components is not None and n_components < min(Z.shape):
        from sklearn.decomposition import PCA

        Z = PCA(n_components=n_components, random_state=seed).fit_transform(Z)
    Z = Z - Z.mean(axis=0, keepdims=True)
    sd = Z.std(axis=0, keepdims=True)
    sd[sd == 0] = 1.0
    return (Z / sd).astype(np.float32)


def predicted_log_degree(features: np.ndarray, degree: np.ndarray, fit: np.ndarray,
                         rows: np.ndarray) -> np.ndarray:
    """``log(1 + degree)`` of the genes ``rows`` as predicted from their ``features`` by a
    ridge regression (penalty chosen by leave-one-out over a fixed grid) fitted on the genes
    where ``fit`` is True; clipped at 0. With fewer than 3 genes to fit on, the mean of their
    ``log(1 + degree)`` (0 without any).

    How many edges a gene has is partly written in its expression profile; this is how
    :func:`gnngeno.baselines.expression_degree_scores` and the cross-fitted ranking of
    regulators without known edges read it.

    Parameters
    ----------
    features
        ``(n_genes, d)`` gene features, e.g. :func:`expression_features`.
    degree
        ``(n_genes,)`` known degrees (read where ``fit`` is True).
    fit
        ``(n_genes,)`` boolean mask of the genes to fit the regression on.
    rows
        Positions of the genes to predict.

    Returns
    -------
    ``(len(rows),)`` predicted ``log(1 + degree)``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    target = np.log1p(np.asarray(degree, dtype=np.float64)[fit])
    if target.size < 3:
        return np.full(rows.size, float(target.mean()) if target.size else 0.0)
    from sklearn.linear_model import RidgeCV

    model = RidgeCV(alphas=np.logspace(-2, 4, 13)).fit(features[fit], target)
    return np.clip(model.predict(features[rows]), 0.0, None)


def correlation(X, *, method: str = "pearson", rows: np.ndarray | None = None) -> np.ndarray:
    """Gene-gene correlation (``rows`` x genes) of a cells x genes matrix (counts are
    log-normalised first); :func:`gnngeno.gr.coexpression` does the work."""
    from ..gr import coexpression

    return coexpression(log_normalise_if_counts(X), method=method, rows=rows)


def coexpression_edges(corr: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """``(2, E)`` pairs ``rows[i] -> j`` for the ``k`` partners of largest ``|corr[i, j]|``."""
    strength = np.abs(corr).copy()
    strength[np.arange(len(rows)), rows] = -np.inf
    k = min(k, strength.shape[1] - 1)
    top = np.argpartition(-strength, k - 1, axis=1)[:, :k]
    return np.stack([np.repeat(rows, k), top.ravel()]).astype(np.int64)


def degree_features(train_pos: np.ndarray, n_genes: int) -> np.ndarray:
    """``(n_genes, 2)`` log1p out-degree and in-degree in the training graph."""
    out_deg = np.bincount(train_pos[0], minlength=n_genes)
    in_deg = np.bincount(train_pos[1], minlength=n_genes)
    return np.log1p(np.stack([out_deg, in_deg], axis=1)).astype(np.float32)


def message_graph(n_genes: int, *edge_sets: np.ndarray) -> torch.Tensor:
    """Undirected, de-duplicated ``(2, E)`` edge_index from one or more directed pair arrays."""
    parts = [np.asarray(e, dtype=np.int64).reshape(2, -1) for e in edge_sets if e is not None]
    if not parts:
        return torch.zeros((2, 0), dtype=torch.long)
    e = np.concatenate(parts, axis=1)
    e = np.concatenate([e, e[::-1]], axis=1)
    e = e[:, e[0] != e[1]]
    keys = np.unique(e[0] * n_genes + e[1])
    return torch.as_tensor(np.stack([keys // n_genes, keys % n_genes]), dtype=torch.long)


__all__ = ["coexpression_edges", "correlation", "degree_features", "expression_features",
           "log_normalise_if_counts", "message_graph", "predicted_log_degree",
           "standardise_genes"]
