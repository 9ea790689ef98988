"""tl.infer_grn: a ranked edge table of every candidate, cross-fitted on the prior, honest
without one."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import torch

from gnngeno import InputError, InputWarning, pp, tl
from gnngeno.datasets import simulate
from gnngeno.models import GRNPredictor

SMALL = {"n_hidden": 16, "n_latent": 8, "n_pcs": 8}
COLUMNS = ["source", "target", "score", "rank", "in_prior"]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def crossfitted():
    adata, net = simulate(n_cells=150, n_genes=60, n_tfs=6, seed=1)
    tl.infer_grn(adata, prior=net, max_epochs=15, cv_folds=3, model_kwargs=SMALL, seed=0)
    return adata, net


def test_edge_table_contract_and_varp(crossfitted):
    adata, net = crossfitted
    S = adata.varp["gnngeno_grn"]
    assert S.shape == (60, 60) and S[6:].nnz == 0  # non-TF rows are empty
    res = adata.uns["gnngeno_grn"]
    edges = res["edges"]
    assert list(edges.columns) == COLUMNS
    assert len(edges) == 6 * 59 and edges["score"].is_monotonic_decreasing
    assert edges["rank"].tolist() == list(range(1, len(edges) + 1))
    assert edges["score"].between(0, 1).all()
    top = edges.iloc[0]
    i, j = adata.var_names.get_loc(top["source"]), adata.var_names.get_loc(top["target"])
    assert S[i, j] == pytest.approx(top["score"])
    known = set(zip(net["source"], net["target"], strict=True))
    flagged = set(zip(edges.loc[edges["in_prior"], "source"],
                      edges.loc[edges["in_prior"], "target"], strict=True))
    assert flagged == known
    assert res["params"]["mode"] == "supervised" and res["params"]["cv_folds"] == 3
    assert res["params"]["n_hidden"] == 16
    assert "metrics" not in res and "truth_metrics" not in res


def test_scores_are_not_saturated(crossfitted):
    edges = crossfitted[0].uns["gnngeno_grn"]["edges"]
    assert edges["score"].nunique() >= len(edges) - 3  # at most a few ties
    assert (edges["score"] < 1).all() and (edges["score"] > 0).all()


def test_cross_fitted_metrics_measure_held_out_edges(crossfitted):
    adata, net = crossfitted
    m = adata.uns["gnngeno_grn"]["cv_metrics"]
    assert {"auroc", "auprc", "auprc_ratio", "epr", "n_folds", "n_known", "n_negatives"} <= set(m)
    assert m["n_folds"] == 3 and m["n_known"] == len(net)
    assert m["n_negatives"] == 6 * 59 - len(net)
    assert 0.5 < m["auroc"] <= 1 and m["auprc_ratio"] > 1


def test_readme_run_fits_its_stacking_regressions_without_warnings():
    # the README's first command (simulated data, planted prior, defaults): the stacking
    # regression's near-constant "pairs left" inputs once needed more than scikit-learn's 100
    # lbfgs iterations, and the command printed a ConvergenceWarning
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    adata, planted = simulate(n_cells=400, n_genes=200, n_tfs=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        tl.infer_grn(adata, prior=planted)
    assert adata.uns["gnngeno_grn"]["cv_metrics"]["auroc"] > 0.8


def test_known_edges_carry_out_of_fold_scores():
    """A fake edge in the prior is learned by a model that sees it; out of fold it is not."""
    adata, net = simulate(n_cells=150, n_genes=60, n_tfs=6, seed=1)
    rng = np.random.default_rng(0)
    known = set(zip(net["source"], net["target"], strict=True))
    fake = []
    while len(fake) < 20:
        s, t = adata.var_names[rng.integers(6)], adata.var_names[rng.integers(6, 60)]
        if (s, t) not in known and (s, t) not in fake:
            fake.append((s, t))
    prior = pd.concat([net[["source", "target"]], pd.DataFrame(fake, columns=["source", "target"])])
    opts = dict(prior=prior, max_epochs=40, patience=None, model_kwargs=SMALL, seed=0,
                copy=True)

    def fake_rank(adata_out):
        e = adata_out.uns["gnngeno_grn"]["edges"].set_index(["source", "target"])
        return float(e.loc[fake, "rank"].mean())

    out_of_fold = fake_rank(tl.infer_grn(adata, cv_folds=4, **opts))
    in_sample = fake_rank(tl.infer_grn(adata, cv_folds=0, **opts))
    assert in_sample < out_of_fold  # seen edges are ranked higher: the table does not


def test_exclude_prior_keeps_new_candidates_only(crossfitted):
    adata, net = crossfitted
    full = adata.uns["gnngeno_grn"]["edges"]
    new = tl.infer_grn(adata, prior=net, max_epochs=15, cv_folds=3, model_kwargs=SMALL, seed=0,
                       exclude_prior=True, copy=True).uns["gnngeno_grn"]["edges"]
    assert not new["in_prior"].any() and len(new) == 6 * 59 - len(net)
    assert new["rank"].tolist() == list(range(1, len(new) + 1))
    np.testing.assert_array_equal(new["score"], full.loc[~full["in_prior"], "score"])


def test_no_prior_stores_no_metric_unless_truth_is_given():
    adata, net = simulate(n_cells=100, n_genes=40, n_tfs=4, seed=2)
    out = tl.infer_grn(adata, method="gnn", max_epochs=5, model_kwargs=SMALL, copy=True)
    res = out.uns["gnngeno_grn"]
    assert set(res) == {"edges", "params"}  # its own co-expression labels are no benchmark
    assert not res["edges"]["in_prior"].any()
    assert res["params"]["mode"] == "self-supervised"
    out = tl.infer_grn(adata, method="gnn", max_epochs=5, model_kwargs=SMALL, copy=True,
                       truth=net)
    m = out.uns["gnngeno_grn"]["truth_metrics"]
    assert m["n_pos"] == len(net) and m["n_candidates"] == 4 * 39
    assert 0 <= m["auroc"] <= 1


def test_expression_alone_is_the_default_without_prior():
    adata, net = simulate(n_cells=100, n_genes=30, n_tfs=3, seed=2)
    out, model = tl.infer_grn(adata, copy=True, return_model=True, seed=0)
    res = out.uns["gnngeno_grn"]
    assert model is None and res["params"]["method"] == "expression"
    assert set(res) == {"edges", "params", "expression_method"}
    assert res["expression_method"] == "trees"  # 30 genes: the tree importances in context
    assert list(res["edges"].columns) == COLUMNS and len(res["edges"]) == 3 * 29
    again = tl.infer_grn(adata, copy=True, seed=0, truth=net).uns["gnngeno_grn"]
    np.testing.assert_array_equal(again["edges"]["score"], res["edges"]["score"])
    assert again["truth_metrics"]["n_pos"] == len(net)


def test_expression_method_needs_the_expression_ranking():
    adata, net = simulate(n_cells=100, n_genes=30, n_tfs=3, seed=2)
    with pytest.raises(InputError, match="without a prior"):
        tl.infer_grn(adata, prior=net, expression_method="pearson")
    with pytest.raises(InputError, match="expression_method"):
        tl.infer_grn(adata, expression_method="lasso")
    out = tl.infer_grn(adata, expression_method="spearman", copy=True).uns["gnngeno_grn"]
    assert out["expression_method"] == "spearman"


def test_every_gene_regulates_without_a_tf_list():
    adata, net = simulate(n_cells=100, n_genes=30, n_tfs=3, seed=2)
    del adata.var["is_tf"]
    tl.infer_grn(adata, prior=net, max_epochs=5, cv_folds=2, model_kwargs=SMALL)
    res = adata.uns["gnngeno_grn"]
    assert res["params"]["n_tfs"] == 30 and len(res["edges"]) == 30 * 29
    assert res["edges"]["in_prior"].sum() == len(net)


def test_five_gene_network_two_edge_prior_and_a_constant_gene():
    rng = np.random.default_rng(0)
    X = rng.poisson(3, size=(40, 5)).astype(np.float32)
    X[:, 4] = 2.0  # no variance
    adata = ad.AnnData(X)
    adata.var_names = [f"g{i}" for i in range(5)]
    prior = pd.DataFrame({"source": ["g0", "g1"], "target": ["g2", "g3"]})
    tl.infer_grn(adata, prior=prior, max_epochs=5, model_kwargs=SMALL, seed=0)
    res = adata.uns["gnngeno_grn"]
    assert len(res["edges"]) == 5 * 4 and np.isfinite(res["edges"]["score"]).all()
    assert res["cv_metrics"]["n_folds"] == 2  # one fold per known edge
    one = pd.DataFrame({"source": ["g0"], "target": ["g2"]})
    tl.infer_grn(adata, prior=one, max_epochs=5, model_kwargs=SMALL, seed=0)
    assert "cv_metrics" not in adata.uns["gnngeno_grn"]  # one edge cannot be cross-fitted
    tl.infer_grn(adata, method="gnn", max_epochs=5, model_kwargs=SMALL, seed=0)
    assert len(adata.uns["gnngeno_grn"]["edges"]) == 20


def test_copy_and_return_model_leave_input_untouched():
    adata, net = simulate(n_cells=100, n_genes=40, n_tfs=4, seed=2)
    new, model = tl.infer_grn(adata, prior=net, max_epochs=3, cv_folds=2, copy=True,
                              return_model=True)
    assert "gnngeno_grn" not in adata.uns and "gnngeno_grn" in new.uns
    assert isinstance(model, GRNPredictor)


def test_old_option_names_warn_and_give_the_same_scores():
    adata, net = simulate(n_cells=100, n_genes=40, n_tfs=4, seed=2)
    small = {"n_hidden": 8, "n_latent": 4, "n_pcs": 4}
    with pytest.warns(DeprecationWarning, match="encoder= is deprecated"):
        old = tl.infer_grn(adata, prior=net, encoder="gat", num_layers=1, max_epochs=3,
                           cv_folds=2, model_kwargs=small, copy=True, seed=0)
    new = tl.infer_grn(adata, prior=net, conv="gat", n_layers=1, max_epochs=3, cv_folds=2,
                       model_kwargs=small, copy=True, seed=0)
    assert old.uns["gnngeno_grn"]["params"]["conv"] == "gat"
    np.testing.assert_array_equal(old.varp["gnngeno_grn"].toarray(),
                                  new.varp["gnngeno_grn"].toarray())


def test_one_split_instead_of_cross_fitting():
    adata, net = simulate(n_cells=100, n_genes=40, n_tfs=4, seed=2)
    out = tl.infer_grn(adata, prior=net, split="random", max_epochs=5, model_kwargs=SMALL,
                       copy=True, seed=0)
    res = out.uns["gnngeno_grn"]
    assert "metrics" in res and "cv_metrics" not in res
    assert res["params"]["split"] == "random" and res["edges"]["in_prior"].sum() == len(net)


def test_input_errors():
    adata, net = simulate(n_cells=60, n_genes=20, n_tfs=2, seed=0)
    with pytest.raises(InputError, match="method='gnn'"):
        tl.infer_grn(adata, prior=net, method="expression")
    with pytest.raises(InputError, match="cv_folds"):
        tl.infer_grn(adata, prior=net, cv_folds=-1)
    with pytest.raises(InputError, match="method"):
        tl.infer_grn(adata, method="genie")


# Run in a fresh interpreter: the first call of a process once differed from later ones
# (a library imported during the first validation drew from python's global random state,
# which the negative sampling uses). 40 genes: no PCA, which would import that library early.
_REPEAT = """
import numpy as np, torch
torch.set_num_threads(1)
import gnngeno as gg
adata, net = gg.datasets.simulate(n_cells=100, n_genes=40, n_tfs=5, seed=0)
scores = []
for _ in range(2):
    a = adata.copy()
    gg.tl.infer_grn(a, prior=net, max_epochs=8, seed=0, cv_folds=2,
                    model_kwargs=dict(n_hidden=8, n_latent=4))
    scores.append(a.uns["gnngeno_grn"]["edges"]["score"].to_numpy())
