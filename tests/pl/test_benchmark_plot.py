from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection

from gnngeno import InputError, pl


@pytest.fixture()
def table():
    rng = np.random.default_rng(0)
    rows = [{"dataset": ds, "split": "tf", "negatives": neg, "method": m, "seed": sd,
             "auroc": rng.uniform(0.4, 0.9)}
            for ds in ("hHEP/Non-Specific", "mESC/Specific") for neg in ("uniform",
                                                                       "degree-matched")
            for m in ("GCN", "degree-only", "|Pearson|") for sd in range(3)]
    return pd.DataFrame(rows)


def _points(ax) -> list[np.ndarray]:
    return [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]


def test_one_point_per_row_and_a_mean_bar_per_cell(table, tmp_path):
    out = tmp_path / "b.png"
    ax = pl.benchmark(table, "auroc", save=out)
    assert isinstance(ax, Axes) and out.stat().st_size > 0
    pts = _points(ax)
    assert len(pts) == 3 and sum(len(p) for p in pts) == len(table)  # one collection a method
    # 2 datasets x 2 negatives on the x axis; the model's points sit at its rows' values
    assert len(ax.get_xticks()) == 4
    np.testing.assert_allclose(np.sort(pts[0][:, 1]),
                               np.sort(table.loc[table["method"] == "GCN", "auroc"]))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["GCN", "degree-only",
                                                                   "|Pearson|"]
    # a mean bar per method x category, at the mean of its 3 seeds
    bars = [c for c in ax.collections if not isinstance(c, PathCollection)]
    assert len(bars) == 3 * 4
    first = table[(table["method"] == "GCN") & (table["dataset"] == "hHEP/Non-Specific")
                  & (table["negatives"] == "uniform")]["auroc"].mean()
    assert np.isclose(bars[0].get_segments()[0][0, 1], first)


def test_selection_by_negatives_and_methods(table):
    import matplotlib.pyplot as plt

    _, given = plt.subplots()
    ax = pl.benchmark(table, negatives="degree-matched", methods=["|Pearson|", "GCN"], ax=given)
    assert ax is given
    assert sum(len(p) for p in _points(ax)) == 2 * 2 * 3
    assert len(ax.get_xticks()) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["|Pearson|", "GCN"]


def test_clear_errors(table):
    with pytest.raises(InputError, match=r"metric='epr'.*auroc"):
        pl.benchmark(table, "epr", show=False)
    with pytest.raises(InputError, match="split.*available"):
        pl.benchmark(table, split="both", show=False)
    with pytest.raises(InputError, match="dataset"):
        pl.benchmark(table.drop(columns="dataset"), show=False)
