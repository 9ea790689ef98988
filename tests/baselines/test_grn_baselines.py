"""GRN baselines: degree-only formula, |correlation|, GENIE3-style trees, GRNBoost2-style
boosting."""

from __future__ import annotations

import numpy as np
import pytest

from gnngeno import InputError
from gnngeno.baselines import (
    boosting_scores,
    correlation_scores,
    degree_scores,
    expression_degree_scores,
    grn_baseline,
    rank_genes,
    tree_scores,
)
from gnngeno.metrics import evaluate_grn


def test_degree_scores_formula():
    pos = np.array([[0, 0, 1], [2, 3, 2]])
    S = degree_scores(pos, 4, [0, 1])
    # TF0: out 2, TF1: out 1; gene 2: in 2, gene 3: in 1
    assert S[0, 2] == 3 * 3 and S[1, 3] == 2 * 2 and S[1, 0] == 2 * 1


def test_correlation_scores_find_a_linear_partner():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    X[:, 3] = -2 * X[:, 0] + 0.1 * rng.normal(size=200)
    S = correlation_scores(X, [0], method="pearson")
    assert S.shape == (1, 5) and S[0].argsort()[-2] == 3  # after itself (|r| = 1)
    Sp = correlation_scores(X, [0], method="spearman")
    assert Sp[0, 3] > 0.9


def test_tree_scores_find_a_nonlinear_regulator():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    X[:, 5] = np.abs(X[:, 1]) + 0.1 * rng.normal(size=300)  # |corr| ~ 0, trees see it
    S = tree_scores(X, [0, 1, 2], targets=[5], n_estimators=20, seed=0)
    assert S[:, 5].argmax() == 1
    assert S[:, 5].sum() == pytest.approx(1.0)
    assert (S[:, :5] == 0).all()


def test_grn_baseline_on_simulated_data(sim):
    adata, net = sim
    edges = grn_baseline(adata, "pearson")
    assert list(edges.columns) == ["source", "target", "score"]
    assert edges["score"].is_monotonic_decreasing
    assert evaluate_grn(edges, net)["auroc"] > 0.55
    deg = grn_baseline(adata, "degree", prior=net)
    assert evaluate_grn(deg, net)["auroc"] > 0.6
    with pytest.raises(InputError, match="prior"):
        grn_baseline(adata, "degree")


def test_grn_baseline_degree_of_an_undirected_prior(sim):
    adata, net = sim
    tf, gene = net["source"].iloc[0], adata.var_names[-1]
    # one edge given as gene -> TF: undirected, it adds to the TF's degree as well
    prior = net.iloc[:1].assign(source=gene, target=tf)
    score = {u: grn_baseline(adata, "degree", prior=prior, undirected=u).set_index(
        ["source", "target"])["score"] for u in (False, True)}
    assert score[False][(tf, gene)] == 1 * 1  # directed: no out-edge of tf, no in-edge of gene
    assert score[True][(tf, gene)] == 2 * 2


def test_tree_scores_on_ranks_ignore_monotone_transforms():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    X[:, 4] = np.abs(X[:, 1]) + 0.1 * rng.normal(size=200)
    a = tree_scores(X, [0, 1, 2, 3], targets=[4], n_estimators=10, rank=True, seed=0)
    b = tree_scores(np.exp(X), [0, 1, 2, 3], targets=[4], n_estimators=10, rank=True, seed=0)
    np.testing.assert_allclose(a, b)
    assert a[:, 4].argmax() == 1
    np.testing.assert_array_equal(rank_genes(np.array([[3.0], [1.0], [1.0]]))[:, 0], [3, 1.5, 1.5])


def test_boosting_scores_find_a_nonlinear_regulator_and_stop_early():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    X[:, 5] = np.abs(X[:, 1]) + 0.1 * rng.normal(size=300)
    S = boosting_scores(X, [0, 1, 2, 3], targets=[5], learning_rate=0.1, max_estimators=2000,
                        seed=0)
    assert S[:, 5].argmax() == 1
    assert (S[:, :5] == 0).all()
    # importances times the trees fitted: early stopping keeps the sum far below the maximum
    assert 1 < S[:, 5].sum() < 2000
    again = boosting_scores(X, [0, 1, 2, 3], targets=[5], learning_rate=0.1, seed=0)
    np.testing.assert_array_equal(S, again)
    with pytest.raises(InputError, match="subsample"):
        boosting_scores(X, [0], subsample=1.0)


def test_grn_baseline_boosting(sim):
    adata, net = sim
    edges = grn_baseline(adata, "boosting", learning_rate=0.1, seed=0)
    assert edges["score"].is_monotonic_decreasing
    assert evaluate_grn(edges, net)["auroc"] > 0.55


