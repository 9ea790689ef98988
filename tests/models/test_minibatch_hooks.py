"""Scale hooks of the models: cluster mini-batches, sparse inputs, streamed outputs."""

from __future__ import annotations

import anndata as ad
import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import kneighbors_graph

import gnngeno as gg


def _data(n=150, g=25):
    adata, _ = gg.datasets.simulate(n_cells=n, n_genes=g, n_tfs=3, seed=0)
    X = adata.X.toarray() if sp.issparse(adata.X) else np.asarray(adata.X)
    adata.X = sp.csr_matrix(X)
    adata.obsp["knn_connectivities"] = kneighbors_graph(np.log1p(X), 6).tocsr()
    return adata


def test_imputer_cluster_batches_and_streamed_output(tmp_path):
    adata = _data()
    model = gg.models.GraphImputer(adata, layer=None, graph_key="knn", n_hidden=16,
                                   n_latent=4, seed=0)
    model.train(max_epochs=3, batch_size=40, batch_sampling="cluster", patience=None,
                device="cpu")
    h = model.history
    assert len(h) == 3 and np.isfinite(h["loss"]).all()
    assert model.train_params_["batch_sampling"] == "cluster"
    full = model.get_imputed(batch_size=64)
    p = tmp_path / "a.h5ad"
    ad.AnnData(X=adata.X).write_h5ad(p)
    with gg.io.ChunkWriter(p, "imputed", adata.n_vars) as w:
        assert model.get_imputed(out=w, batch_size=64) is w
    np.testing.assert_allclose(ad.read_h5ad(p).layers["imputed"], full, rtol=1e-5, atol=1e-5)


def test_imputer_defaults_scale_with_cells(monkeypatch):
    GraphImputer = gg.models.GraphImputer
    # epoch cap: ~2e5 cell visits on small data, 40 epochs up to 1e5 cells, ~4e6 visits above
    sizes = (1000, 4271, 10_000, 100_000, 10**6, 10**7)
    assert [GraphImputer.default_max_epochs(n) for n in sizes] == [200, 47, 40, 40, 4, 4]
    adata = _data()
    model = GraphImputer(adata, layer=None, graph_key="knn", n_hidden=16, n_latent=4, seed=0)
    model.train(max_epochs=1, batch_size=40, patience=None, device="cpu")
    assert model.train_params_["batch_sampling"] == "random"  # auto, small data
    monkeypatch.setattr(GraphImputer, "auto_cluster_cells", 100)  # pretend 150 cells is large
    model.train(max_epochs=1, batch_size=40, patience=None, device="cpu")
    assert model.train_params_["batch_sampling"] == "cluster"


def test_embedder_keeps_sparse_input_sparse():
    adata = _data()
    dense = adata.copy()
    dense.X = adata.X.toarray()
    zs = []
    for a in (adata, dense):
        m = gg.models.Embedder(a, kind="vae", n_latent=3, n_hidden=16, seed=0, device="cpu")
        m.train(max_epochs=2, batch_size=32)
        zs.append(m.get_latent(batch_size=50))
    np.testing.assert_allclose(zs[0], zs[1], rtol=1e-4, atol=1e-5)
