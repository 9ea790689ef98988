"""How well an embedding separates known groups: ARI and NMI of KMeans with the true number of
groups, and of Leiden on the embedding's kNN graph (over scikit-learn and scanpy)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._settings import keep_torch_threads, resolve_seed
from .._validate import InputError


def _check(X, labels) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)
    if X.ndim != 2:
        raise InputError(f"the embedding must be a 2-d (cells, dims) array, got shape {X.shape}.")
    labels = np.asarray(labels)
    if labels.shape[0] != X.shape[0]:
        raise InputError(f"{labels.shape[0]} labels for {X.shape[0]} cells; pass one label per "
                         "row of the embedding.")
    if not np.isfinite(X).all():
        raise InputError("the embedding has NaN or infinite values; cannot cluster it. Drop "
                         "or fill those rows first (e.g. np.nan_to_num).")
    return X, labels


def label_agreement(labels, clusters) -> dict[str, float]:
    """ARI and NMI between known ``labels`` and ``clusters`` (any hashable values).

    Returns
    -------
    ``{"ari": ..., "nmi": ...}`` (:func:`sklearn.metrics.adjusted_rand_score`,
    :func:`sklearn.metrics.normalized_mutual_info_score`).
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    labels, clusters = np.asarray(labels), np.asarray(clusters)
    return {"ari": float(adjusted_rand_score(labels, clusters)),
            "nmi": float(normalized_mutual_info_score(labels, clusters))}


def kmeans_clusters(X, n_clusters: int, *, seed: int | None = None,
                    n_init: int = 10) -> np.ndarray:
    """KMeans cluster of every row of ``X`` (:class:`sklearn.cluster.KMeans`)."""
    from sklearn.cluster import KMeans

    X = np.asarray(X, dtype=np.float64)
    if not 1 <= n_clusters <= X.shape[0]:
        raise InputError(f"n_clusters={n_clusters} must be between 1 and the {X.shape[0]} rows.")
    km = KMeans(n_clusters=int(n_clusters), n_init=n_init, random_state=resolve_seed(seed))
    return km.fit_predict(X)


def kmeans_scores(X, labels, *, n_clusters: int | None = None, seed: int | None = None,
                  n_init: int = 10) -> dict[str, float]:
    """ARI and NMI of KMeans on embedding ``X`` against ``labels``.

    Parameters
    ----------
    X
        (cells, dims) embedding, e.g. ``adata.obsm["X_gnngeno"]``.
    labels
        Known group of every cell.
    n_clusters
        Clusters for KMeans (default: the number of distinct labels, "the true k").
    seed
        KMeans random state (default ``settings.seed``).
    n_init
        KMeans restarts.

    Returns
    -------
    ``{"ari": ..., "nmi": ...}``

    Examples
    --------
    >>> import numpy as np
    >>> X = np.r_[np.zeros((5, 2)), np.ones((5, 2)) * 10]
    >>> kmeans_scores(X, [0] * 5 + [1] * 5)
    {'ari': 1.0, 'nmi': 1.0}
    """
    X, labels = _check(X, labels)
    k = len(np.unique(labels)) if n_clusters is None else int(n_clusters)
    return label_agreement(labels, kmeans_clusters(X, k, seed=seed, n_init=n_init))


def leiden_clusters(X, *, n_neighbors: int = 15, resolution: float = 1.0,
                    seed: int | None = None, transformer=None) -> np.ndarray:
    """Leiden clusters on the kNN graph of embedding ``X`` (:func:`scanpy.pp.neighbors` with
    ``use_rep`` = ``X``, then :func:`scanpy.tl.leiden`, igraph flavour)."""
    import anndata as ad
    import scanpy as sc

    X = np.asarray(X, dtype=np.float32)
    seed = resolve_seed(seed)
    holder = ad.AnnData(obsm={"rep": X}, obs=__import__("pandas").DataFrame(
        index=[str(i) for i in range(X.shape[0])]))
    with keep_torch_threads():
        sc.pp.neighbors(holder, n_neighbors=min(n_neighbors, X.shape[0] - 1), use_rep="rep",
                        random_state=seed, transformer=transformer)
    sc.tl.leiden(holder, resolution=resolution, random_state=seed, flavor="igraph",
                 n_iterations=2, directed=False)
    return holder.obs["leiden"].astype(int).to_numpy()


def leiden_scores(X, labels, *, n_neighbors: int = 15, resolution: float = 1.0,
                  seed: int | None = None, transformer=None) -> dict[str, float]:
    """ARI and NMI of Leiden clusters on the kNN graph of embedding ``X`` against ``labels``.

    Parameters
    ----------
    X
        (cells, dims) embedding.
    labels
        Known group of every cell.
    n_neighbors
        Neighbours of the kNN graph.
    resolution
        Leiden resolution (the number of clusters is not forced to the true k).
    seed
        Random state of the graph and of Leiden (default ``settings.seed``).
    transformer
        Passed to :func:`scanpy.pp.neighbors` (``"sklearn"`` skips numba compilation).

    Returns
    -------
    ``{"ari": ..., "nmi": ..., "n_clusters": ...}``
    """
    X, labels = _check(X, labels)
    clusters = leiden_clusters(X, n_neighbors=n_neighbors, resolution=resolution, seed=seed,
                               transformer=transformer)
    out = label_agreement(labels, clusters)
    out["n_clusters"] = int(len(np.unique(clusters)))
    return out


def clustering_scores(X, labels, *, methods: Sequence[str] = ("kmeans", "leiden"),
                      seed: int | None = None, n_neighbors: int = 15,
                      resolution: float = 1.0, transformer=None) -> dict[str, float]:
    """KMeans (true k) and/or Leiden ARI/NMI of an embedding in one flat dict.

    Returns
    -------
    e.g. ``{"kmeans_ari", "kmeans_nmi", "leiden_ari", "leiden_nmi", "leiden_n_clusters"}``.
    """
    out: dict[str, float] = {}
    for m in methods:
        if m == "kmeans":
            res = kmeans_scores(X, labels, seed=seed)
        elif m == "leiden":
            res = leiden_scores(X, labels, seed=seed, n_neighbors=n_neighbors,
                                resolution=resolution, transformer=transformer)
        else:
            raise InputError(f"method {m!r} is not supported; choose 'kmeans' or 'leiden'.")
        out.update({f"{m}_{k}": v for k, v in res.items()})
    return out


__all__ = ["label_agreement", "clustering_scores", "kmeans_clusters", "kmeans_scores",
           "leiden_clusters", "leiden_scores"]
