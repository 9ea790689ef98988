"""Embedded datasets and the simulator with a planted network."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import gnngeno as gg
from gnngeno import InputError


def test_simulate_shapes_counts_and_network():
    adata, net = gg.datasets.simulate(n_cells=120, n_genes=50, n_tfs=6, seed=3)
    assert adata.shape == (120, 50)
    assert sp.issparse(adata.X)
    X = adata.X.toarray()
    assert np.all(X >= 0) and np.allclose(X, np.round(X))
    assert (X.sum(axis=1) > 0).all()  # no empty cells
    assert 0.05 < (X > 0).mean() < 0.95
    assert adata.var["is_tf"].sum() == 6
    assert set(net.source) <= set(adata.var_names[adata.var["is_tf"]])
    assert set(net.target) <= set(adata.var_names)
    assert not (net.source == net.target).any()
    assert not net.duplicated(["source", "target"]).any()
    # every non-TF gene has 1-3 regulators
    indeg = net.groupby("target").size()
    targets = [g for g in adata.var_names[6:]]
    assert indeg.reindex(targets).between(1, 3).all()
    assert adata.uns["gnngeno_simulation"]["seed"] == 3


def test_simulate_is_seeded():
    a1, n1 = gg.datasets.simulate(n_cells=50, n_genes=20, n_tfs=3, seed=7)
    a2, n2 = gg.datasets.simulate(n_cells=50, n_genes=20, n_tfs=3, seed=7)
    a3, _ = gg.datasets.simulate(n_cells=50, n_genes=20, n_tfs=3, seed=8)
    assert (a1.X != a2.X).nnz == 0 and n1.equals(n2)
    assert (a1.X != a3.X).nnz > 0


def test_planted_edges_are_visible_in_expression():
    """Regulated targets correlate with their regulator more than with random TFs."""
    adata, net = gg.datasets.simulate(n_cells=600, n_genes=80, n_tfs=8, seed=0, dropout=0.0)
    X = np.log1p(adata.X.toarray() / adata.X.sum(1).A * 1e4)
    C = np.abs(np.corrcoef(X.T))
    idx = {g: i for i, g in enumerate(adata.var_names)}
    from sklearn.metrics import roc_auc_score

    planted = [C[idx[s], idx[t]] for s, t in zip(net.source, net.target, strict=True)]
    planted_set = {(idx[s], idx[t]) for s, t in zip(net.source, net.target, strict=True)}
    other = [C[i, j] for i in range(8) for j in range(8, 80) if (i, j) not in planted_set]
    # co-expression ranks planted pairs above chance but far from perfectly (cell-type
    # programmes correlate unrelated genes too), leaving room for better methods
    auroc = roc_auc_score([1] * len(planted) + [0] * len(other), planted + other)
    assert 0.58 < auroc < 0.9


def test_simulate_rejects_bad_sizes():
    with pytest.raises(InputError, match="n_tfs"):
        gg.datasets.simulate(n_genes=5, n_tfs=5)
    with pytest.raises(InputError, match="n_cells"):
        gg.datasets.simulate(n_cells=1)


def test_krumsiek11_with_network():
    adata, net = gg.datasets.krumsiek11()
    assert adata.shape == (640, 11)
    assert adata.obs_names.is_unique
    assert len(net) == 30 and set(net.source) | set(net.target) <= set(adata.var_names)
    # Gata1 activates Fog1; Pu.1 represses Gata1 (Krumsiek et al. 2011)
    row = net[(net.source == "Gata1") & (net.target == "Fog1")]
    assert len(row) == 1 and row.weight.iloc[0] > 0
    assert net[(net.source == "Pu.1") & (net.target == "Gata1")].weight.iloc[0] < 0


def test_krumsiek11_writes_to_h5ad(tmp_path):
    """scanpy's copy keys uns["highlights"] by int, which .h5ad refused to store."""
    import anndata as ad

    adata, _ = gg.datasets.krumsiek11()
    adata.write_h5ad(tmp_path / "k.h5ad")
    assert ad.read_h5ad(tmp_path / "k.h5ad").shape == (640, 11)


def test_pbmc68k_reduced():
    adata = gg.datasets.pbmc68k_reduced()
    assert adata.shape == (700, 765)
    assert "bulk_labels" in adata.obs


def test_pbmc68k_reduced_counts_are_recovered_exactly():
    scaled = gg.datasets.pbmc68k_reduced()
    adata = gg.datasets.pbmc68k_reduced(counts=True)
    assert adata.shape == (700, 765) and "bulk_labels" in adata.obs
    C = adata.layers["counts"]
    assert sp.issparse(C) and (C.data >= 1).all() and np.array_equal(C.data, np.rint(C.data))
    # normalising them back with each cell's total gives scanpy's log-normalised values
    total = adata.obs["n_counts"].to_numpy()
    back = np.log1p(C.toarray() / total[:, None] * 1e4)
    raw = scaled.raw.X.toarray() if sp.issparse(scaled.raw.X) else np.asarray(scaled.raw.X)
    np.testing.assert_allclose(back, raw, atol=2e-3)
    assert list(adata.var_names) == list(scaled.raw.var_names)
