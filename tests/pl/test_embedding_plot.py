from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from gnngeno import InputError, pl


@pytest.fixture()
def adata():
    rng = np.random.default_rng(0)
    n = 60
    labels = np.repeat(["a", "b", "c"], n // 3)
    Z = rng.normal(size=(n, 5)) + (np.arange(n) // (n // 3))[:, None] * 3.0
    a = ad.AnnData(rng.poisson(1.0, size=(n, 4)).astype(np.float32),
                   obs=pd.DataFrame({"cell_type": pd.Categorical(labels)},
                                    index=[f"c{i}" for i in range(n)]),
                   var=pd.DataFrame({"module": ["x", "x", "y", "y"]},
                                    index=[f"g{i}" for i in range(4)]))
    a.obsm["X_gnngeno"] = Z.astype(np.float32)
    a.varm["gnngeno_embedding"] = rng.normal(size=(4, 3)).astype(np.float32)
    return a


def test_embedding_colours_by_key_and_saves(adata, tmp_path):
    before = set(adata.uns)
    out = tmp_path / "emb.png"
    ax = pl.embedding(adata, color="cell_type", save=out)
    coll = ax.collections[0]
    assert coll.get_offsets().shape == (adata.n_obs, 2)
    assert len(np.unique(coll.get_facecolors(), axis=0)) == 3
    assert np.allclose(np.sort(coll.get_offsets()[:, 0]),
                       np.sort(adata.obsm["X_gnngeno"][:, 0]))
    assert out.exists()
    assert set(adata.uns) == before  # the caller's AnnData is not changed


def test_embedding_several_colours_and_genes(adata):
    axes = pl.embedding(adata, basis="gnngeno", color=["cell_type", "g0"], show=False)
    assert len(axes) == 2 and axes[1].get_title().startswith("g0")


def test_embedding_gene_axis(adata):
    ax = pl.embedding(adata, basis="gnngeno_embedding", color="module", show=False)
    assert ax.collections[0].get_offsets().shape == (adata.n_vars, 2)


def test_embedding_umap_does_not_touch_adata(adata, monkeypatch):
    import scanpy as sc

    calls = {}

    # scanpy's neighbors/UMAP compile numba code for ~1 min on first use: stub them, checking
    # what pl.embedding asks of them.
    def fake_neighbors(tmp, use_rep=None, n_neighbors=15, random_state=0, **kw):
        calls["neighbors"] = (use_rep, n_neighbors, tmp.n_obs)
        tmp.uns["neighbors"] = {}

    def fake_umap(tmp, random_state=0, **kw):
        calls["umap"] = random_state
        tmp.obsm["X_umap"] = tmp.obsm["X_gnngeno"][:, :2] * -1.0

    monkeypatch.setattr(sc.pp, "neighbors", fake_neighbors)
    monkeypatch.setattr(sc.tl, "umap", fake_umap)
    ax = pl.embedding(adata, color="cell_type", umap=True, n_neighbors=5, seed=3, show=False)
    assert calls == {"neighbors": ("X_gnngeno", 5, adata.n_obs), "umap": 3}
    assert np.allclose(np.sort(ax.collections[0].get_offsets()[:, 0]),
                       np.sort(-adata.obsm["X_gnngeno"][:, 0]))
    assert "X_umap" not in adata.obsm and "neighbors" not in adata.uns
    assert "UMAP" in ax.get_xlabel()


def test_embedding_errors(adata):
    with pytest.raises(InputError, match="not in adata.obsm"):
        pl.embedding(adata, basis="X_missing", show=False)
    with pytest.raises(InputError, match="axes"):
        import matplotlib.pyplot as plt

        pl.embedding(adata, color=["cell_type", "g0"], ax=plt.subplots()[1])
