"""GraphImputer: learns on simulated counts, repeats with a seed, refuses bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import gnngeno as gg
from gnngeno import InputError
from gnngeno.models import GraphImputer


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

    from gnngeno.nn import to_torch_csr

    M = sp.csr_matrix(data[0].layers["counts"], dtype=np.float32)
    m = trained.module.eval()
    feats = trained.graph_features
    with torch.no_grad():
        full = m(to_torch_csr(gg.pp.log_normalize(M)), to_torch_csr(trained.adjacency),
                 library=torch.from_numpy(np.asarray(M.sum(1), dtype=np.float32).ravel()),
                 graph_features=None if feats is None else torch.from_numpy(feats))
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
    assert sp.issparse(trained.adjacency) and trained.adjacency.shape == (300, 300)


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
    assert m.adjacency.shape == (300, 300)
    expected = gg.nn.gcn_adjacency(a.obsp["gnngeno_cell_connectivities"])
    assert (m.adjacency != expected).nnz == 0  # the stored graph, not a new one
    trained.save(tmp_path / "m")
    loaded = GraphImputer.load(tmp_path / "m", masked)
    np.testing.assert_allclose(loaded.get_imputed(), trained.get_imputed(), rtol=1e-5, atol=1e-6)
    with pytest.raises(InputError, match="genes"):
        GraphImputer.load(tmp_path / "m", masked[:, :40].copy())


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
def test_hidden_and_validation_entries_never_reach_an_input(data, conv):
    """Every training step's input lacks the entries it scores and the held-out validation
    entries; the caller's counts are not changed by training."""
    masked, _ = data
    before = masked.layers["counts"].copy()
    model = GraphImputer(masked, transformer="sklearn", n_hidden=16, n_latent=4, seed=1,
                         conv=conv)
    seen = []
    original = model.module.loss

    def checked(**kw):  # one full batch: the input rows are the cells in order
        seen.append((kw["x"].to_dense().numpy()[: kw["mask"].shape[0]], kw["mask"].numpy()))
        return original(**kw)

    model.module.loss = checked
    model.train(max_epochs=2, batch_size=None, validation_fraction=0.2, patience=None)
    X = before.toarray()
    val = model.validation_mask_.toarray()
    assert val.any() and (X[val] > 0).any()  # there was something to hide
    assert len(seen) == 2
    for x, mask in seen:
        assert x.shape == X.shape
        assert (x[val] == 0).all() and (x[mask] == 0).all()
        assert not (mask & val).any()  # validation entries are never scored in training
        assert (x[(X > 0) & ~mask & ~val] > 0).all()  # the rest is visible
    assert (masked.layers["counts"] != before).nnz == 0


def test_sgc_graph_features_are_the_neighbours_mean_pca_without_the_cell(data):
    """conv="sgc": row i is the weighted mean of i's neighbours' PCA (i itself left out, so
    what is hidden from a cell cannot reach its own input), up to one global scale."""
    masked, _ = data
    model = GraphImputer(masked, transformer="sklearn", n_pcs=10, n_hidden=8, n_latent=2)
    feats = model.graph_features
    assert feats.shape == (300, 10) and model.module.n_layers == 0
    # the PCA the cell graph was built on (gr.cell_graph writes it to .obsm)
    a = masked.copy()
    gg.gr.cell_graph(a, layer="counts", n_pcs=10, transformer="sklearn", seed=0)
    scores = a.obsm["gnngeno_cell_pca"]
    W = model.adjacency.toarray()
    np.fill_diagonal(W, 0.0)
    expected = (W / W.sum(1, keepdims=True)) @ scores
    scale = expected.std() / feats.std()
    np.testing.assert_allclose(feats * scale, expected, rtol=1e-3, atol=1e-4)
    with pytest.raises(InputError, match="n_layers"):
        GraphImputer(masked, transformer="sklearn", conv="sgc", n_layers=2)
    # neighbour sampling has nothing to sample (no message passing) and is ignored
    model.train(max_epochs=1, batch_size=64, max_neighbors=3, batch_sampling="cluster",
                patience=None)
    assert np.isfinite(model.get_imputed()).all()
    no_graph = GraphImputer(masked, transformer="sklearn", conv="sgc", n_layers=0, n_hidden=8,
                            n_latent=2)
    assert no_graph.graph_features is None and no_graph.module.lin_graph is None


# ---------------------------------------------------------------- data where it is
def _lognorm(adata):
    """The AnnData with log1p(counts normalised to 1e4) in X and no counts layer."""
    import anndata as ad

    X = gg.pp.log_normalize(adata.layers["counts"])
    return ad.AnnData(X=sp.csr_matrix(X, dtype=np.float32), obs=adata.obs[[]].copy(),
                      var=adata.var[[]].copy())


