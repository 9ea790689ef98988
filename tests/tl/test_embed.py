"""tl.embed writes embeddings of cells into .obsm and of genes into .varm."""

from __future__ import annotations

import numpy as np
import pytest

import gnngeno as gg
from gnngeno import InputError


@pytest.fixture()
def adata():
    a, _ = gg.datasets.simulate(n_cells=100, n_genes=30, n_tfs=4, n_cell_types=3, seed=2)
    return a


def test_embed_cells_into_obsm(adata):
    X_before = adata.X.copy()
    out, model = gg.tl.embed(adata, layer="counts", n_latent=4, max_epochs=2, seed=0,
                             model_kwargs={"n_hidden": 16}, return_model=True)
    assert out is None
    Z = adata.obsm["X_gnngeno"]
    assert Z.shape == (100, 4) and np.isfinite(Z).all()
    np.testing.assert_array_equal(Z, model.get_latent())
    params = adata.uns["gnngeno"]["params"]
    assert params["kind"] == "vae" and params["likelihood"] == "nb" and params["n_latent"] == 4
    assert len(adata.uns["gnngeno"]["history"]["loss"]) == 2
    assert (adata.X != X_before).nnz == 0  # input untouched


def test_embed_copy_and_key_added(adata):
    new, model = gg.tl.embed(adata, kind="ae", layer="counts", n_latent=3, max_epochs=1,
                             copy=True, key_added="X_ae", model_kwargs={"n_hidden": 16},
                             return_model=True)
    assert "X_ae" in new.obsm and "X_ae" not in adata.obsm and "ae" in new.uns
    np.testing.assert_array_equal(new.obsm["X_ae"], model.get_latent())


def test_embed_genes_into_varm_with_hvg_mask(adata):
    adata.var["highly_variable"] = np.arange(adata.n_vars) < 20
    gg.tl.embed(adata, kind="gae", graph="gene", layer="counts", n_latent=3, max_epochs=2,
                model_kwargs={"n_neighbors": 4, "n_hidden": 8})
    Z = adata.varm["gnngeno_embedding"]
    assert Z.shape == (30, 3)
    assert np.isfinite(Z[:20]).all() and np.isnan(Z[20:]).all()
    assert adata.uns["gnngeno_embedding"]["params"]["axis"] == "var"


def test_embed_errors(adata):
    with pytest.raises(InputError, match="highly_variable"):
        gg.tl.embed(adata, use_highly_variable=True)
    with pytest.raises(InputError, match="layer"):
        gg.tl.embed(adata, layer="raw")


def test_embed_rare_options_travel_grouped(adata):
    gg.tl.embed(adata, kind="vae", layer="counts", n_latent=3, max_epochs=3, seed=0,
                model_kwargs={"n_hidden": 8, "n_layers": 2},
                train_kwargs={"validation_fraction": 0.0, "lr": 5e-3, "l2": 1e-3})
    uns = adata.uns["gnngeno"]
    assert "val_loss" not in uns["history"] and len(uns["history"]["loss"]) == 3
    assert (uns["history"]["penalty"] > 0).all()
    p = uns["params"]
    assert p["n_layers"] == 2 and p["lr"] == 5e-3 and p["l2"] == 1e-3
    assert p["validation_fraction"] == 0.0


def test_embed_old_flat_options_still_work_with_a_warning(adata):
    a, b = adata.copy(), adata.copy()
    with pytest.warns(DeprecationWarning, match="model_kwargs=.*'n_hidden'.*train_kwargs=.*'lr'"):
        gg.tl.embed(a, kind="ae", layer="counts", n_latent=3, max_epochs=2, seed=0,
                    n_hidden=8, lr=5e-3)
    gg.tl.embed(b, kind="ae", layer="counts", n_latent=3, max_epochs=2, seed=0,
                model_kwargs={"n_hidden": 8}, train_kwargs={"lr": 5e-3})
    np.testing.assert_array_equal(a.obsm["X_gnngeno"], b.obsm["X_gnngeno"])
    with pytest.raises(TypeError, match="pass it once"):
        gg.tl.embed(adata, n_hidden=8, model_kwargs={"n_hidden": 16})
