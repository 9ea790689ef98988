"""Imputation errors on hidden entries and clustering agreement."""

from __future__ import annotations

import numpy as np
import pytest

from gnngeno import InputError
from gnngeno.metrics import clustering_agreement, imputation_metrics
from gnngeno.pp import log_normalize, mask_nonzero


@pytest.fixture()
def masked(sim):
    adata, _ = sim
    m, hidden = mask_nonzero(adata, fraction=0.1, seed=0)
    return adata, m, hidden


def _truth(masked_counts, hidden):
    """The hidden values put back, in log space with the MASKED library size."""
    lib = np.asarray(masked_counts.sum(1)).ravel()
    full = (masked_counts + hidden.to_sparse()).toarray()
    return np.log1p(full / lib[:, None] * 1e4)


def test_perfect_and_no_imputation(masked):
    _, m, hidden = masked
    M = m.layers["counts"]
    perfect = imputation_metrics(_truth(M, hidden), M, hidden)
    assert perfect["median_l1"] < 1e-6 and perfect["rmse"] < 1e-6
    assert perfect["pearson"] == pytest.approx(1.0) and perfect["cosine"] == pytest.approx(1.0)
    assert perfect["visible_median_l1"] < 1e-5 and perfect["zero_mean"] == pytest.approx(0.0)
    none = imputation_metrics(log_normalize(M), M, hidden)
    truth = _truth(M, hidden)[hidden.rows, hidden.cols]
    assert none["median_l1"] == pytest.approx(np.median(truth))
    assert none["rmse"] == pytest.approx(np.sqrt(np.mean(truth**2)))
    assert none["zero_mean"] == 0.0


def test_over_imputation_is_the_mean_on_true_zeros(masked):
    _, m, hidden = masked
    M = m.layers["counts"]
    imp = _truth(M, hidden)
    zeros = imp == 0
    imp[zeros] = 0.5
    assert imputation_metrics(imp, M, hidden)["zero_mean"] == pytest.approx(0.5)


def test_shape_mismatch(masked):
    _, m, hidden = masked
    with pytest.raises(InputError, match="shape"):
        imputation_metrics(np.zeros((3, 3)), m.layers["counts"], hidden)


def test_clustering_agreement():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 30)
    X = rng.normal(size=(90, 20)) * 0.1 + labels[:, None] * 3.0
    res = clustering_agreement(X, labels, n_pcs=5)
    assert res["ari"] == pytest.approx(1.0) and res["nmi"] == pytest.approx(1.0)
    noise = clustering_agreement(rng.normal(size=(90, 20)), labels, n_pcs=5)
    assert noise["ari"] < 0.3
    with pytest.raises(InputError, match="labels"):
        clustering_agreement(X, labels[:10])
