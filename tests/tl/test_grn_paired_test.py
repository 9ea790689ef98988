"""tl.paired_grn_test: the model against the best baseline of each group, paired on datasets and
seeds, with the Wilcoxon signed-rank test and a sign count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wilcoxon

from gnngeno import InputError, tl


def _table(seed: int = 0) -> pd.DataFrame:
    """2 datasets x 5 seeds x 2 negative schemes. Uniform: the model beats degree-only (the
    best baseline) everywhere. Degree-matched: |Pearson| is best and the model is worse. The
    ablation without message passing is always highest, but is not a baseline."""
    rng = np.random.default_rng(seed)
    rows = []
    for ds in ("A", "B"):
        for sd in range(5):
            base = {"uniform": {"degree-only": 0.80, "|Pearson|": 0.55},
                    "degree-matched": {"degree-only": 0.50, "|Pearson|": 0.60}}
            for neg, b in base.items():
                noise = rng.normal(0, 0.01, 3)
                model = (b["degree-only"] + 0.05 if neg == "uniform" else b["|Pearson|"] - 0.04)
                vals = {"GCN": model + noise[0], "degree-only": b["degree-only"] + noise[1],
                        "|Pearson|": b["|Pearson|"] + noise[2],
                        "GCN without message passing": 0.99, "GCN on a shuffled prior": 0.98}
                for m, v in vals.items():
                    rows.append({"dataset": ds, "split": "tf", "negatives": neg, "method": m,
                                 "seed": sd, "auroc": v})
    return pd.DataFrame(rows)


def test_model_better_and_worse_than_the_best_baseline():
    t = _table()
    res = tl.paired_grn_test(t)
    assert list(res.columns) == ["split", "negatives", "baseline", "n", "mean_model",
                                 "mean_baseline", "mean_difference", "sd_difference",
                                 "wilcoxon_p", "n_model_better", "model_better"]
    res = res.set_index("negatives")
    up, down = res.loc["uniform"], res.loc["degree-matched"]
    # the ablation and the shuffled-prior control are not baselines, though they score highest
    assert up["baseline"] == "degree-only" and down["baseline"] == "|Pearson|"
    assert up["n"] == down["n"] == 10
    assert up["mean_difference"] > 0.03 and up["n_model_better"] == 10
    assert up["model_better"] == "10 of 10"
    assert down["mean_difference"] < -0.02 and down["n_model_better"] == 0
    # every difference of one sign over 10 pairs: exact two-sided p = 2 / 2**10
    assert up["wilcoxon_p"] == pytest.approx(2 / 2**10)
    assert down["wilcoxon_p"] == pytest.approx(2 / 2**10)
    # the summary matches the pairs
    g = t[t["negatives"] == "degree-matched"].set_index(["dataset", "seed", "method"])["auroc"]
    d = g.xs("GCN", level="method") - g.xs("|Pearson|", level="method")
    assert down["mean_difference"] == pytest.approx(d.mean())
    assert down["sd_difference"] == pytest.approx(d.std(ddof=1))
    assert down["mean_model"] == pytest.approx(g.xs("GCN", level="method").mean())


def test_mixed_differences_give_scipys_p_and_the_sign_count():
    rng = np.random.default_rng(3)
    d = rng.normal(0.01, 0.03, 8)
    rows = [{"dataset": "A", "split": "tf", "negatives": "uniform", "method": m, "seed": s,
             "auroc": v} for s in range(8)
            for m, v in (("GCN", 0.6 + d[s]), ("degree-only", 0.6))]
    res = tl.paired_grn_test(pd.DataFrame(rows)).iloc[0]
    assert res["wilcoxon_p"] == pytest.approx(wilcoxon(d).pvalue)
    assert res["n_model_better"] == int((d > 0).sum()) and 0 < res["n_model_better"] < 8


def test_pairs_only_shared_units_and_nan_p_when_it_cannot_test():
    t = _table()
    drop = (t["method"] == "GCN") & (t["dataset"] == "A") & (t["seed"] == 0)
    res = tl.paired_grn_test(t[~drop], baselines=["degree-only"]).set_index("negatives")
    assert (res["n"] == 9).all() and (res["baseline"] == "degree-only").all()
    one = t[t["seed"] == 0]
    one = one[one["dataset"] == "A"]
    assert np.isnan(tl.paired_grn_test(one)["wilcoxon_p"]).all()  # n = 1
    tie = t[t["method"].isin(["degree-only"])].assign(method="GCN")
    same = pd.concat([tie, t[t["method"] == "degree-only"]])
    res = tl.paired_grn_test(same)
    assert (res["mean_difference"] == 0).all() and res["wilcoxon_p"].isna().all()
    assert (res["n_model_better"] == 0).all()


def test_pooled_groups_and_clear_errors():
    t = _table()
    pooled = tl.paired_grn_test(t[t["negatives"] == "uniform"], by=["split"])
    assert len(pooled) == 1 and pooled["n"].iloc[0] == 10
    with pytest.raises(InputError, match="several rows for the unit"):
        tl.paired_grn_test(t, by=["split"])  # both schemes in one group: units repeat
    with pytest.raises(InputError, match="full_auroc"):
        tl.paired_grn_test(t, metric="full_auroc")
    with pytest.raises(InputError, match="model='GAT'"):
        tl.paired_grn_test(t, model="GAT")
    with pytest.raises(InputError, match="tree"):
        tl.paired_grn_test(t, baselines=["tree"])
    with pytest.raises(InputError, match="no baseline"):
        tl.paired_grn_test(t[t["method"] == "GCN"])
