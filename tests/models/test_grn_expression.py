"""Expression-only GRN scores: shape, self-pairs, seeding, accuracy on a planted network, errors."""

from __future__ import annotations

import numpy as np
import pytest

from gnngeno import InputError
from gnngeno.datasets import simulate
from gnngeno.metrics import grn_metrics
from gnngeno.models import score_from_expression


def _planted(n_cells: int, n_genes: int):
    adata, net = simulate(n_cells=n_cells, n_genes=n_genes, n_tfs=5, seed=0)
    X = adata.X.toarray() if hasattr(adata.X, "toarray") else np.asarray(adata.X)
    X = np.log1p(X / X.sum(axis=1, keepdims=True) * 1e4)
    genes = list(adata.var_names)
    tf_index = np.arange(5)
    truth = np.zeros((5, len(genes)))
    for s, t in zip(net["source"], net["target"], strict=True):
        if genes.index(s) < 5:
            truth[genes.index(s), genes.index(t)] = 1.0
    return X, tf_index, truth


@pytest.fixture(scope="module")
def planted():
    """Log-normalised expression of a small planted network and its 0/1 truth (TFs x genes)."""
    return _planted(200, 30)


@pytest.fixture(scope="module")
def planted_wider():
    """The same with 40 genes and 300 cells (the diffusion model needs more genes)."""
    return _planted(300, 40)


@pytest.fixture()
def short_diffusion(monkeypatch):
    """The diffusion model trained 300 steps instead of 1 000 (test speed)."""
    from gnngeno.models import _grn_diffusion

    monkeypatch.setitem(_grn_diffusion.DIFFUSION_DEFAULTS, "n_steps", 300)


@pytest.mark.parametrize("method", ["auto", "trees", "diffusion", "ensemble", "pearson",
                                    "spearman", "genie3", "grnboost2"])
def test_shape_and_self_pairs_lowest(planted, method, short_diffusion):
    X, tf_index, _ = planted
    S = score_from_expression(X, tf_index, method=method, seed=0, n_threads=1)
    assert S.shape == (len(tf_index), X.shape[1])
    assert np.isfinite(S).all()
    others = S.copy()
    others[np.arange(len(tf_index)), tf_index] = np.inf
    assert (S[np.arange(len(tf_index)), tf_index] < others.min()).all()


