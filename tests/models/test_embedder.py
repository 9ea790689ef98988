"""Embedder: latent shapes and finiteness, known groups separate, seeded runs repeat,
save/load, gene-order checks and input errors."""

from __future__ import annotations

import numpy as np
import pytest

from gnngeno import InputError
from gnngeno.datasets import simulate
from gnngeno.metrics import kmeans_scores
from gnngeno.models import Embedder


@pytest.fixture(scope="module")
def small():
    adata, _ = simulate(n_cells=120, n_genes=40, n_tfs=5, n_cell_types=3, seed=1)
    return adata


@pytest.mark.parametrize("kind,kw", [
    ("vae", {}), ("ae", {}), ("vae", {"likelihood": "zinb"}),
    ("ae", {"likelihood": "gaussian", "activation": "tanh", "l1": 1e-4, "l2": 1e-4}),
    ("gae", {}), ("vgae", {"conv": "gat", "heads": 2}), ("gae", {"feature_likelihood": None}),
    ("gae", {"conv": "gcn"}), ("gae", {"conv": "sgc", "hops": 3}), ("vgae", {"conv": "sgc"}),
    ("gae", {"conv": "sgc", "hops": 0}), ("gae", {"feature_likelihood": "gaussian"}),
    ("vae", {"hops": 2}),
    ("ae", {"hops": 1, "likelihood": "gaussian"}),
])
def test_latent_shape_and_finite(small, kind, kw):
    model = Embedder(small, kind, layer="counts", n_latent=4, n_hidden=16, n_pcs=10,
                     n_neighbors=5, seed=0, **kw)
    # mini-batches for the autoencoders and the "sgc" graph kinds, full graph for GCN/GAT
    model.train(max_epochs=3, batch_size=None if kw.get("conv") in ("gcn", "gat") else 32)
    z = model.get_latent()
    assert z.shape == (small.n_obs, 4) and z.dtype == np.float32
    assert np.isfinite(z).all()
    assert z.std(0).max() > 0  # not collapsed to a constant
    h = model.history
    assert len(h) == 3 and {"loss", "val_loss"} <= set(h.columns)
    assert np.isfinite(h["loss"]).all()


def test_gene_graph_embeds_genes(small):
    model = Embedder(small, "vgae", graph="gene", layer="counts", n_latent=3, n_hidden=8,
                     n_neighbors=4, seed=0).train(max_epochs=3)
    assert model.axis == "var"
    z = model.get_latent()
    assert z.shape == (small.n_vars, 3) and np.isfinite(z).all()


def test_simulated_groups_separate():
    adata, _ = simulate(n_cells=400, n_genes=120, n_tfs=10, n_cell_types=4, seed=0)
    model = Embedder(adata, "vae", layer="counts", n_latent=5, n_hidden=32, seed=0)
    model.train(max_epochs=50, batch_size=64)
    z = model.get_latent()
    ari = kmeans_scores(z, adata.obs["cell_type"], seed=0)["ari"]
    assert ari > 0.8, ari
    # and it is not the trivial result: shuffled labels do not agree
    rng = np.random.default_rng(0)
    assert kmeans_scores(z, rng.permutation(adata.obs["cell_type"].to_numpy()), seed=0)["ari"] < 0.1


@pytest.mark.parametrize("kind,kw", [("vae", {}), ("ae", {"input_noise": 0.5}),
                                     ("gae", {"conv": "gcn"}),
                                     ("gae", {"conv": "sgc"}), ("vgae", {"conv": "sgc"})])
def test_seeded_runs_repeat(small, kind, kw):
    def run(seed):
        m = Embedder(small, kind, layer="counts", n_latent=3, n_hidden=16, n_pcs=10,
                     n_neighbors=5, seed=seed, **kw)
        return m.train(max_epochs=3, batch_size=None if kw.get("conv") == "gcn" else 32
                       ).get_latent()

    a, b, c = run(0), run(0), run(1)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_early_stopping_and_no_validation(small):
    m = Embedder(small, "ae", layer="counts", n_latent=3, n_hidden=16, seed=0)
    m.train(max_epochs=200, patience=2, lr=0.05)
    assert m.history_.stopped_early and len(m.history) < 200
    m2 = Embedder(small, "ae", layer="counts", n_latent=3, n_hidden=16, seed=0)
    m2.train(max_epochs=2, validation_fraction=0.0)
    assert "val_loss" not in m2.history.columns and len(m2.history) == 2


