"""Seeded masking of non-zero counts."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from gnngeno import InputError
from gnngeno.pp import log_normalize, mask_nonzero


def test_mask_hides_a_fraction_of_nonzeros(sim):
    adata, _ = sim
    before = adata.layers["counts"].copy()
    masked, hidden = mask_nonzero(adata, fraction=0.1, seed=0)
    X = sp.csr_matrix(before)
    assert abs(len(hidden) - 0.1 * X.nnz) <= 0.01 * X.nnz
    M = masked.layers["counts"]
    assert np.all(np.asarray(M[hidden.rows, hidden.cols]).ravel() == 0)
    np.testing.assert_array_equal(np.asarray(X[hidden.rows, hidden.cols]).ravel(), hidden.values)
    assert (hidden.values > 0).all()
    # the rest is unchanged, and the caller's data too
    np.testing.assert_array_equal((M + hidden.to_sparse()).toarray(), X.toarray())
    assert (adata.layers["counts"] != before).nnz == 0
    assert (masked.X != M).nnz == 0
    assert (np.diff(M.indptr) >= 1).all()
    assert set(masked.layers) == {"counts"} and len(masked.obsm) == 0


def test_mask_is_seeded(sim):
    adata, _ = sim
    _, h1 = mask_nonzero(adata, seed=3)
    _, h2 = mask_nonzero(adata, seed=3)
    _, h3 = mask_nonzero(adata, seed=4)
    np.testing.assert_array_equal(h1.rows, h2.rows)
    np.testing.assert_array_equal(h1.cols, h2.cols)
    assert not (np.array_equal(h1.rows, h3.rows) and np.array_equal(h1.cols, h3.cols))


def test_mask_keeps_one_count_per_cell():
    import anndata as ad

    X = sp.csr_matrix(np.array([[1, 0, 0], [2, 3, 0], [1, 1, 1]], dtype=np.float32))
    a = ad.AnnData(X=X)
    a.layers["counts"] = X
    masked, hidden = mask_nonzero(a, fraction=0.9, seed=0)
    assert (np.diff(masked.layers["counts"].indptr) >= 1).all()


@pytest.mark.parametrize("bad, msg", [(-1.0, "negative"), (0.5, "non-integer"), (np.nan, "NaN")])
def test_mask_refuses_bad_counts(bad, msg):
    import anndata as ad

    X = np.array([[1, 2, 0], [0, 1, 3], [2, 0, 1]], dtype=np.float32)
    X[0, 2] = bad
    a = ad.AnnData(X=X)
    with pytest.raises(InputError, match=msg):
        mask_nonzero(a, layer=None)


def test_mask_bad_fraction(sim):
    with pytest.raises(InputError, match="fraction"):
        mask_nonzero(sim[0], fraction=1.5)


def test_log_normalize_matches_scanpy(sim):
    import scanpy as sc

    adata = sim[0].copy()
    ours = log_normalize(adata.layers["counts"]).toarray()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    np.testing.assert_allclose(ours, adata.X.toarray(), rtol=1e-5, atol=1e-5)
    dense = log_normalize(sim[0].layers["counts"].toarray())
    np.testing.assert_allclose(dense, ours, rtol=1e-6)