def test_log_normalised_input_is_modelled_on_its_own_scale(data, caplog):
    masked, _ = data
    lognorm = _lognorm(masked)
    with caplog.at_level("INFO", logger="gnngeno"):
        model = GraphImputer(lognorm, transformer="sklearn", n_hidden=32, n_latent=8, seed=0)
    assert model.layer is None  # no counts layer: X
    assert model.input_scale_ == "log" and model.module.likelihood == "gaussian"
    assert "log-normalised" in caplog.text
    model.train(max_epochs=10, patience=None)
    imp = model.get_imputed()
    X = lognorm.X.toarray()
    observed = X != 0
    np.testing.assert_array_equal(imp[observed], X[observed])  # kept exactly
    assert (imp[~observed] >= 0).all() and np.isfinite(imp).all()
    # the prediction is on the input's scale (no second normalisation): not log1p(1e4 * ...)
    pred = model.get_imputed(keep_observed=False)
    assert np.abs(pred[observed] - X[observed]).mean() < 0.4 * X[observed].mean()
    assert np.corrcoef(pred[observed], X[observed])[0, 1] > 0.6
    # counts of the same cells give the counts model
    counts_model = GraphImputer(masked, transformer="sklearn", n_hidden=8, n_latent=2)
    assert counts_model.input_scale_ == "counts" and counts_model.module.likelihood == "zinb"
    with pytest.raises(InputError, match="non-integer"):
        GraphImputer(lognorm, likelihood="zinb", transformer="sklearn")


def test_neither_counts_nor_log_values_are_refused(data):
    masked, _ = data
    a = masked.copy()
    a.X = sp.csr_matrix(masked.layers["counts"], dtype=np.float32) * 1.37  # scaled counts
    with pytest.raises(InputError, match="neither raw counts nor log-normalised"):
        GraphImputer(a, layer=None, transformer="sklearn")


def test_layer_defaults_to_counts_when_present(data):
    masked, _ = data
    a = masked.copy()
    a.X = sp.csr_matrix(gg.pp.log_normalize(a.layers["counts"]), dtype=np.float32)
    model = GraphImputer(a, transformer="sklearn", n_hidden=8, n_latent=2)
    assert model.layer == "counts" and model.input_scale_ == "counts"
    assert GraphImputer(a, layer=None, transformer="sklearn", n_hidden=8,
                        n_latent=2).input_scale_ == "log"


def test_a_stored_cell_graph_is_reused_by_default(data, caplog):
    from sklearn.neighbors import kneighbors_graph

    masked, _ = data
    a = masked.copy()
    ring = sp.csr_matrix((np.ones(300, np.float32), (np.arange(300), (np.arange(300) + 1) % 300)),
                         shape=(300, 300))
    a.obsp["connectivities"] = (ring + ring.T).tocsr()  # where scanpy writes its graph
    with caplog.at_level("INFO", logger="gnngeno"):
        model = GraphImputer(a, n_hidden=8, n_latent=2)
    assert "adata.obsp['connectivities']" in caplog.text
    assert (model.adjacency != gg.nn.gcn_adjacency(a.obsp["connectivities"])).nnz == 0
    assert set(a.obsp) == {"connectivities"}  # nothing written
    # gnngeno's own key comes first; graph_key=None builds a new graph
    knn = kneighbors_graph(np.log1p(a.layers["counts"].toarray()), 5).tocsr()
    a.obsp["gnngeno_cell_connectivities"] = knn
    assert (GraphImputer(a, n_hidden=8, n_latent=2).adjacency
            != gg.nn.gcn_adjacency(knn)).nnz == 0
    fresh = GraphImputer(a, graph_key=None, transformer="sklearn", n_hidden=8, n_latent=2)
    assert (fresh.adjacency != gg.nn.gcn_adjacency(knn)).nnz > 0


def test_output_dtype_and_epoch_cap_log(data, trained, caplog):
    half = trained.get_imputed(dtype="float16")
    full = trained.get_imputed()
    assert half.dtype == np.float16 and half.nbytes * 2 == full.nbytes
    np.testing.assert_allclose(half, full, rtol=2e-3, atol=2e-3)
    with pytest.raises(InputError, match="dtype"):
        trained.get_imputed(dtype="float64")
    masked, _ = data
    m = GraphImputer(masked, transformer="sklearn", n_hidden=8, n_latent=2, seed=0)
    with caplog.at_level("WARNING", logger="gnngeno"):
        m.train(max_epochs=2, patience=None)
    improving = m.history_.best_epoch == len(m.history) - 1
    assert ("still improving" in caplog.text) == improving
    if improving:  # names the option in both the Python and the command-line spelling
        assert "max_epochs=" in caplog.text and "--max-epochs" in caplog.text
