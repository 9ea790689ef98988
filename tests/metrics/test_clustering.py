"""Clustering metrics of embeddings: KMeans with the true k and Leiden on the kNN graph."""

from __future__ import annotations

import numpy as np
import pytest

from gnngeno import InputError
from gnngeno.metrics import (
    clustering_scores,
    kmeans_clusters,
    kmeans_scores,
    label_agreement,
    leiden_scores,
)


def blobs(n_per=40, k=3, dims=5, spread=0.3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (k, dims))
    X = np.vstack([c + spread * rng.standard_normal((n_per, dims)) for c in centres])
    labels = np.repeat([f"t{i}" for i in range(k)], n_per)
    return X, labels


def test_label_agreement_hand_cases():
    assert label_agreement([0, 0, 1, 1], ["b", "b", "a", "a"]) == {"ari": 1.0, "nmi": 1.0}
    # every cell in its own cluster vs two groups: ARI 0
    assert label_agreement([0, 0, 1, 1], [0, 1, 2, 3])["ari"] == pytest.approx(0.0)
    # sklearn's documented example: ARI of [0,0,1,1] vs [0,0,1,2] is 0.5714...
    assert label_agreement([0, 0, 1, 1], [0, 0, 1, 2])["ari"] == pytest.approx(0.571428, abs=1e-5)


def test_kmeans_recovers_separated_groups_with_true_k():
    X, labels = blobs()
    assert kmeans_scores(X, labels, seed=0) == {"ari": 1.0, "nmi": 1.0}
    assert len(np.unique(kmeans_clusters(X, 3, seed=0))) == 3
    # too few clusters cannot reach ARI 1
    assert kmeans_scores(X, labels, n_clusters=2, seed=0)["ari"] < 0.9


def test_kmeans_on_noise_scores_near_zero():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((150, 4))
    labels = rng.integers(0, 3, 150)
    assert abs(kmeans_scores(X, labels, seed=0)["ari"]) < 0.05


def test_leiden_on_knn_graph_of_blobs():
    X, labels = blobs()
    res = leiden_scores(X, labels, seed=0, transformer="sklearn", n_neighbors=10)
    assert res["ari"] > 0.9 and res["n_clusters"] >= 3


def test_clustering_scores_flat_dict_and_errors():
    X, labels = blobs(n_per=20)
    out = clustering_scores(X, labels, methods=("kmeans",), seed=0)
    assert set(out) == {"kmeans_ari", "kmeans_nmi"}
    with pytest.raises(InputError, match="labels"):
        kmeans_scores(X, labels[:-1])
    with pytest.raises(InputError, match="NaN"):
        kmeans_scores(np.full_like(X, np.nan), labels)
    with pytest.raises(InputError, match="not supported"):
        clustering_scores(X, labels, methods=("dbscan",))
