"""GRN metrics: AUROC/AUPRC over sklearn, ratios to the density, BEELINE's EPR."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gnngeno import InputError
from gnngeno.metrics import (
    auprc,
    auprc_ratio,
    auroc,
    early_precision,
    early_precision_ratio,
    evaluate_grn,
    grn_metrics,
)


def test_perfect_and_reversed_rankings():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0])
    s = np.arange(8)[::-1].astype(float)
    assert auroc(y, s) == 1.0 and auprc(y, s) == 1.0
    assert auprc_ratio(y, s) == pytest.approx(4.0)
    assert early_precision_ratio(y, s) == pytest.approx(4.0)
    assert auroc(y, -s) == 0.0


def test_early_precision_includes_ties():
    y = np.array([1, 0, 0, 1])
    s = np.array([0.9, 0.5, 0.5, 0.1])  # k = 2: the 2nd best score is tied
    assert early_precision(y, s) == pytest.approx(1 / 3)


def test_random_scores_are_near_chance():
    rng = np.random.default_rng(0)
    y = (rng.random(20000) < 0.1).astype(int)
    m = grn_metrics(y, rng.random(20000))
    assert abs(m["auroc"] - 0.5) < 0.02
    assert abs(m["auprc_ratio"] - 1.0) < 0.1
    assert m["density"] == pytest.approx(y.mean())


def test_metric_errors():
    with pytest.raises(InputError, match="positives"):
        auroc([0, 0], [0.1, 0.2])
    with pytest.raises(InputError, match="entries"):
        auroc([0, 1], [0.1])
    with pytest.raises(InputError, match="non-finite"):
        auroc([0, 1], [np.nan, 0.2])


def test_evaluate_over_all_candidates_and_given_pairs():
    scores = pd.DataFrame({"source": ["A", "A", "B", "B"], "target": ["x", "y", "x", "A"],
                           "score": [0.9, 0.1, 0.8, 0.2]})
    truth = pd.DataFrame({"source": ["A", "B"], "target": ["x", "x"]})
    m = evaluate_grn(scores, truth, tfs=["A", "B"], genes=["A", "B", "x", "y"])
    # candidates: A->B, A->x, A->y, B->A, B->x, B->y (6, self-pairs left out); missing rank last
    assert m["n_candidates"] == 6 and m["n_pos"] == 2
    assert m["auroc"] == 1.0
    pairs = pd.DataFrame({"source": ["A", "B"], "target": ["y", "x"], "label": [1, 0]})
    assert evaluate_grn(scores, pairs=pairs)["auroc"] == 0.0
