"""GraphImputer: learns on simulated counts, repeats with a seed, refuses bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import gnngeno as gg
from gnngeno import InputError
from gnngeno.data import khop_nodes
from gnngeno.models import GraphImputer
from gnngeno.models._graph_imputer import gcn_normalize


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread: faster on a small, shared machine; restored afterwards."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)



@pytest.fixture(scope="module")
def data():
    adata, _ = gg.datasets.simulate(n_cells=300, n_genes=80, n_tfs=8, seed=0)
    masked, hidden = gg.pp.mask_nonzero(adata, fraction=0.1, seed=0)
    return masked, hidden


@pytest.fixture(scope="module", params=["sgc", "gcn"])
def trained(data, request):
    masked, _ = data
    model = GraphImputer(masked, transformer="sklearn", n_hidden=64, n_latent=16, seed=0,
                         conv=request.param)
    model.train(max_epochs=15, patience=None)
    return model


def test_masked_error_falls_well_below_no_imputation(data, trained):
    masked, hidden = data
    M = masked.layers["counts"]
    ours = gg.metrics.imputation_metrics(trained.get_imputed(), M, hidden)
    none = gg.metrics.imputation_metrics(gg.pp.log_normalize(M), M, hidden)
    assert ours["median_l1"] < 0.4 * none["median_l1"]
    assert ours["rmse"] < 0.5 * none["rmse"]
    assert ours["pearson"] > 0.5
    hist = trained.history
    assert list(hist.columns) == ["loss", "val_loss", "val_l1"]
    assert hist["val_loss"].iloc[-1] < hist["val_loss"].iloc[0]


def test_outputs(data, trained):
    imp = trained.get_imputed(batch_size=64, keep_observed=False)
    assert imp.shape == (300, 80) and imp.dtype == np.float32 and np.isfinite(imp).all()
    # log1p of proportions normalised to 1e4: expm1 sums to 1e4 per cell
    np.testing.assert_allclose(np.expm1(imp.astype(np.float64)).sum(1), 1e4, rtol=1e-3)
    np.testing.assert_allclose(trained.get_imputed(batch_size=300, keep_observed=False), imp,
                               rtol=1e-5, atol=1e-5)
    # layer-wise (gcn) or chunked (sgc) inference equals one full-graph pass of the module
    import torch

    from gnngeno.nn._sparse import to_torch_csr
    from gnngeno.pp._mask import log1p_normalized

    m = trained.module.eval()
    with torch.no_grad():
        full = m(to_torch_csr(log1p_normalized(trained._counts)), to_torch_csr(trained._adj),
                 library=torch.from_numpy(trained._library.astype(np.float32)),
                 graph_features=trained._graph_features)
    np.testing.assert_allclose(m.normalized_expression(full).numpy(), imp, rtol=1e-4, atol=1e-5)
    # default: dropout imputation keeps every observed count, fills the zeros
    kept = trained.get_imputed(batch_size=64)
    M = sp.csr_matrix(data[0].layers["counts"])
    observed = M.toarray() > 0
    lognorm = gg.pp.log_normalize(M)
    lognorm = lognorm.toarray() if sp.issparse(lognorm) else np.asarray(lognorm)
    np.testing.assert_allclose(kept[observed], lognorm[observed], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(kept[~observed], imp[~observed])
    assert not np.allclose(kept[observed], imp[observed], atol=1e-2)
    assert trained.get_latent().shape == (300, 16)
    assert sp.issparse(trained._adj) and sp.issparse(trained._counts)


def test_seeded_runs_repeat(data):
    masked, _ = data
    runs = []
    for _ in range(2):
        m = GraphImputer(masked, transformer="sklearn", n_hidden=32, n_latent=8, seed=7)
        m.train(max_epochs=2)
        runs.append(m.get_imputed())
    np.testing.assert_array_equal(runs[0], runs[1])
    other = GraphImputer(masked, transformer="sklearn", n_hidden=32, n_latent=8, seed=8)
    other.train(max_epochs=2)
    assert not np.array_equal(runs[0], other.get_imputed())


def _with(masked, fn):
    a = masked.copy()
    X = a.layers["counts"].toarray()
    fn(X)
    a.layers["counts"] = X
    return a


@pytest.mark.parametrize("change, msg", [
    (lambda X: X.__setitem__((0, 0), -1.0), "negative"),
    (lambda X: X.__setitem__((0, 0), 0.5), "non-integer"),
    (lambda X: X.__setitem__((0, 0), np.nan), "NaN"),
    (lambda X: X.__setitem__(3, 0.0), "no counts"),
])
def test_bad_input_errors(data, change, msg):
    masked, _ = data
    with pytest.raises(InputError, match=msg):
        GraphImputer(_with(masked, change), transformer="sklearn")


def test_bad_options(data):
    masked, _ = data
    with pytest.raises(InputError, match="likelihood"):
        GraphImputer(masked, likelihood="poisson")
    with pytest.raises(InputError, match="layer"):
        GraphImputer(masked, layer="raw")
    with pytest.raises(InputError, match="graph_key"):
        GraphImputer(masked, graph_key="missing")


def test_untrained_and_wrong_cells(data, trained):
    masked, _ = data
    with pytest.raises(RuntimeError, match="train"):
        GraphImputer(masked, transformer="sklearn").get_imputed()
    with pytest.raises(InputError, match="cells"):
        trained.get_imputed(masked[:10].copy())


def test_existing_graph_and_save_load(data, trained, tmp_path):
    masked, _ = data
    a = masked.copy()
    gg.gr.cell_graph(a, layer="counts", transformer="sklearn", seed=0)
    m = GraphImputer(a, graph_key="gnngeno_cell", n_hidden=32, n_latent=8, seed=0)
    assert m._adj.shape == (300, 300)
    trained.save(tmp_path / "m")
    loaded = GraphImputer.load(tmp_path / "m", masked)
    np.testing.assert_allclose(loaded.get_imputed(), trained.get_imputed(), rtol=1e-5, atol=1e-6)
    with pytest.raises(InputError, match="genes"):
        GraphImputer.load(tmp_path / "m", masked[:, :40].copy())


def test_neighbourhood_and_normalisation():
    # path 0-1-2-3
    A = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]],
                               dtype=np.float32))
    N = gcn_normalize(A)
    assert N.shape == (4, 4) and np.allclose(N.toarray(), N.toarray().T)
    np.testing.assert_allclose(N[0, 0], 0.5)  # degree 2 with self-loop
    assert list(khop_nodes(N, np.array([0]), 1)) == [0, 1]
    assert list(khop_nodes(N, np.array([0]), 2)) == [0, 1, 2]
    assert list(khop_nodes(N, np.array([3, 0]), 0)) == [3, 0]


def test_sampled_neighbourhood_is_exact_or_unbiased(data):
    """GraphSAGE-style sampling: every neighbour kept -> the exact product; few kept -> the
    target rows of ``Â H`` on average."""
    rng = np.random.default_rng(0)
    trained = GraphImputer(data[0], transformer="sklearn", conv="gcn", n_hidden=8, n_latent=2)
    A = trained._adj
    cells = np.array([3, 10, 42, 100])
    H = rng.normal(size=(A.shape[0], 5))
    exact = (A @ H)[cells]
    deg = int(np.diff(A.indptr).max())
    nodes, S = trained._sampled_neighbourhood(cells, deg, rng)
    assert nodes[:4].tolist() == cells.tolist()
    np.testing.assert_allclose((S @ H[nodes])[:4], exact, rtol=1e-5, atol=1e-6)
    draws = []
    for _ in range(2000):  # mean of 2000 draws: sd ~0.015 per entry
        nodes, S = trained._sampled_neighbourhood(cells, 2, rng)
        assert (np.diff(S.indptr)[:4] <= 3).all()  # self-loop + 2 neighbours
        assert S[4:].nnz == 0  # halo rows empty (outputs unused with one layer)
        draws.append((S @ H[nodes])[:4])
    np.testing.assert_allclose(np.mean(draws, axis=0), exact, atol=0.08)


def test_training_with_sampled_neighbours_repeats(data):
    masked, _ = data
    runs = []
    for _ in range(2):
        m = GraphImputer(masked, transformer="sklearn", conv="gcn", n_hidden=16, n_latent=4,
                         seed=3)
        m.train(max_epochs=2, batch_size=64, max_neighbors=3, patience=None)
        assert m.train_params_["max_neighbors"] == 3
        runs.append(m.get_imputed())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert np.isfinite(runs[0]).all()
    with pytest.raises(InputError, match="max_neighbors"):
        GraphImputer(masked, transformer="sklearn", n_hidden=8, n_latent=2).train(
            max_epochs=1, max_neighbors=0)


@pytest.mark.parametrize("conv", ["sgc", "gcn"])
def test_validation_entries_never_reach_an_input(data, monkeypatch, conv):
    """Every input batch (training and validation, target cells and their neighbours) lacks the
    held-out validation entries, and the stored counts are not changed by training."""
    masked, _ = data
    model = GraphImputer(masked, transformer="sklearn", n_hidden=16, n_latent=4, seed=1,
                         conv=conv)
    before = model._counts.copy()
    original = GraphImputer._batch
    seen = {"inputs": 0, "held_out_counts": 0}

    def checked(self, cells, hide, device, max_neighbors=None, rng=None, held_out=None):
        x, adj, target = original(self, cells, hide, device, max_neighbors, rng, held_out)
        if held_out is not None:
            nodes = khop_nodes(self._adj, cells, self.module.n_layers)
            sub = self._counts[nodes].tocoo()
            seen["held_out_counts"] += int(held_out(nodes[sub.row], sub.col).sum())
            xs = sp.csr_matrix((x.values().numpy(), x.col_indices().numpy(),
                                x.crow_indices().numpy()), shape=tuple(x.shape)).tocoo()
            assert not held_out(nodes[xs.row], xs.col).any()
            seen["inputs"] += 1
        return x, adj, target

    monkeypatch.setattr(GraphImputer, "_batch", checked)
    model.train(max_epochs=2, batch_size=64, validation_fraction=0.2, patience=None)
    assert seen["inputs"] > 0 and seen["held_out_counts"] > 0  # there was something to hide
    assert (model._counts != before).nnz == 0


def test_sgc_graph_features_are_the_neighbours_mean_pca_without_the_cell(data):
    """conv="sgc": row i is the weighted mean of i's neighbours' PCA (i itself left out, so
    what is hidden from a cell cannot reach its own input), up to one global scale."""
    import anndata as ad

    from gnngeno.io import chunked_pca
    from gnngeno.models._graph_imputer import neighbour_mean_pca

    masked, _ = data
    model = GraphImputer(masked, transformer="sklearn", n_pcs=10, n_hidden=8, n_latent=2)
    feats = model._graph_features.numpy()
    assert feats.shape == (300, 10) and model.module.n_layers == 0
    scores, _ = chunked_pca(ad.AnnData(X=model._counts), n_comps=10, normalize=True, seed=0)
    W = model._adj.toarray()
    np.fill_diagonal(W, 0.0)
    expected = (W / W.sum(1, keepdims=True)) @ scores
    scale = expected.std() / feats.std()
    np.testing.assert_allclose(feats * scale, expected, rtol=1e-3, atol=1e-4)
    # a star around cell 0: cells 1 and 2 read only cell 0, never themselves
    A = sp.csr_matrix(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=np.float32))
    X = sp.csr_matrix(np.array([[5, 0, 1, 2], [0, 3, 1, 0], [2, 2, 0, 1]], dtype=np.float32))
    f = neighbour_mean_pca(X, gcn_normalize(A), n_pcs=2, seed=0)
    assert f.shape == (3, 2) and np.isfinite(f).all()
    np.testing.assert_allclose(f[1], f[2], rtol=1e-5)  # both read only cell 0
    with pytest.raises(InputError, match="n_layers"):
        GraphImputer(masked, transformer="sklearn", conv="sgc", n_layers=2)
    # neighbour sampling has nothing to sample (no message passing) and is ignored
    model.train(max_epochs=1, batch_size=64, max_neighbors=3, batch_sampling="cluster",
                patience=None)
    assert np.isfinite(model.get_imputed()).all()
    no_graph = GraphImputer(masked, transformer="sklearn", conv="sgc", n_layers=0, n_hidden=8,
                            n_latent=2)
    assert no_graph._graph_features is None and no_graph.module.lin_graph is None
