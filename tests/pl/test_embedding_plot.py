from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from gnngeno import InputError
from gnngeno import pl


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


def test_embedding_umap_does_not_touch_adata(adata):
    ax = pl.embedding(adata, color="cell_type", umap=True, n_neighbors=5, show=False)
    assert ax.collections[0].get_offsets().shape == (adata.n_obs, 2)
    assert "X_umap" not in adata.obsm and "neighbors" not in adata.uns
    assert "UMAP" in ax.get_xlabel()


def test_embedding_errors(adata):
    with pytest.raises(InputError, match="not in adata.obsm"):
        pl.embedding(adata, basis="X_missing", show=False)
    with pytest.raises(InputError, match="axes"):
        import matplotlib.pyplot as plt

        pl.embedding(adata, color=["cell_type", "g0"], ax=plt.subplots()[1])
