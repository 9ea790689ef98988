"""Graph builders: shape, sparsity, symmetry where promised, recorded parameters, conversions."""

from __future__ import annotations

import anndata as ad
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import gnngeno as gg
from gnngeno import InputError, InputWarning


@pytest.fixture(scope="module")
def small():
    adata, net = gg.datasets.simulate(n_cells=150, n_genes=40, n_tfs=6, seed=1)
    return adata, net


def test_cell_graph_shape_symmetry_and_params(small):
    adata = small[0].copy()
    X_before = adata.X.copy()
    gg.gr.cell_graph(adata, n_neighbors=10, n_pcs=10, transformer="sklearn")
    C = adata.obsp["gnngeno_cell_connectivities"]
    D = adata.obsp["gnngeno_cell_distances"]
    assert sp.issparse(C) and C.shape == (150, 150)
    assert abs(C - C.T).max() < 1e-6  # UMAP connectivities are symmetric
    assert C.diagonal().sum() == 0
    # each cell has n_neighbors - 1 distance entries (itself excluded), sparse overall
    assert np.all(np.diff(D.indptr) == 9)
    assert C.nnz < 0.3 * 150 * 150
    params = adata.uns["gnngeno_cell"]["params"]
    assert params["n_neighbors"] == 10 and params["n_pcs"] == 10 and params["normalize"] is True
    assert adata.obsm["gnngeno_cell_pca"].shape == (150, 10)
    assert (adata.X != X_before).nnz == 0  # the caller's counts are untouched


def test_cell_graph_copy_and_use_rep(small):
    adata = small[0].copy()
    adata.obsm["X_custom"] = np.random.default_rng(0).normal(size=(adata.n_obs, 5))
    out = gg.gr.cell_graph(adata, n_neighbors=5, use_rep="X_custom", transformer="sklearn",
                           key_added="custom", copy=True)
    assert "custom_connectivities" in out.obsp and "custom_connectivities" not in adata.obsp
    assert out.uns["custom"]["params"]["use_rep"] == "X_custom"


def test_cell_graph_errors(small):
    adata = small[0]
    with pytest.raises(InputError, match="use_rep"):
        gg.gr.cell_graph(adata, use_rep="missing")
    with pytest.raises(InputError, match="n_neighbors"):
        gg.gr.cell_graph(adata[:5].copy(), n_neighbors=10)


def test_gene_graph_topk_symmetric(small):
    adata = small[0].copy()
    gg.gr.gene_graph(adata, k=3)
    A = adata.varp["gnngeno_coexpression"]
    assert A.shape == (40, 40) and sp.issparse(A)
    assert abs(A - A.T).max() < 1e-6
    assert A.diagonal().sum() == 0
    # every gene keeps at least its own top 3 partners
    assert np.all(np.diff(A.tocsr().indptr) >= 3)
    assert adata.uns["gnngeno_coexpression"]["params"]["k"] == 3
    assert np.all(np.abs(A.data) <= 1 + 1e-6)


def test_gene_graph_matches_numpy_pearson():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)).astype(np.float32)
    X[:, 1] = X[:, 0] * 2 + 0.01 * rng.normal(size=50)  # genes 0 and 1 correlate
    adata = ad.AnnData(X=X)
    gg.gr.gene_graph(adata, k=1, normalize=False)
    A = adata.varp["gnngeno_coexpression"].toarray()
    ref = np.corrcoef(X.T)
    assert A[0, 1] == pytest.approx(ref[0, 1], abs=1e-5)
    assert A[0, 1] > 0.99


def test_gene_graph_threshold_and_tfs(small):
    adata = small[0].copy()
    tfs = list(adata.var_names[:6])
    gg.gr.gene_graph(adata, k=4, tfs=tfs, key_added="tf_graph")
    A = adata.varp["tf_graph"].tocsr()
    rows_with_edges = np.flatnonzero(np.diff(A.indptr))
    assert set(rows_with_edges) <= set(range(6))  # only TF rows hold edges
    assert np.all(np.diff(A.indptr)[:6] == 4)
    gg.gr.gene_graph(adata, k=None, threshold=0.99, key_added="strict")
    assert adata.varp["strict"].nnz <= A.nnz
    with pytest.raises(InputError, match="give k"):
        gg.gr.gene_graph(adata, k=None, threshold=None)


def test_gene_graph_spearman(small):
    adata = small[0].copy()
    gg.gr.gene_graph(adata, method="spearman", k=2)
    assert adata.uns["gnngeno_coexpression"]["params"]["method"] == "spearman"
    with pytest.raises(InputError, match="method"):
        gg.gr.gene_graph(adata, method="kendall")


def test_prior_grn_reports_missing_genes(small):
    adata, net = small
    adata = adata.copy()
    extra = pd.DataFrame({"source": ["NOT_A_GENE", net.source[0]],
                          "target": [net.target[0], "ALSO_MISSING"], "weight": [1.0, 1.0]})
    with pytest.warns(InputWarning, match="2 of"):
        gg.gr.prior_grn(adata, pd.concat([net, extra], ignore_index=True))
    info = adata.uns["gnngeno_prior"]
    assert info["n_edges_missing"] == 2 and info["n_edges"] == len(net)
    A = adata.varp["gnngeno_prior"]
    i, j = adata.var_names.get_loc(net.source[0]), adata.var_names.get_loc(net.target[0])
    assert A[i, j] == pytest.approx(net.weight[0])
    with pytest.raises(InputError, match="none remain"):
        gg.gr.prior_grn(adata, pd.DataFrame({"source": ["x"], "target": ["y"]}))


def _four_node_adata():
    adata = ad.AnnData(X=np.arange(12, dtype=np.float32).reshape(3, 4),
                       var=pd.DataFrame(index=["a", "b", "c", "d"]))
    net = pd.DataFrame({"source": ["a", "a", "b"], "target": ["b", "c", "d"],
                        "weight": [1.0, 2.0, 3.0]})
    gg.gr.prior_grn(adata, net)
    return adata, net


def test_to_pyg_and_networkx_on_hand_written_graph():
    adata, net = _four_node_adata()
    data = gg.gr.to_pyg(adata, "prior", features="X")
    assert data.num_nodes == 4 and data.x.shape == (4, 3)  # genes get their profiles
    pairs = {(int(s), int(t)) for s, t in data.edge_index.T}
    assert pairs == {(0, 1), (0, 2), (1, 3)}
    assert sorted(data.edge_weight.tolist()) == [1.0, 2.0, 3.0]
    G = gg.gr.to_networkx(adata, "prior")
    assert isinstance(G, nx.DiGraph)
    assert G["a"]["c"]["weight"] == 2.0 and not G.has_edge("c", "a")
    A, nodes = gg.gr.from_networkx(G, genes=["a", "b", "c", "d"])
    assert nodes == ["a", "b", "c", "d"]
    assert (A != adata.varp["gnngeno_prior"]).nnz == 0
    back = gg.gr.adjacency_to_network(A, nodes)
    assert list(back.source) == ["b", "a", "a"]  # sorted by |weight|


def test_to_pyg_unknown_graph():
    adata, _ = _four_node_adata()
    with pytest.raises(InputError, match="no graph"):
        gg.gr.to_pyg(adata, "cell")
