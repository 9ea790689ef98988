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


def test_impute_returns_the_model_and_accepts_old_names(sim):
    adata, _ = sim
    out = gg.tl.impute(adata, transformer="sklearn", max_epochs=1, copy=True, return_model=True,
                       model_kwargs={"n_hidden": 16, "n_latent": 4})
    result, model = out
    assert isinstance(model, gg.models.GraphImputer) and model.is_trained_
    np.testing.assert_array_equal(result.layers["gnngeno_imputed"], model.get_imputed())
    a = adata.copy()
    assert gg.tl.impute(a, transformer="sklearn", max_epochs=1, return_model=True,
                        model_kwargs={"n_hidden": 16, "n_latent": 4})[0] is None
    with pytest.warns(DeprecationWarning, match="encoder"):
        gg.tl.impute(a, encoder="gcn", epochs=1, transformer="sklearn",
                     model_kwargs={"n_hidden": 16, "n_latent": 4})
    assert a.uns["gnngeno_imputed"]["params"]["conv"] == "gcn"


def test_impute_meets_log_normalised_data_and_a_stored_graph(sim, caplog):
    import anndata as ad
    import scipy.sparse as sp

    adata, _ = sim
    X = sp.csr_matrix(gg.pp.log_normalize(adata.layers["counts"]), dtype=np.float32)
    a = ad.AnnData(X=X, obs=adata.obs[[]].copy(), var=adata.var[[]].copy())
    gg.gr.cell_graph(a, transformer="sklearn", seed=0)  # log-normalised X: no normalisation
    with caplog.at_level("INFO", logger="gnngeno"):
        gg.tl.impute(a, max_epochs=2, dtype="float16",
                     model_kwargs={"n_hidden": 16, "n_latent": 4})
    assert "adata.obsp['gnngeno_cell_connectivities']" in caplog.text  # reused
    imp = a.layers["gnngeno_imputed"]
    assert imp.dtype == np.float16 and imp.shape == a.shape
    D = X.toarray()
    np.testing.assert_array_equal(imp[D != 0], D[D != 0].astype(np.float16))
    params = a.uns["gnngeno_imputed"]["params"]
    assert params["layer"] is None and params["likelihood"] == "gaussian"
    assert params["input_scale"] == "log" and "target_sum" not in params
