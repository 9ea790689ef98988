"""Embedder: latent shapes and finiteness, known groups separate, seeded runs repeat,
save/load, gene-order checks and input errors."""

from __future__ import annotations

import warnings

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
    ("ae", {"likelihood": "gaussian", "activation": "tanh"}),
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
    model.train(max_epochs=3, batch_size=None if kw.get("conv") in ("gcn", "gat") else 32,
                l1=1e-4, l2=1e-4)
    z = model.get_latent()
    assert z.shape == (small.n_obs, 4) and z.dtype == np.float32
    assert np.isfinite(z).all()
    assert z.std(0).max() > 0  # not collapsed to a constant
    h = model.history
    assert len(h) == 3 and {"loss", "val_loss", "penalty"} <= set(h.columns)
    assert np.isfinite(h["loss"]).all() and (h["penalty"] > 0).all()
    assert model.train_params_["l1"] == model.train_params_["l2"] == 1e-4


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


def _gcn_normalised(A) -> np.ndarray:
    """``D^-1/2 (A + I) D^-1/2`` (dense), the GCN normalisation written out."""
    A = A.toarray() + np.eye(A.shape[0], dtype=np.float32)
    d = 1.0 / np.sqrt(A.sum(1))
    return (d[:, None] * A * d[None, :]).astype(np.float32)


def test_vae_smoothed_input_is_propagated_log_normalised_counts(small):
    import torch

    m = Embedder(small, "vae", layer="counts", hops=2, n_latent=3, n_hidden=16, n_pcs=10,
                 n_neighbors=5, seed=0)
    assert m.hops == 2 and Embedder(small, "vae", layer="counts", n_hidden=8).hops == 0
    assert Embedder(small, "vae", layer="counts", n_hidden=8).graph_ is None
    A = m.graph_
    assert A.shape == (small.n_obs, small.n_obs) and (A != A.T).nnz == 0
    assert A.diagonal().sum() == 0 and np.isclose(A.max(), 1.0)
    m.train(max_epochs=2, batch_size=32)
    # the encoder reads Â² log1p(normalised counts); the decoder models the counts themselves
    X = small.layers["counts"].toarray().astype(np.float32)
    lognorm = np.log1p(X * (1e4 / X.sum(1, keepdims=True)))
    An = _gcn_normalised(A)
    z_ref = m.module.get_latent(torch.from_numpy(X), torch.from_numpy(X.sum(1)),
                                encoder_input=torch.from_numpy(An @ (An @ lognorm)))
    z = m.get_latent()
    np.testing.assert_allclose(z, z_ref.numpy(), rtol=1e-4, atol=1e-4)
    # the smoothing changes the embedding (the encoder reads it), and new cells get one too
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
    kw = dict(layer="counts", n_latent=3, n_hidden=8, n_pcs=10, n_neighbors=5, seed=0)
    m = Embedder(small, "vgae", **kw).train(max_epochs=2)
    assert m.train_params_["batch_size"] == 128
    assert m.train_params_["lr"] == 1e-3 and np.isfinite(m.get_latent()).all()
    # GCN/GAT encoders pass messages over the whole graph: full-graph steps
    m = Embedder(small, "gae", conv="gcn", **kw).train(max_epochs=2)
    assert m.train_params_["batch_size"] is None and m.train_params_["lr"] == 1e-2
    with pytest.raises(InputError, match="conv='sgc'"):
        Embedder(small, "gae", conv="gat", heads=2, **kw).train(max_epochs=1, batch_size=32)
    assert Embedder.default_max_epochs(120, full_graph=True) == 300
    assert Embedder.default_max_epochs(120) == 400
    assert Embedder.default_max_epochs(10**6) == 20


def _record_loss(model, seen: list):
    """Make ``model.module.loss`` record the keyword arguments of every training step."""
    loss = model.module.loss

    def recording(**kw):
        if model.module.training:
            seen.append(kw)
        return loss(**kw)

    model.module.loss = recording


def test_full_graph_steps_sample_nodes_and_edges_above_the_caps(small, monkeypatch):
    monkeypatch.setattr(Embedder, "max_nodes_per_step", 10)
    monkeypatch.setattr(Embedder, "max_edges_per_step", 20)
    m = Embedder(small, "gae", conv="gcn", layer="counts", n_latent=3, n_hidden=8, n_pcs=10,
                 n_neighbors=5, seed=0)
    seen: list = []
    _record_loss(m, seen)
    m.train(max_epochs=2)
    assert [(kw["pos_edge_index"].shape[1], len(kw["nodes"]), kw["target"].shape)
            for kw in seen] == [(20, 10, (10, small.n_vars))] * 2
    assert m.graph_.nnz > 2 * 20  # so the cap did sample (both directions of each pair)


@pytest.mark.parametrize("kind,kw", [("vae", {}), ("vgae", {}), ("vgae", {"conv": "gcn"})])
def test_kl_warmup_weight_reaches_the_loss(small, kind, kw):
    m = Embedder(small, kind, layer="counts", n_latent=3, n_hidden=8, n_pcs=10, n_neighbors=5,
                 seed=0, **kw)
    seen: list = []
    _record_loss(m, seen)
    m.train(max_epochs=4, kl_warmup=2, batch_size=None if kw else 64)
    weights = sorted({(kw_["kl_weight"]) for kw_ in seen})
    assert weights == [0.5, 1.0]
    assert seen[0]["kl_weight"] == 0.5 and seen[-1]["kl_weight"] == 1.0


def test_sparse_and_dense_counts_give_the_same_embedding(small):
    import scipy.sparse as sp

    dense = small.copy()
    dense.layers["counts"] = dense.layers["counts"].toarray()
    kw = dict(layer="counts", n_latent=3, n_hidden=8, n_pcs=10, n_neighbors=5, seed=0)
    assert sp.issparse(small.layers["counts"])
    ms, md = Embedder(small, "gae", **kw), Embedder(dense, "gae", **kw)
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


def test_optimisation_options_moved_to_train(small, tmp_path):
    kw = dict(layer="counts", n_latent=3, n_hidden=8, seed=0)
    with pytest.warns(DeprecationWarning, match=r"l1=, device= moved to Embedder.train\(\)"):
        old = Embedder(small, "ae", l1=1e-3, device="cpu", **kw)
    old.train(max_epochs=2, batch_size=32)
    new = Embedder(small, "ae", **kw).train(max_epochs=2, batch_size=32, l1=1e-3,
                                            device="cpu")
    # the old place still works and gives the same model
    np.testing.assert_array_equal(old.get_latent(), new.get_latent())
    assert "penalty" in new.history.columns and new.train_params_["l1"] == 1e-3
    with pytest.raises(TypeError, match="unexpected keyword"):
        Embedder(small, "ae", lr=0.1, **kw)
    # a saved model is rebuilt from architecture options only: no deprecation on load
    new.save(tmp_path / "m")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        Embedder.load(tmp_path / "m", small)
    with pytest.raises(InputError, match="l1 and l2 must be >= 0"):
        Embedder(small, "ae", **kw).train(max_epochs=1, l2=-1.0)
