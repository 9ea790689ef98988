"""Shared input checks, seen through the public entry points that use them: every problem named,
with the fix, and nothing mutated."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import gnngeno as gg
from gnngeno import InputError, InputWarning


def _adata(X, genes=None):
    a = ad.AnnData(X=np.asarray(X, dtype=np.float32))
    if genes is not None:
        a.var_names = genes
    return a


@pytest.mark.parametrize("X, match", [
    ([[1, np.nan], [0, 1]], "NaN"),
    ([[1, np.inf], [0, 1]], "infinite"),
    ([[1, -1], [0, 1]], "negative"),
    ([[1.5, 0], [0, 1]], "non-integer"),
])
@pytest.mark.parametrize("sparse", [False, True])
def test_count_problems_are_named(X, match, sparse):
    M = np.asarray(X, dtype=np.float32)
    M = sp.csr_matrix(M) if sparse else M
    assert not gg.pp.is_counts(M)
    with pytest.raises(InputError, match=match):
        gg.pp.mask_nonzero(ad.AnnData(X=M), layer=None, fraction=0.5)


@pytest.mark.parametrize("X", [
    np.array([[1, 0, 2], [0, 3, 1]]),
    np.array([[1.0, 0.0], [4.0, 2.0]], dtype=np.float32),
    sp.csr_matrix(np.array([[0.0, 7.0], [1.0, 0.0]])),
    np.zeros((0, 3)),
])
def test_is_counts_accepts_whole_non_negative_numbers(X):
    assert gg.pp.is_counts(X)


def test_is_counts_tolerance():
    X = np.array([[1.0 + 1e-8, 2.0]])
    assert gg.pp.is_counts(X)
    assert not gg.pp.is_counts(X, tol=0.0)
    assert not gg.pp.is_counts(np.log1p(np.array([[1.0, 5.0]])))


def test_good_counts_pass_and_are_not_changed():
    a = _adata([[1, 0, 2], [0, 3, 1], [2, 2, 0]])
    before = a.X.copy()
    masked, hidden = gg.pp.mask_nonzero(a, layer=None, fraction=0.3, seed=0)
    np.testing.assert_array_equal(a.X, before)
    assert masked.shape == a.shape and len(hidden) == 2


def test_shape_and_name_problems():
    def check(adata, **kw):
        gg.pp.mask_nonzero(adata, layer=None, fraction=0.5, **kw)

    with pytest.raises(InputError, match="empty"):
        check(ad.AnnData(X=np.zeros((0, 3), dtype=np.float32)))
    with pytest.raises(InputError, match="adata.T"):
        check(_adata([[1, 2, 3]]))
    with pytest.raises(InputError, match="var_names_make_unique"):
        check(_adata([[1, 2], [3, 4]], genes=["g", "g"]))
    with pytest.raises(InputError, match="AnnData"):
        check(np.ones((3, 3)))
    with pytest.raises(InputError, match="no counts"):
        check(_adata([[0, 0], [1, 2]]))
    with pytest.raises(InputError, match="layer 'counts'"):
        gg.pp.mask_nonzero(_adata([[1, 2], [3, 4]]), layer="counts")


def test_transposed_adata_is_refused():
    barcodes = ["AAACCTGAGAAACCAT-1", "AAACCTGAGAAACCGC-1", "AAACCTGAGAAACCTA-1"]
    genes = ["ACTB", "GAPDH", "CD3E", "MS4A1"]
    a = ad.AnnData(X=np.ones((4, 3), dtype=np.float32), obs=pd.DataFrame(index=genes),
                   var=pd.DataFrame(index=barcodes))
    with pytest.raises(InputError, match="looks transposed"):
        gg.pp.mask_nonzero(a, layer=None, fraction=0.5)
    gg.pp.mask_nonzero(a.T.copy(), layer=None, fraction=0.5)  # the fix works


def test_lognormalised_warning():
    with pytest.warns(InputWarning, match="log-normalised"):
        gg.pp.log_normalize(np.array([[0.5, 1.2], [2.3, 0.0]]))


def test_prior_network_is_aligned_reported_and_not_mutated():
    a = _adata(np.ones((3, 3)), genes=["a", "b", "c"])
    net = pd.DataFrame({"source": ["a", "a", "a", "x", "b"], "target": ["b", "b", "a", "b", "c"],
                        "weight": [1.0, 2.0, 1.0, 1.0, 1.0]})
    before = net.copy()
    with pytest.warns(InputWarning):
        gg.gr.prior_grn(a, net)
    pd.testing.assert_frame_equal(net, before)
    out = gg.gr.adjacency_to_network(a.varp["gnngeno_prior"], a.var_names)
    assert set(zip(out.source, out.target, strict=True)) == {("a", "b"), ("b", "c")}
    assert out.loc[out.source == "a", "weight"].iloc[0] == 2.0  # duplicates keep the largest
    with pytest.raises(InputError, match="none remain"):
        gg.gr.prior_grn(a, pd.DataFrame({"source": ["q"], "target": ["r"]}))
    with pytest.raises(InputError, match="lacks column"):
        gg.gr.prior_grn(a, pd.DataFrame({"from": ["a"], "to": ["b"]}))


def test_tf_and_fraction_checks():
    a = _adata(np.ones((2, 3)), genes=["a", "b", "c"])
    gg.pp.mark_tfs(a, ["b", "a"])
    assert a.var["is_tf"].tolist() == [True, True, False]
    with pytest.raises(InputError, match="none of the"):
        gg.pp.mark_tfs(a, ["X"])
    pos = np.array([[0, 1, 0], [1, 2, 2]])
    with pytest.raises(InputError, match="sum"):
        gg.data.split_edges(pos, n_genes=3, tf_index=[0, 1], fractions=(0.5, 0.6))
