"""The cell graph of an .h5ad file built without loading its expression matrix."""

from __future__ import annotations

import anndata as ad

import gnngeno as gg
from gnngeno.gr import backed_cell_graph


def test_backed_cell_graph_writes_graph(h5ad):
    p, a = h5ad
    out = backed_cell_graph(p, n_neighbors=10, n_pcs=5, transformer="sklearn", write=True,
                            seed=0)
    C = out.obsp["gnngeno_cell_connectivities"]
    assert C.shape == (a.n_obs, a.n_obs) and (C != C.T).nnz == 0
    assert out.uns["gnngeno_cell"]["params"]["backed"] is True
    assert list(out.obs_names[:2]) == ["c0", "c1"]
    back = ad.read_h5ad(p)
    assert (back.obsp["gnngeno_cell_connectivities"] != C).nnz == 0
    assert back.obsm["gnngeno_cell_pca"].shape == (a.n_obs, 5)
    assert (back.X != a.X).nnz == 0  # the rest of the file is untouched
    # neighbours agree with the in-memory builder on the same PCA: the same edges
    ref = a.copy()
    ref.obsm["rep"] = out.obsm["gnngeno_cell_pca"]
    gg.gr.cell_graph(ref, n_neighbors=10, use_rep="rep", transformer="sklearn", seed=0)
    R = ref.obsp["gnngeno_cell_connectivities"]
    assert ((R > 0).multiply(C > 0)).nnz == (R > 0).nnz
