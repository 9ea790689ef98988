from __future__ import annotations

import numpy as np
import pytest

from gnngeno import InputError, pl


@pytest.fixture()
def held_out():
    rng = np.random.default_rng(0)
    obs = rng.gamma(2.0, 1.0, 3000)
    return obs, {"model": obs + rng.normal(0, 0.3, obs.size), "kNN mean": np.full(obs.size, 2.0)}


def test_imputed_vs_observed_panels_identity_and_stats(held_out, tmp_path):
    obs, imp = held_out
    out = tmp_path / "imp.png"
    axes = pl.imputed_vs_observed(obs, imp, kind="hexbin", save=out)
    assert len(axes) == 2
    model_ax, knn_ax = axes
    assert model_ax.stats["n"] == obs.size
    assert model_ax.stats["pearson"] == pytest.approx(np.corrcoef(obs, imp["model"])[0, 1])
    assert np.isnan(knn_ax.stats["pearson"])  # a constant prediction has no correlation
    ident = model_ax.get_lines()[0]
    assert np.allclose(ident.get_xdata(), ident.get_ydata())
    assert model_ax.get_xlim() == knn_ax.get_xlim()
    assert model_ax.get_title() == "model" and "r = " in model_ax.texts[0].get_text()
    assert out.exists()


def test_imputed_vs_observed_scatter_subsamples(held_out):
    obs, imp = held_out
    ax = pl.imputed_vs_observed(obs, imp["model"], kind="scatter", max_points=500, show=False)
    assert ax.collections[0].get_offsets().shape[0] == 500
    assert ax.stats["n"] == obs.size  # statistics use every entry


def test_imputed_vs_observed_auto_picks_scatter_for_small(held_out):
    obs, imp = held_out
    ax = pl.imputed_vs_observed(obs[:100], imp["model"][:100], show=False)
    from matplotlib.collections import PathCollection

    assert isinstance(ax.collections[0], PathCollection)


def test_imputed_vs_observed_errors(held_out):
    obs, imp = held_out
    with pytest.raises(InputError, match="same order"):
        pl.imputed_vs_observed(obs, imp["model"][:10], show=False)
    with pytest.raises(InputError, match="kind"):
        pl.imputed_vs_observed(obs, imp, kind="violin", show=False)
