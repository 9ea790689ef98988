from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from gnngeno import InputError, pl


@pytest.fixture()
def ranked():
    rng = np.random.default_rng(0)
    y = rng.random(400) < 0.2
    good = y + rng.normal(0, 0.6, y.size)
    bad = rng.normal(0, 1, y.size)
    return y.astype(int), {"GNN": good, "degree": bad}


def test_roc_pr_draws_model_baselines_and_chance(ranked, tmp_path):
    y, scores = ranked
    out = tmp_path / "fig" / "roc.png"
    axes = pl.roc_pr(y, scores, save=out)
    assert isinstance(axes, list) and len(axes) == 2
    roc, pr = axes
    # model + baseline + chance line on each panel
    assert len(roc.get_lines()) == 3 and len(pr.get_lines()) == 3
    labels = [t.get_text() for t in roc.get_legend().get_texts()]
    assert labels[0].startswith("GNN (AUROC") and labels[1].startswith("degree (AUROC")
    # the model is drawn thicker than the baseline
    assert roc.get_lines()[0].get_linewidth() > roc.get_lines()[1].get_linewidth()
    # the PR chance line sits at the density of positives
    chance = pr.get_lines()[-1].get_ydata()
    assert np.allclose(chance, y.mean())
    assert out.exists() and out.stat().st_size > 0


def test_roc_pr_auroc_in_legend_matches_sklearn(ranked):
    from sklearn.metrics import roc_auc_score

    y, scores = ranked
    ax = pl.roc_pr(y, scores, kind="roc", show=False)
    assert isinstance(ax, Axes)
    text = ax.get_legend().get_texts()[0].get_text()
    assert f"{roc_auc_score(y, scores['GNN']):.3f}" in text


def test_roc_pr_model_argument_reorders_and_dataframe_input(ranked):
    y, scores = ranked
    ax = pl.roc_pr(y, pd.DataFrame(scores), model="degree", kind="pr", show=False)
    assert ax.get_legend().get_texts()[0].get_text().startswith("degree")


def test_roc_pr_into_given_axes(ranked):
    import matplotlib.pyplot as plt

    y, scores = ranked
    fig, axs = plt.subplots(1, 2)
    out = pl.roc_pr(y, scores, ax=axs)
    assert out[0] is axs[0] and out[1] is axs[1]
    with pytest.raises(InputError, match="2 panel"):
        pl.roc_pr(y, scores, ax=axs[0])


def test_roc_pr_thins_long_curves():
    rng = np.random.default_rng(1)
    y = (rng.random(50_000) < 0.1).astype(int)
    s = rng.random(y.size)
    pr = pl.roc_pr(y, {"m": s}, kind="pr", max_points=500, show=False)
    assert len(pr.get_lines()[0].get_xdata()) <= 500


def test_roc_pr_rejects_bad_input(ranked):
    y, scores = ranked
    with pytest.raises(InputError, match="model="):
        pl.roc_pr(y, scores, model="nope", show=False)
    with pytest.raises(InputError, match="kind"):
        pl.roc_pr(y, scores, kind="det", show=False)
    with pytest.raises(InputError):
        pl.roc_pr(np.zeros_like(y), scores, show=False)
    with pytest.raises(InputError, match="file path"):
        pl.roc_pr(y, scores, save=True)