def test_same_seed_same_scores_other_seed_differs():
    rng = np.random.default_rng(1)
    X = rng.gamma(2.0, size=(150, 8))
    X[:, 1] += X[:, 0]
    a = score_from_expression(X, np.arange(8), seed=3, n_threads=1)
    b = score_from_expression(X, np.arange(8), seed=3, n_threads=1)
    c = score_from_expression(X, np.arange(8), seed=4, n_threads=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def _assert_beats_random(S, tf_index, truth) -> np.ndarray:
    """AUROC above 0.6 and AUPRC above 95 % of 20 shuffles; returns the mask of candidates."""
    keep = np.ones(S.shape, dtype=bool)
    keep[np.arange(len(tf_index)), tf_index] = False
    m = grn_metrics(truth[keep], S[keep])
    assert m["auroc"] > 0.6
    rng = np.random.default_rng(0)
    random_ap = [grn_metrics(truth[keep], rng.permutation(S[keep]))["auprc"] for _ in range(20)]
    assert m["auprc"] > np.quantile(random_ap, 0.95)
    return keep


def test_beats_random_on_a_planted_network(planted):
    X, tf_index, truth = planted
    _assert_beats_random(score_from_expression(X, tf_index, seed=0, n_threads=1), tf_index,
                         truth)


def test_finds_a_planted_nonlinear_chain():
    """0 -> 1 (monotone), 1 -> 2 (a bump, |corr| ~ 0), 3..5 noise: each target's true regulator
    scores highest for it, and both edges rank in the top fifth of all pairs."""
    rng = np.random.default_rng(0)
    n = 400
    X = rng.normal(size=(n, 6))
    X[:, 1] = np.tanh(2 * X[:, 0]) + 0.2 * rng.normal(size=n)
    X[:, 2] = np.exp(-4 * X[:, 1] ** 2) + 0.1 * rng.normal(size=n)
    S = score_from_expression(X, np.arange(6), seed=0, n_threads=1)
    assert S[:, 1].argmax() == 0 and S[:, 2].argmax() == 1
    off = S[~np.eye(6, dtype=bool)]
    assert min(S[0, 1], S[1, 2]) >= np.quantile(off, 0.8)


def test_every_gene_a_regulator():
    adata, _ = simulate(n_cells=120, n_genes=8, n_tfs=3, seed=2)
    X = np.log1p(adata.X.toarray() if hasattr(adata.X, "toarray") else np.asarray(adata.X))
    S = score_from_expression(X, np.arange(8), seed=0, n_threads=1)
    assert S.shape == (8, 8)
    assert (np.diag(S) < S[~np.eye(8, dtype=bool)].min()).all()


@pytest.mark.parametrize("X, tf_index, kw, match", [
    (np.ones(10), [0], {}, "2-D"),
    (np.ones((2, 4)), [0], {}, "at least 3 cells"),
    (np.array([[1.0, np.nan], [0.0, 1.0], [2.0, 1.0]]), [0], {}, "NaN"),
    (np.ones((5, 4)), [], {}, "non-empty"),
    (np.ones((5, 4)), [0, 7], {}, "outside"),
    (np.ones((5, 4)), [1, 1], {}, "more than once"),
    (np.ones((5, 4)), [0.5], {}, "integer"),
    (np.ones((5, 4)), [0], {"method": "aracne"}, "method"),
])
def test_bad_input_raises(X, tf_index, kw, match):
    with pytest.raises(InputError, match=match):
        score_from_expression(X, tf_index, **kw)


def test_default_scores_have_no_block_of_ties(planted):
    """CLR clips negative z-scores; the clipped pairs keep their order by raw importance."""
    X, tf_index, _ = planted
    S = score_from_expression(X, tf_index, seed=0, n_threads=1)
    off = np.ones_like(S, dtype=bool)
    off[np.arange(len(tf_index)), tf_index] = False
    values = S[off]
    assert len(np.unique(values)) >= 0.99 * values.size
    assert (values < 0).any() and (values > 0).any()  # clipped pairs sit below the others


def test_regulators_the_trees_never_split_on_are_not_tied():
    """Few cells, many regulators: most trees never split on most regulators, whose importance
    is then exactly 0 for that target; |Spearman| orders those pairs."""
    X = np.random.default_rng(0).normal(size=(15, 90))
    tf_index = np.arange(60)
    S = score_from_expression(X, tf_index, seed=0, n_threads=1)
    off = np.ones_like(S, dtype=bool)
    off[np.arange(len(tf_index)), tf_index] = False
    assert len(np.unique(S[off])) == off.sum()


def test_context_scores_order_equal_raw_scores_by_the_tie_break():
    from gnngeno.models._grn_expression import context_scores

    raw = np.array([[0.0, 0.0, 0.0, 5.0], [0.0, 0.0, 4.0, 0.0]])
    mask = np.zeros_like(raw, dtype=bool)
    tie_break = np.array([[0.1, 0.3, 0.05, 0.0], [0.2, 0.9, 0.0, 0.7]])
    out = context_scores(raw, mask, tie_break=tie_break)
    clipped = out < 0
    assert clipped.sum() == 6 and (out[raw > 0] > 0).all()
    order = np.argsort(out[raw == 0])  # the six zeros: by tie_break
    assert list(tie_break[raw == 0][order]) == [0.05, 0.1, 0.2, 0.3, 0.7, 0.9]
    assert len(np.unique(out[clipped])) == clipped.sum()
    assert out.min() >= -1.0


def test_auto_is_the_trees_on_few_genes_and_the_ensemble_on_many(planted, monkeypatch,
                                                                  short_diffusion):
    from gnngeno.models import _grn_expression

    X, tf_index, _ = planted
    trees = score_from_expression(X, tf_index, method="trees", seed=0, n_threads=1)
    ensemble = score_from_expression(X, tf_index, method="ensemble", seed=0, n_threads=1)
    np.testing.assert_array_equal(score_from_expression(X, tf_index, seed=0, n_threads=1), trees)
    monkeypatch.setattr(_grn_expression, "ENSEMBLE_MIN_GENES", X.shape[1])
    np.testing.assert_array_equal(score_from_expression(X, tf_index, seed=0, n_threads=1),
                                  ensemble)
    assert not np.array_equal(trees, ensemble)


@pytest.mark.parametrize("method", ["diffusion", "ensemble"])
def test_diffusion_beats_random_on_a_planted_network_and_repeats(planted_wider, method,
                                                                  short_diffusion):
    X, tf_index, truth = planted_wider
    S = score_from_expression(X, tf_index, method=method, seed=0, n_threads=1)
    keep = _assert_beats_random(S, tf_index, truth)
    assert np.unique(S[keep]).size == keep.sum()  # no ties
    np.testing.assert_array_equal(
        S, score_from_expression(X, tf_index, method=method, seed=0, n_threads=1))
    assert not np.array_equal(
        S, score_from_expression(X, tf_index, method=method, seed=1, n_threads=1))


def test_diffusion_leaves_constant_genes_and_cells_out():
    from gnngeno.models._grn_diffusion import diffusion_input, diffusion_scores

    rng = np.random.default_rng(0)
    X = rng.gamma(2.0, size=(60, 6))
    X[:, 2] = 1.0  # no variance
    X[5] = 1.0  # a cell whose genes all hold one value
    Z, genes = diffusion_input(X)
    assert Z.shape == (59, 5) and not genes[2]
    S = diffusion_scores(X, np.arange(6), seed=0, n_steps=20)
    assert np.isfinite(S).all()
    rest = np.delete(np.delete(S, 2, axis=0), 2, axis=1)
    assert (S[:, 2] < rest.min()).all() and (S[2] < rest.min()).all()


def test_diffusion_leaves_the_callers_random_state_alone():
    import torch

    from gnngeno.models._grn_diffusion import diffusion_scores

    X = np.random.default_rng(0).gamma(2.0, size=(50, 6))
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    diffusion_scores(X, np.arange(6), seed=0, n_steps=5)
    assert torch.equal(torch.rand(3), expected)
