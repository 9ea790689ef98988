"""tl.benchmark_grn: the model, its ablations and every baseline on the same test pairs, as a
tidy table over splits, negatives and seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gnngeno import InputError, tl
from gnngeno.datasets import simulate
from gnngeno.io import GRNBenchmark

FAST = {"train_kwargs": {"max_epochs": 4, "patience": None},
        "tree_kwargs": {"n_estimators": 3}, "boosting_kwargs": {"max_estimators": 40}}


@pytest.fixture(scope="module")
def bench():
    adata, net = simulate(n_cells=120, n_genes=60, n_tfs=6, seed=1)
    return GRNBenchmark(adata=adata, network=net, tfs=adata.var_names[:6].tolist(), name="sim")


def test_tidy_table_has_every_row_for_every_scheme_and_seed(bench, tmp_path):
    out = tmp_path / "t.csv"
    t = tl.benchmark_grn(bench, split="random", negatives=["uniform", "degree-matched"],
                         seeds=[0, 1], out=out, **FAST)
    assert list(t.columns[:5]) == ["dataset", "split", "negatives", "method", "seed"]
    assert len(t) == 9 * 2 * 2
    assert set(t["method"]) == {"GCN", "GCN without message passing", "GCN on a shuffled prior",
                                "degree-only", "degree from expression", "|Pearson|", "|Spearman|",
                                "tree (GENIE3-style)", "GRNBoost2-style boosting"}
    assert not t.duplicated(["negatives", "method", "seed"]).any()
    for _, g in t.groupby(["negatives", "seed"]):  # the same test pairs for every method
        assert g["n_test"].nunique() == 1 and g["n_pos"].nunique() == 1
    dm = t[t["negatives"] == "degree-matched"]
    assert (dm["n_test"] < t[t["negatives"] == "uniform"]["n_test"].max()).all()
    # one training per seed serves both schemes: full-space metrics agree
    a = t.set_index(["negatives", "method", "seed"])["full_auroc"]
    np.testing.assert_allclose(a.loc["uniform"].sort_index(), a.loc["degree-matched"].sort_index())
    pd.testing.assert_frame_equal(pd.read_csv(out), t, check_dtype=False)
    no_graph = t[t["method"] == "GCN without message passing"]["auroc"].to_numpy()
    assert not np.allclose(no_graph, t[t["method"] == "GCN"]["auroc"].to_numpy())


def test_both_ends_held_out_leaves_degree_only_at_chance(bench):
    t = tl.benchmark_grn(bench, split="both", methods=["degree", "pearson"],
                         fractions=(0.5, 0.1, 0.4), **FAST)
    row = t.set_index("method").loc["degree-only"]
    assert row["auroc"] == pytest.approx(0.5) and row["full_auroc"] == pytest.approx(0.5)


def test_cross_reference_tests_edges_absent_from_the_training_reference(bench):
    net = bench.network
    other = GRNBenchmark(adata=bench.adata, network=net.iloc[::2].reset_index(drop=True),
                         tfs=bench.tfs, name="sim-half")
    t = tl.benchmark_grn(other, split="cross-reference", reference=bench,
                         methods=["degree", "pearson"], negatives=["uniform", "degree-matched"],
                         **FAST)
    assert set(t["split"]) == {"cross-reference"}
    n_new = len(net) - len(other.network)
    assert (t["n_pos"] <= n_new).all() and (t["n_pos"] > 0).all()
    with pytest.raises(InputError, match="reference"):
        tl.benchmark_grn(other, split="cross-reference", methods=["degree"])


def _legacy(bench, leak: int = 0) -> GRNBenchmark:
    """``bench`` with split files from a random split; ``leak`` training positives are also
    listed as test negatives (the leak that gnngeno.io.repair_grn_splits removes)."""
    from gnngeno.data import split_grn

    genes = bench.adata.var_names
    idx = pd.Index(genes)
    pos = np.stack([idx.get_indexer(bench.network["source"]),
                    idx.get_indexer(bench.network["target"])])
    sp = split_grn(pos, n_genes=len(genes), tf_index=np.arange(6), seed=3)

    def frame(pairs, labels):
        return pd.DataFrame({"source": genes[pairs[0]], "target": genes[pairs[1]],
                             "label": labels.astype(int)})

    test = frame(sp.test_pairs, sp.test_labels)
    test = pd.concat([test, frame(sp.train_pos[:, :leak], np.zeros(leak))], ignore_index=True)
    splits = {"train": frame(sp.train_pos, np.ones(sp.train_pos.shape[1])),
              "validation": frame(sp.val_pairs, sp.val_labels), "test": test}
    return GRNBenchmark(adata=bench.adata, network=bench.network, tfs=bench.tfs,
                        splits=splits, name="sim")


def test_grnboost2_row_is_computed_once_per_expression_matrix(bench):
    cache: dict = {}
    t = tl.benchmark_grn(bench, split="random", methods=["grnboost2", "tree"], seeds=[0, 1],
                         cache=cache, **FAST)
    assert set(t["method"]) == {"GRNBoost2-style boosting", "tree (GENIE3-style)"}
    assert sorted(k[0] for k in cache) == ["grnboost2", "tree"]
    boost = t[t["method"] == "GRNBoost2-style boosting"].set_index("seed")
    assert boost.loc[1, "cpu_s"] < boost.loc[0, "cpu_s"]  # seed 1 reuses seed 0's scores
    assert ((boost["auroc"] > 0) & (boost["auroc"] < 1)).all()


def test_repaired_rows_score_the_same_models_without_the_leaking_test_pairs(bench):
    leaky = _legacy(bench, leak=12)
    assert leaky.splits["test"]["label"].eq(0).sum() > 12
    t = tl.benchmark_grn(leaky, methods=["degree", "pearson", "gcn"], repaired=True,
                         negatives=["uniform", "degree-matched"], **FAST)
    assert set(t["split"]) == {"legacy", "legacy (repaired)"} and len(t) == 3 * 2 * 2
    r = t.set_index(["split", "negatives", "method"]).sort_index()
    orig, rep = r.loc[("legacy", "uniform")], r.loc[("legacy (repaired)", "uniform")]
    assert (orig["n_test"] - rep["n_test"] == 12).all() and (orig["n_pos"] == rep["n_pos"]).all()
    # the leaking negatives are training edges: degree-only ranks them high, the repair helps it
    assert rep.loc["degree-only", "auroc"] > orig.loc["degree-only", "auroc"]
    # the model is not retrained: the same epochs and training time on both rows
    assert orig.loc["GCN", "epochs"] == rep.loc["GCN", "epochs"]
    assert orig.loc["GCN", "wall_s"] == rep.loc["GCN", "wall_s"]
    # a sound split is left as it is
    clean = tl.benchmark_grn(_legacy(bench), methods=["degree"], repaired=True, **FAST)
    a = clean.set_index("split")
    assert a.loc["legacy", "auroc"] == a.loc["legacy (repaired)", "auroc"]
    with pytest.raises(InputError, match="split='legacy'"):
        tl.benchmark_grn(bench, split="random", methods=["degree"], repaired=True)
    with pytest.raises(InputError, match="no split files"):
        tl.benchmark_grn(bench, methods=["degree"], repaired=True)


def test_legacy_split_files_with_degree_matched_negatives(bench):
    legacy = _legacy(bench)
    t = tl.benchmark_grn(legacy, negatives=["uniform", "degree-matched"],
                         methods=["degree"], **FAST)
    uni, dm = t.set_index("negatives").loc[["uniform", "degree-matched"], "n_pos"]
    # this small reference is dense: degree matching keeps a subset of the test positives,
    # the full candidate space scores all of them under both schemes
    assert 0 < dm <= uni == int(legacy.splits["test"]["label"].sum())
    full = t.set_index("negatives")["full_auroc"]
    assert full["uniform"] == full["degree-matched"]
    assert t.set_index("negatives").loc["degree-matched", "auroc"] == 0.5  # degree-only
    with pytest.raises(InputError, match="negatives"):
        tl.benchmark_grn(legacy, negatives="hard", methods=["degree"])
    with pytest.raises(InputError, match="method"):
        tl.benchmark_grn(legacy, methods=["nope"])


def test_degree_only_counts_both_directions_for_an_undirected_reference(bench, monkeypatch):
    import gnngeno.baselines as baselines

    seen = []
    real = baselines.degree_scores

    def spy(*args, undirected=False, **kwargs):
        seen.append(undirected)
        return real(*args, undirected=undirected, **kwargs)

    monkeypatch.setattr(baselines, "degree_scores", spy)
    string = GRNBenchmark(adata=bench.adata, network=bench.network, tfs=bench.tfs,
                          name="hHEP/STRING")  # STRING: undirected by name
    for b in (bench, string):
        tl.benchmark_grn(b, split="target", methods=["degree"], **FAST)
    tl.benchmark_grn(bench, split="target", methods=["degree"], undirected=True, **FAST)
    assert seen == [False, True, True]


def test_degree_from_expression_predicts_the_held_out_genes(bench, monkeypatch):
    import gnngeno.baselines as baselines

    seen, real = [], baselines.expression_degree_scores

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(baselines, "expression_degree_scores", spy)
    from gnngeno.tl._grn_benchmark import make_benchmark_split

    held = make_benchmark_split(bench, split="tf", seed=0).info["test_groups"]
    t = tl.benchmark_grn(bench, split="tf", methods=["degree", "degree-expression"])
    np.testing.assert_array_equal(seen[-1]["unseen_sources"], held)
    assert len(seen[-1]["unseen_targets"]) == 0
    assert set(t["method"]) == {"degree-only", "degree from expression"}
    r = tl.benchmark_grn(bench, split="random", methods=["degree", "degree-expression"])
    assert r.set_index("method")["auroc"].nunique() == 1  # nothing unseen: degree-only


def test_cross_fitted_row_is_the_commands_ranking_given_the_splits_known_edges(bench):
    from gnngeno.tl._grn_benchmark import evaluate_split, make_benchmark_split

    t = tl.benchmark_grn(bench, split="tf", methods=["cross-fitted", "degree"], **FAST)
    row = t.set_index("method").loc["gnngeno grn (cross-fitted)"]
    assert np.isfinite(row[["auroc", "auprc", "full_auroc"]].astype(float)).all()
    # the same ranking straight from infer_grn, the split's training and validation
    # positives as its prior
    sp_ = make_benchmark_split(bench, split="tf", negatives="uniform", seed=0)
    genes = bench.adata.var_names.astype(str)
    known = np.concatenate([sp_.train_pos, sp_.val_pairs[:, sp_.val_labels == 1]], axis=1)
    prior = pd.DataFrame({"source": genes[known[0]], "target": genes[known[1]]})
    out = tl.infer_grn(bench.adata, prior=prior, tfs=list(genes[sp_.tf_index]), seed=0,
                       train_kwargs=FAST["train_kwargs"], copy=True)
    S = out.varp["gnngeno_grn"].toarray()[sp_.tf_index]
    assert evaluate_split(S, sp_)["auroc"] == pytest.approx(row["auroc"])
    assert "gnngeno_grn" not in bench.adata.varp  # the benchmark's data is left as it was
    held = set(genes[sp_.info["test_groups"]])
    assert held and not held & set(prior["source"])  # held-out TFs: no known edge
