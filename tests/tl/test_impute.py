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
    # default: observed counts keep their log-normalised value, zeros are filled
    X = before.toarray()
    observed = X > 0
    lognorm = np.log1p(X / X.sum(1, keepdims=True) * 1e4)
    np.testing.assert_allclose(imp[observed], lognorm[observed], rtol=1e-5, atol=1e-6)
    assert (imp[~observed] > 0).all()
    params = out.uns["gnngeno_imputed"]["params"]
    assert params["layer"] == "counts" and params["likelihood"] == "zinb"
    assert params["keep_observed"] is True
    assert len(out.uns["gnngeno_imputed"]["history"]["loss"]) == 2
    # keep_observed=False: the model's prediction everywhere (expm1 sums to 1e4 per cell)
    den = gg.tl.impute(adata, layer="counts", transformer="sklearn", max_epochs=2, copy=True,
                       keep_observed=False, model_kwargs={"n_hidden": 32, "n_latent": 8})
    den = den.layers["gnngeno_imputed"]
    np.testing.assert_allclose(np.expm1(den.astype(np.float64)).sum(1), 1e4, rtol=1e-3)
    np.testing.assert_array_equal(den[~observed], imp[~observed])  # same seed, same model


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