def test_vae_smoothed_input_is_propagated_log_normalised_counts(small):
    from gnngeno.nn._graph_autoencoders import gcn_adjacency

    m = Embedder(small, "vae", layer="counts", hops=2, n_latent=3, n_hidden=16, n_pcs=10,
                 n_neighbors=5, seed=0)
    assert m.hops == 2 and Embedder(small, "vae", layer="counts", n_hidden=8).hops == 0
    X = small.layers["counts"].toarray().astype(np.float32)
    lognorm = np.log1p(X * (1e4 / X.sum(1, keepdims=True)))
    A = gcn_adjacency(m._edge_index, m._edge_weight, small.n_obs).to_dense().numpy()
    np.testing.assert_allclose(m._encoder_input.numpy(), A @ (A @ lognorm), rtol=1e-4, atol=1e-4)
    # the smoothing changes the embedding (the encoder reads it), and new cells get one too
    m.train(max_epochs=2, batch_size=32)
    z = m.get_latent()
    m0 = Embedder(small, "vae", layer="counts", hops=0, n_latent=3, n_hidden=16, seed=0)
    assert not np.allclose(z, m0.train(max_epochs=2, batch_size=32).get_latent())
    z_new = m.get_latent(small[:40].copy())
    assert z_new.shape == (40, 3) and np.isfinite(z_new).all()
    with pytest.raises(InputError, match="hops"):
        Embedder(small, "vae", layer="counts", hops=-1)


def test_sgc_graph_autoencoder_separates_simulated_groups():
    adata, _ = simulate(n_cells=400, n_genes=120, n_tfs=10, n_cell_types=4, seed=0)
    model = Embedder(adata, "gae", conv="sgc", hops=2, layer="counts", n_latent=5,
                     n_hidden=32, n_pcs=20, seed=0)
    model.train(max_epochs=60)
    z = model.get_latent()
    assert z.shape == (400, 5) and np.isfinite(z).all()
    labels = adata.obs["cell_type"].to_numpy()
    assert kmeans_scores(z, labels, seed=0)["ari"] > 0.8
    rng = np.random.default_rng(0)
    assert kmeans_scores(z, rng.permutation(labels), seed=0)["ari"] < 0.1


def test_sgc_graph_autoencoder_mini_batches_separate_simulated_groups():
    adata, _ = simulate(n_cells=400, n_genes=120, n_tfs=10, n_cell_types=4, seed=0)
    model = Embedder(adata, "gae", layer="counts", n_latent=5, n_hidden=32, n_pcs=20, seed=0)
    model.train(max_epochs=30, batch_size=64)
    assert model.train_params_["batch_size"] == 64 and model.train_params_["lr"] == 1e-3
    z = model.get_latent()
    labels = adata.obs["cell_type"].to_numpy()
    assert kmeans_scores(z, labels, seed=0)["ari"] > 0.8
    rng = np.random.default_rng(0)
    assert kmeans_scores(z, rng.permutation(labels), seed=0)["ari"] < 0.1


def test_graph_kinds_choose_mini_batches_by_encoder(small):
    import gnngeno.models._embedder as E

    kw = dict(layer="counts", n_latent=3, n_hidden=8, n_pcs=10, n_neighbors=5, seed=0)
    m = Embedder(small, "vgae", **kw).train(max_epochs=2)
    assert m.train_params_["batch_size"] == E.DEFAULT_BATCH_SIZE
    assert m.train_params_["lr"] == 1e-3 and np.isfinite(m.get_latent()).all()
    # GCN/GAT encoders pass messages over the whole graph: full-graph steps
    m = Embedder(small, "gae", conv="gcn", **kw).train(max_epochs=2)
    assert m.train_params_["batch_size"] is None and m.train_params_["lr"] == 1e-2
    with pytest.raises(InputError, match="conv='sgc'"):
        Embedder(small, "gae", conv="gat", heads=2, **kw).train(max_epochs=1, batch_size=32)
    assert E.default_max_epochs(120, full_graph=True) == 300
    assert E.default_max_epochs(120) == 400 and E.default_max_epochs(10**6) == 20


