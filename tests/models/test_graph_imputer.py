"""GraphImputer: learns on simulated counts, repeats with a seed, refuses bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import gnngeno as gg
from gnngeno import InputError
from gnngeno.models import GraphImputer
from gnngeno.models._graph_imputer import gcn_normalize, neighbourhood


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


@pytest.fixture(scope="module")
def trained(data):
    masked, _ = data
    model = GraphImputer(masked, transformer="sklearn", n_hidden=64, n_latent=16, seed=0)
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


def test_outputs(trained):
    imp = trained.get_imputed(batch_size=64)
    assert imp.shape == (300, 80) and imp.dtype == np.float32 and np.isfinite(imp).all()
    # log1p of proportions normalised to 1e4: expm1 sums to 1e4 per cell
    np.testing.assert_allclose(np.expm1(imp.astype(np.float64)).sum(1), 1e4, rtol=1e-3)
    np.testing.assert_allclose(trained.get_imputed(batch_size=300), imp, rtol=1e-5, atol=1e-5)
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
    assert list(neighbourhood(N, np.array([0]), 1)) == [0, 1]
    assert list(neighbourhood(N, np.array([0]), 2)) == [0, 1, 2]
    assert list(neighbourhood(N, np.array([3, 0]), 0)) == [3, 0]
