"""The validation metrics scored every training epoch equal scikit-learn's, ties included."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from gnngeno.models._grn_features import auprc, auroc


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("decimals", [None, 1])
def test_validation_metrics_equal_sklearn(dtype, decimals):
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(2, 300))
        y = (rng.random(n) < rng.random()).astype(np.float32)
        if y.min() == y.max():
            continue
        s = rng.normal(size=n)
        if decimals is not None:  # many tied scores
            s = np.round(s, decimals)
        s = s.astype(dtype)
        assert auroc(y, s) == float(roc_auc_score(y, s))
        assert auprc(y, s) == float(average_precision_score(y, s))


def test_validation_metrics_one_class_and_bad_scores():
    assert np.isnan(auroc(np.ones(4), np.arange(4.0)))
    assert np.isnan(auprc(np.zeros(4), np.arange(4.0)))
    assert np.isnan(auprc(np.zeros(0), np.zeros(0)))
    with pytest.raises(ValueError, match="not finite"):
        auroc(np.array([0, 1, 0]), np.array([0.1, np.nan, 0.3]))