@pytest.mark.parametrize("max_features, min_samples_leaf", [("sqrt", 5), (1.0, 1)])
def test_tree_importances_equal_sklearn_extra_trees(max_features, min_samples_leaf):
    from sklearn.ensemble import ExtraTreesRegressor

    from gnngeno.baselines._grn import _extra_trees_importances

    rng = np.random.default_rng(1)
    for seed in range(5):
        X = rng.normal(size=(120, 12)).astype(np.float32)
        X[:, 3] = np.round(X[:, 3])  # ties among the split values
        y = X[:, 0] - X[:, 3] + rng.normal(size=120)
        kw = {"n_estimators": 7, "max_features": max_features,
              "min_samples_leaf": min_samples_leaf}
        want = ExtraTreesRegressor(random_state=seed, **kw).fit(X, y).feature_importances_
        got = _extra_trees_importances(X, y, seed=seed, n_jobs=None, **kw)
        np.testing.assert_array_equal(got, want)
    constant = _extra_trees_importances(X, np.zeros(120), seed=0, n_jobs=None, **kw)
    assert (constant == 0).all()


def test_degree_scores_undirected_counts_every_edge_of_a_gene_once():
    # edges 0-2, 2-0 (the same undirected edge twice), 1-2, 3-0: degrees 0:2, 1:1, 2:2, 3:1
    pos = np.array([[0, 2, 1, 3], [2, 0, 2, 0]])
    S = degree_scores(pos, 4, [0, 1], undirected=True)
    assert S[0, 3] == (1 + 2) * (1 + 1) and S[1, 2] == (1 + 1) * (1 + 2)
    # directed: gene 3 has no in-edge, so TF 0 -> 3 only sees TF 0's out-degree
    assert degree_scores(pos, 4, [0, 1])[0, 3] == (1 + 1) * (1 + 0)


def test_expression_degree_scores_predict_held_out_degrees_from_expression():
    # 30 TFs; a TF's number of targets grows with how strongly it follows a shared factor
    rng = np.random.default_rng(0)
    n_cells, n_tfs, n_genes = 300, 30, 90
    X = rng.normal(size=(n_cells, n_genes))
    X[:, :n_tfs] += rng.normal(size=(n_cells, 1)) * np.linspace(0.2, 3.0, n_tfs)
    pos = np.array([[tf, g] for tf in range(n_tfs)
                    for g in rng.choice(np.arange(n_tfs, n_genes), 2 + tf, replace=False)]).T
    held = np.array([3, 10, 17, 24, 28])
    train = pos[:, ~np.isin(pos[0], held)]
    tf_index = np.arange(n_tfs)
    S = expression_degree_scores(X, train, tf_index, unseen_sources=held)
    base = degree_scores(train, n_genes, tf_index)
    keep = ~np.isin(tf_index, held)
    np.testing.assert_allclose(S[keep], base[keep])  # seen TFs keep their degree
    np.testing.assert_array_equal(base[3], base[28])  # degree-only: held-out TFs are tied
    assert S[28, 0] > S[24, 0] > S[3, 0] and S[17, 0] > S[3, 0]
    # nothing unseen: degree-only; undirected: the degree over every edge
    np.testing.assert_allclose(expression_degree_scores(X, train, tf_index), base)
    np.testing.assert_allclose(expression_degree_scores(X, train, tf_index, undirected=True),
                               degree_scores(train, n_genes, tf_index, undirected=True))


def test_grn_baseline_degree_expression_predicts_regulators_without_known_edges():
    import anndata as ad
    import pandas as pd

    # the set-up above, through the AnnData wrapper: five TFs have no edge in the prior
    rng = np.random.default_rng(0)
    n_cells, n_tfs, n_genes = 300, 30, 90
    X = rng.normal(size=(n_cells, n_genes))
    X[:, :n_tfs] += rng.normal(size=(n_cells, 1)) * np.linspace(0.2, 3.0, n_tfs)
    adata = ad.AnnData(X.astype(np.float32))
    adata.var_names = [f"g{i}" for i in range(n_genes)]
    tfs = adata.var_names[:n_tfs].tolist()
    pos = np.array([[tf, g] for tf in range(n_tfs)
                    for g in rng.choice(np.arange(n_tfs, n_genes), 2 + tf, replace=False)]).T
    held = np.array([3, 10, 17, 24, 28])
    train = pos[:, ~np.isin(pos[0], held)]
    prior = pd.DataFrame({"source": adata.var_names[train[0]], "target": adata.var_names[train[1]]})
    before = adata.copy()
    got = grn_baseline(adata, "degree-expression", tfs=tfs, prior=prior, seed=0)
    S = expression_degree_scores(adata.X, train, np.arange(n_tfs), unseen_sources=held, seed=0)
    score = got.set_index(["source", "target"])["score"]
    for t, g in [(3, 40), (28, 40), (0, 55), (29, 31)]:
        assert score[(f"g{t}", f"g{g}")] == pytest.approx(S[t, g])
    plain = grn_baseline(adata, "degree", tfs=tfs, prior=prior).set_index(
        ["source", "target"])["score"]
    assert plain[("g28", "g40")] == plain[("g3", "g40")]  # degree-only: tied at out-degree 0
    assert score[("g28", "g40")] > score[("g3", "g40")]
    np.testing.assert_array_equal(adata.X, before.X)
    with pytest.raises(InputError, match="degree-expression.*prior"):
        grn_baseline(adata, "degree-expression", tfs=tfs)
