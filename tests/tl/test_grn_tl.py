"""tl.infer_grn writes scores and a ranked edge table into the AnnData."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gnngeno import InputWarning, pp, tl
from gnngeno.datasets import simulate
from gnngeno.models import GRNPredictor


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_infer_grn_writes_varp_and_uns():
    adata, net = simulate(n_cells=150, n_genes=60, n_tfs=6, seed=1)
    out = tl.infer_grn(adata, prior=net, max_epochs=5, model_kwargs={"hidden_dim": 16,
                                                                      "out_dim": 8})
    assert out is None
    S = adata.varp["gnngeno_grn"]
    assert S.shape == (60, 60)
    assert S[6:].nnz == 0  # non-TF rows are empty
    res = adata.uns["gnngeno_grn"]
    edges = res["edges"]
    assert len(edges) == 6 * 59 and edges["score"].is_monotonic_decreasing
    top = edges.iloc[0]
    i, j = adata.var_names.get_loc(top["source"]), adata.var_names.get_loc(top["target"])
    assert S[i, j] == pytest.approx(top["score"])
    assert {"auroc", "auprc"} <= set(res["metrics"])
    assert res["params"]["mode"] == "supervised"


def test_copy_and_return_model_leave_input_untouched():
    adata, net = simulate(n_cells=100, n_genes=40, n_tfs=4, seed=2)
    new, model = tl.infer_grn(adata, prior=net, max_epochs=3, copy=True, return_model=True)
    assert "gnngeno_grn" not in adata.uns and "gnngeno_grn" in new.uns
    assert isinstance(model, GRNPredictor)


def test_mark_tfs_then_infer_without_prior():
    adata, _ = simulate(n_cells=100, n_genes=40, n_tfs=4, seed=2)
    del adata.var["is_tf"]
    with pytest.warns(InputWarning, match="1 of 5 TFs"):
        pp.mark_tfs(adata, ["TF000", "TF001", "TF002", "TF003", "NOT_A_GENE"])
    assert adata.var["is_tf"].sum() == 4
    tl.infer_grn(adata, max_epochs=3)
    assert adata.uns["gnngeno_grn"]["params"]["mode"] == "self-supervised"
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
