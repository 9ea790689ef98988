"""tl.impute writes a log-normalised imputed layer and its parameters."""

from __future__ import annotations

import numpy as np
import pytest

import gnngeno as gg


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread: faster on a small, shared machine; restored afterwards."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)



def test_impute_writes_layer(sim):
    adata, _ = sim
    before = adata.layers["counts"].copy()
    out = gg.tl.impute(adata, layer="counts", transformer="sklearn", max_epochs=2, copy=True,
                       model_kwargs={"n_hidden": 32, "n_latent": 8})
    assert "gnngeno_imputed" not in adata.layers  # copy=True leaves the input alone
    assert (adata.layers["counts"] != before).nnz == 0
    imp = out.layers["gnngeno_imputed"]
    assert imp.shape == adata.shape and imp.dtype == np.float32 and (imp >= 0).all()
    np.testing.assert_allclose(np.expm1(imp.astype(np.float64)).sum(1), 1e4, rtol=1e-3)
    params = out.uns["gnngeno_imputed"]["params"]
    assert params["layer"] == "counts" and params["likelihood"] == "zinb"
    assert len(out.uns["gnngeno_imputed"]["history"]["loss"]) == 2


def test_impute_in_place_key_added(sim):
    adata, _ = sim
    assert gg.tl.impute(adata, key_added="imp", likelihood="gaussian", transformer="sklearn",
                        max_epochs=1, model_kwargs={"n_hidden": 16, "n_latent": 4}) is None
    assert adata.layers["imp"].shape == adata.shape


def test_impute_refuses_empty_cell(sim):
    adata, _ = sim
    a = adata.copy()
    X = a.layers["counts"].toarray()
    X[5] = 0
    a.layers["counts"] = X
    with pytest.raises(gg.InputError, match="no counts"):
        gg.tl.impute(a, transformer="sklearn", max_epochs=1)
