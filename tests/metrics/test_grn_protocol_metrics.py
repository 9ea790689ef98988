"""Benchmark metrics: EPR over TF edges only, AUROC by TF degree, the full candidate space."""

from __future__ import annotations

import numpy as np
import pytest

from gnngeno import InputError
from gnngeno.metrics import (
    auroc,
    auroc_by_degree,
    early_precision_ratio,
    epr_tf_edges,
    full_space_metrics,
)


def test_epr_tf_edges_ignores_candidates_out_of_non_tfs():
    y = np.array([1, 0, 0, 0, 1, 1, 0, 0])
    s = np.array([0.9, 0.1, 0.2, 0.3, 0.95, 0.99, 0.0, 0.05])
    src = np.array([0, 0, 0, 0, 7, 7, 7, 7])  # gene 7 is not a TF
    # among TF 0's candidates: 1 positive of 4, ranked first -> precision 1, density 1/4
    assert epr_tf_edges(y, s, src, tfs=[0]) == pytest.approx(4.0)
    assert early_precision_ratio(y, s) != pytest.approx(4.0)  # all candidates: another value
    with pytest.raises(InputError, match="tfs"):
        epr_tf_edges(y, s, src, tfs=[3])


def test_auroc_by_degree_splits_low_and_high_degree_tfs():
    rng = np.random.default_rng(0)
    y = np.tile([1, 0], 50)
    deg = np.repeat([1, 10], 50)
    s = np.where(deg == 10, y + rng.normal(0, 0.1, 100), rng.random(100))  # hubs: perfect
    out = auroc_by_degree(y, s, deg)
    assert out["auroc_high_degree"] == pytest.approx(1.0)
    assert out["auroc_low_degree"] < 0.8
    assert out["degree_threshold"] == pytest.approx(5.5)
    one_class = auroc_by_degree([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4], [1, 1, 5, 5])
    assert np.isnan(one_class["auroc_low_degree"]) and np.isnan(one_class["auroc_high_degree"])


def test_full_space_metrics_ranks_every_pair_but_the_excluded_ones():
    tf_index = np.array([0, 1])
    S = np.zeros((2, 6))
    S[0, 3] = 5.0  # the test positive, ranked first
    S[1, 4] = 9.0  # a training positive scored higher: excluded from the ranking
    pos = np.array([[0], [3]])
    assert full_space_metrics(S, pos, tf_index=tf_index)["auroc"] < 1.0
    res = full_space_metrics(S, pos, tf_index=tf_index, exclude=np.array([[1], [4]]))
    assert res["auroc"] == pytest.approx(1.0)
    assert res["n_candidates"] == 2 * 6 - 2 - 1  # no self-pairs, one excluded
    only_tf1 = full_space_metrics(S, np.array([[1], [2]]), tf_index=tf_index, sources=[1])
    assert only_tf1["n_candidates"] == 5
    cols = full_space_metrics(S, pos, tf_index=tf_index, targets=[2, 3])
    assert cols["n_candidates"] == 4
    assert cols["auroc"] == pytest.approx(auroc([0, 1, 0, 0], [0, 5, 0, 0]))
