"""Imputation errors on held-out entries and clustering agreement (over sklearn.metrics)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validate import InputError


def _at(M, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Values of dense or sparse ``M`` at ``(rows, cols)`` as a float64 vector."""
    if sp.issparse(M):
        M = sp.csr_matrix(M)
        return np.asarray(M[rows, cols], dtype=np.float64).ravel()
    return np.asarray(M[rows, cols], dtype=np.float64).ravel()


def _total(M) -> float:
    if sp.issparse(M):
        return float(M.sum(dtype=np.float64))
    total = 0.0
    step = max(1, 2_000_000 // max(1, M.shape[1]))
    for i in range(0, M.shape[0], step):  # chunked: no float64 copy of a large matrix
        total += float(np.asarray(M[i:i + step], dtype=np.float64).sum())
    return total


def _errors(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    diff = pred - true
    if true.size == 0:
        return {"median_l1": float("nan"), "rmse": float("nan")}
    return {"median_l1": float(np.median(np.abs(diff))), "rmse": float(np.sqrt(np.mean(diff**2)))}


def imputation_metrics(imputed, masked_counts, hidden, *, target_sum: float = 1e4) -> dict[str, float]:
    """Errors of an imputation on the entries hidden by :func:`gnngeno.pp.mask_nonzero`.

    Everything is compared in log-normalised space: the truth is
    ``log1p(count / library * target_sum)`` with ``library`` the per-cell total of the
    **masked** matrix (the size factor the imputation method saw), and ``imputed`` must already
    be in that space (as ``tl.impute`` writes it).

    Parameters
    ----------
    imputed
        Cells x genes imputed values (dense or sparse), log1p of counts normalised to
        ``target_sum``.
    masked_counts
        The masked counts the method was given (dense or sparse).
    hidden
        :class:`gnngeno.pp.HiddenEntries` returned with the masked data.
    target_sum
        Normalisation total.

    Returns
    -------
    dict with, on the hidden entries: ``median_l1``, ``rmse``, ``pearson`` (Pearson r),
    ``cosine`` (cosine similarity of the hidden truth and imputed vectors); on the entries that
    stayed visible (non-zero in the masked matrix): ``visible_median_l1``, ``visible_rmse``;
    ``zero_mean``: the mean imputed value on the true zeros (zero in the masked matrix and not
    hidden; over-imputation, 0 for no imputation); and ``n_hidden``.
    """
    from ..pp._mask import log_normalize

    shape = tuple(hidden.shape)
    if tuple(imputed.shape) != shape or tuple(masked_counts.shape) != shape:
        raise InputError(f"imputed {tuple(imputed.shape)} and masked counts "
                         f"{tuple(masked_counts.shape)} must both have the masked shape {shape}.")
    if len(hidden) == 0:
        raise InputError("no hidden entries; mask some with gnngeno.pp.mask_nonzero first.")
    M = sp.csr_matrix(masked_counts, dtype=np.float64)
    M.eliminate_zeros()
    library = np.asarray(M.sum(axis=1)).ravel()
    lib_h = library[hidden.rows]
    if (lib_h <= 0).any():
        raise InputError("some hidden entries lie in cells with no visible counts; mask with "
                         "min_per_cell >= 1.")
    true_h = np.log1p(hidden.values.astype(np.float64) / lib_h * target_sum)
    pred_h = _at(imputed, hidden.rows, hidden.cols)
    if not np.isfinite(pred_h).all():
        raise InputError("the imputed values hold NaN or infinite values at hidden entries.")
    out: dict[str, float] = {"n_hidden": float(len(hidden))}
    out.update(_errors(pred_h, true_h))
    if np.std(pred_h) > 0 and np.std(true_h) > 0:
        out["pearson"] = float(np.corrcoef(pred_h, true_h)[0, 1])
    else:
        out["pearson"] = float("nan")
    denom = np.linalg.norm(pred_h) * np.linalg.norm(true_h)
    out["cosine"] = float(pred_h @ true_h / denom) if denom > 0 else float("nan")

    L = log_normalize(M, target_sum=target_sum)
    vis_rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    pred_v = _at(imputed, vis_rows, M.indices)
    vis = _errors(pred_v, L.data.astype(np.float64))
    out["visible_median_l1"] = vis["median_l1"]
    out["visible_rmse"] = vis["rmse"]
    n_zero = shape[0] * shape[1] - M.nnz - len(hidden)
    total = _total(imputed) - pred_v.sum() - pred_h.sum()
    out["zero_mean"] = float(total / n_zero) if n_zero > 0 else float("nan")
    return out


def clustering_agreement(X, labels, *, n_pcs: int = 50, n_clusters: int | None = None,
                         seed: int = 0) -> dict[str, float]:
    """KMeans on the PCA of ``X`` compared with known labels (ARI and NMI).

    Parameters
    ----------
    X
        Cells x genes values (dense or sparse), e.g. an imputed log-normalised layer.
    labels
        One label per cell (any hashable values).
    n_pcs
        Principal components (capped at ``min(cells, genes) - 1``).
    n_clusters
        KMeans k; default the number of distinct labels.
    seed
        Random state of PCA and KMeans.

    Returns
    -------
    dict with ``ari`` (:func:`sklearn.metrics.adjusted_rand_score`) and ``nmi``
    (:func:`sklearn.metrics.normalized_mutual_info_score`).
    """
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from .._validate import check_finite

    check_finite(X, "X (the values to cluster)")
    labels = np.asarray(labels)
    if labels.shape[0] != X.shape[0]:
        raise InputError(f"{labels.shape[0]} labels for {X.shape[0]} cells; pass one label per cell.")
    k = int(n_clusters or np.unique(labels).size)
    if k < 2:
        raise InputError("clustering agreement needs at least 2 distinct labels.")
    n_comp = int(min(n_pcs, min(X.shape) - 1))
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X)
    Z = PCA(n_components=n_comp, random_state=seed).fit_transform(Xd.astype(np.float32))
    pred = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(Z)
    return {"ari": float(adjusted_rand_score(labels, pred)),
            "nmi": float(normalized_mutual_info_score(labels, pred))}


__all__ = ["clustering_agreement", "imputation_metrics"]
