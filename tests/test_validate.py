"""Shared input checks: every problem named, with the fix, and nothing mutated."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gnngeno._validate import (
    InputError,
    InputWarning,
    align_network,
    check_adata,
    check_counts,
    check_fractions,
    check_same_genes,
    check_tfs,
    warn_if_lognormalized,
)


def _adata(X, genes=None):
    a = ad.AnnData(X=np.asarray(X, dtype=np.float32))
    if genes is not None:
        a.var_names = genes
    return a


def test_check_adata_accepts_good_data_and_returns_matrix():
    a = _adata([[1, 0, 2], [0, 3, 1]])
    X = check_adata(a, counts=True)
    assert X is a.X


@pytest.mark.parametrize("X, match", [
    ([[1, np.nan], [0, 1]], "NaN"),
    ([[1, np.inf], [0, 1]], "infinite"),
    ([[1, -1], [0, 1]], "negative"),
    ([[1.5, 0], [0, 1]], "non-integer"),
])
def test_check_counts_problems(X, match):
    with pytest.raises(InputError, match=match):
        check_counts(np.asarray(X, dtype=np.float32))
    with pytest.raises(InputError, match=match):
        check_counts(sp.csr_matrix(np.asarray(X, dtype=np.float32)))


def test_check_adata_shapes_and_names():
    with pytest.raises(InputError, match="empty"):
        check_adata(ad.AnnData(X=np.zeros((0, 3), dtype=np.float32)))
    with pytest.raises(InputError, match="adata.T"):
        check_adata(_adata([[1, 2, 3]]))
    a = _adata([[1, 2], [3, 4]], genes=["g", "g"])
    with pytest.raises(InputError, match="var_names_make_unique"):
        check_adata(a)
    with pytest.raises(InputError, match="AnnData"):
        check_adata(np.ones((3, 3)))
    with pytest.raises(InputError, match="no counts"):
        check_adata(_adata([[0, 0], [1, 2]]), allow_empty_cells=False)
    with pytest.raises(InputError, match="layer 'counts'"):
        check_adata(_adata([[1, 2], [3, 4]]), layer="counts")


def test_lognormalised_warning():
    with pytest.warns(InputWarning, match="log-normalised"):
        warn_if_lognormalized(np.array([[0.5, 1.2], [2.3, 0.0]]))


def test_align_network_reports_and_does_not_mutate():
    net = pd.DataFrame({"source": ["a", "a", "a", "x", "b"], "target": ["b", "b", "a", "b", "c"],
                        "weight": [1.0, 2.0, 1.0, 1.0, 1.0]})
    before = net.copy()
    with pytest.warns(InputWarning):
        out = align_network(net, ["a", "b", "c"])
    pd.testing.assert_frame_equal(net, before)
    assert set(zip(out.source, out.target, strict=True)) == {("a", "b"), ("b", "c")}
    assert out.loc[out.source == "a", "weight"].iloc[0] == 2.0  # duplicates keep the largest
    with pytest.raises(InputError, match="none remain"):
        align_network(net, ["q"])
    with pytest.raises(InputError, match="lacks column"):
        align_network(pd.DataFrame({"from": ["a"], "to": ["b"]}), ["a", "b"])


def test_tfs_and_gene_order_checks():
    assert check_tfs(["b", "a"], ["a", "b", "c"]) == ["a", "b"]
    with pytest.raises(InputError, match="none of the"):
        check_tfs(["X"], ["a", "b"])
    with pytest.raises(InputError, match="another order"):
        check_same_genes(["a", "b"], ["b", "a"])
    with pytest.raises(InputError, match="missing"):
        check_same_genes(["a", "b"], ["a", "c"])
    check_same_genes(["a", "b"], ["a", "b"])
    with pytest.raises(InputError, match="sum"):
        check_fractions((0.5, 0.6))