def test_full_graph_steps_sample_nodes_and_edges_above_the_caps(small, monkeypatch):
    import gnngeno.models._embedder as E

    monkeypatch.setattr(E, "MAX_NODES_PER_STEP", 10)
    monkeypatch.setattr(E, "MAX_EDGES_PER_STEP", 20)
    m = Embedder(small, "gae", conv="gcn", layer="counts", n_latent=3, n_hidden=8, n_pcs=10,
                 n_neighbors=5, seed=0)
    seen = []
    loss = m.module.loss

    def recording(x, edge_index, pos, **kw):
        seen.append((pos.shape[1], len(kw["nodes"]), kw["target"].shape))
        return loss(x, edge_index, pos, **kw)

    m.module.loss = recording
    m.train(max_epochs=2)
    assert seen == [(20, 10, (10, small.n_vars))] * 2
    assert m._edge_index.shape[1] > 20  # so the cap did sample


def test_sparse_counts_stay_sparse_and_match_dense_input(small):
    import scipy.sparse as sp

    dense = small.copy()
    dense.layers["counts"] = dense.layers["counts"].toarray()
    kw = dict(layer="counts", n_latent=3, n_hidden=8, n_pcs=10, n_neighbors=5, seed=0)
    ms, md = Embedder(small, "gae", **kw), Embedder(dense, "gae", **kw)
    assert sp.issparse(ms._target) and sp.issparse(md._target)  # targets densified per batch
    zs = ms.train(max_epochs=3, batch_size=32).get_latent()
    np.testing.assert_allclose(zs, md.train(max_epochs=3, batch_size=32).get_latent(),
                               atol=1e-5)
    # the SGC encoder's layers give the same latent in chunks of any size
    np.testing.assert_allclose(ms.get_latent(batch_size=7), zs, atol=1e-5)


@pytest.mark.parametrize("kind", ["vae", "gae"])
def test_save_load_roundtrip(small, kind, tmp_path):
    m = Embedder(small, kind, layer="counts", n_latent=3, n_hidden=16, n_pcs=10, n_neighbors=5,
                 seed=0).train(max_epochs=2, batch_size=32)
    m.save(tmp_path / "emb")
    m2 = Embedder.load(tmp_path / "emb", small)
    assert m2.is_trained_ and len(m2.history) == 2
    np.testing.assert_allclose(m2.get_latent(), m.get_latent(), atol=1e-5)
    # new data with the same genes in the same order can be embedded
    z_new = m.get_latent(small[:50].copy())
    assert z_new.shape == (50, 3) and np.isfinite(z_new).all()
    if kind == "vae":  # cells are embedded one by one (graph kinds rebuild the graph on them)
        np.testing.assert_allclose(z_new, m.get_latent()[:50], atol=1e-5)


def test_other_genes_are_refused(small, tmp_path):
    m = Embedder(small, "vae", layer="counts", n_latent=3, n_hidden=16, seed=0)
    m.train(max_epochs=1)
    with pytest.raises(InputError, match="another order"):
        m.get_latent(small[:, ::-1].copy())
    m.save(tmp_path / "emb")
    with pytest.raises(InputError, match="missing"):
        Embedder.load(tmp_path / "emb", small[:, :30].copy())


def test_input_errors(small):
    with pytest.raises(InputError, match="kind"):
        Embedder(small, "pca")
    lognorm = small.copy()
    lognorm.X = np.log1p(lognorm.X.toarray()) + 0.1
    with pytest.raises(InputError, match="non-integer"):
        Embedder(lognorm, "vae", likelihood="nb")
    # auto picks the Gaussian likelihood for log-normalised values
    assert Embedder(lognorm, "vae", n_hidden=8).likelihood == "gaussian"
    with pytest.raises(RuntimeError, match="not trained"):
        Embedder(small, "vae", layer="counts").get_latent()
    with pytest.raises(InputError, match="validation_fraction"):
        Embedder(small, "vae", layer="counts").train(validation_fraction=1.5)
    with pytest.raises(InputError, match="input_noise must be >= 0"):
        Embedder(small, "ae", layer="counts", input_noise=-1.0)
    with pytest.raises(InputError, match="kind='vae'/'ae'"):
        Embedder(small, "gae", layer="counts", input_noise=0.5)
