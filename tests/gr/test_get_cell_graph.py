"""gr.get_cell_graph: one lookup of the cell graph, stored or built without writing."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import gnngeno as gg


def test_built_graph_leaves_the_anndata_alone_and_returns_its_pca(sim):
    adata = sim[0].copy()
    keys_before = (set(adata.obsp), set(adata.obsm), set(adata.uns))
    A, pca = gg.gr.get_cell_graph(adata, layer="counts", n_neighbors=5, n_pcs=8,
                                  transformer="sklearn", return_pca=True)
    assert (set(adata.obsp), set(adata.obsm), set(adata.uns)) == keys_before
    assert sp.isspmatrix_csr(A) and A.dtype == np.float32 and A.shape == (adata.n_obs,) * 2
    assert pca.shape == (adata.n_obs, 8)
    # the same graph as gr.cell_graph writes
    gg.gr.cell_graph(adata, layer="counts", n_neighbors=5, n_pcs=8, transformer="sklearn",
                     seed=0)
    assert (adata.obsp["gnngeno_cell_connectivities"] != A).nnz == 0
    np.testing.assert_array_equal(adata.obsm["gnngeno_cell_pca"], pca)


def test_stored_graph_by_key_raw_name_or_auto(sim):
    adata = sim[0].copy()
    ring = sp.csr_matrix((np.ones(adata.n_obs), (np.arange(adata.n_obs),
                                                 (np.arange(adata.n_obs) + 1) % adata.n_obs)),
                         shape=(adata.n_obs, adata.n_obs))
    adata.obsp["connectivities"] = ring
    assert (gg.gr.get_cell_graph(adata, graph_key="connectivities") != ring).nnz == 0
    assert (gg.gr.get_cell_graph(adata, graph_key="auto") != ring).nnz == 0
    adata.obsp["mine_connectivities"] = ring.T.tocsr()
    got, pca = gg.gr.get_cell_graph(adata, graph_key="mine", return_pca=True)
    assert (got != ring.T).nnz == 0 and pca is None
    with pytest.raises(gg.InputError, match="graph_key='missing'.*present"):
        gg.gr.get_cell_graph(adata, graph_key="missing")