print(repr(scores[0][:5].tolist()))
print("SAME" if np.array_equal(*scores) else "DIFFERENT")
"""


def _run_fresh() -> list[str]:
    import os
    import subprocess
    import sys

    env = dict(os.environ, OMP_NUM_THREADS="1", GNNGENO_NO_PROGRESS="1")
    res = subprocess.run([sys.executable, "-c", _REPEAT], capture_output=True, text=True,
                         env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout.strip().splitlines()


def test_seeded_calls_repeat_in_one_process_and_across_processes():
    first, second = _run_fresh(), _run_fresh()
    assert first[-1] == "SAME" and second[-1] == "SAME"
    assert first[-2] == second[-2]  # the same scores in another process


def test_mark_tfs_then_infer_without_prior():
    adata, _ = simulate(n_cells=100, n_genes=40, n_tfs=4, seed=2)
    del adata.var["is_tf"]
    with pytest.warns(InputWarning, match="1 of 5 TFs"):
        pp.mark_tfs(adata, ["TF000", "TF001", "TF002", "TF003", "NOT_A_GENE"])
    assert adata.var["is_tf"].sum() == 4
    tl.infer_grn(adata, method="gnn", max_epochs=3)
    assert adata.uns["gnngeno_grn"]["params"]["n_tfs"] == 4
    assert np.isfinite(adata.uns["gnngeno_grn"]["edges"]["score"]).all()


@pytest.mark.parametrize("split", ["random", "tf"])
def test_benchmark_grn_scores_models_and_baselines_on_the_same_pairs(split):
    from gnngeno.io import GRNBenchmark

    adata, net = simulate(n_cells=200, n_genes=80, n_tfs=8, seed=0)
    bench = GRNBenchmark(adata=adata, network=net, tfs=adata.var_names[:8].tolist())
    t = tl.benchmark_grn(bench, split=split, methods=["gcn", "pearson", "degree"], seed=0,
                         train_kwargs={"max_epochs": 10})
    assert t["method"].tolist() == ["GCN", "|Pearson|", "degree-only"]
    assert t["n_test"].nunique() == 1 and t["density"].nunique() == 1
    assert t["auroc"].between(0, 1).all() and (t["cpu_s"] >= 0).all()
    if split == "tf":  # a held-out TF has degree 0: degree-only ranks by target in-degree only
        assert t.set_index("method").loc["degree-only", "auroc"] < 0.8
    with pytest.raises(Exception, match="split"):
        tl.benchmark_grn(bench, split="legacy")
