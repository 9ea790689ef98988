from __future__ import annotations

import pandas as pd
import pytest

from gnngeno import InputError, pl
from gnngeno.train import TrainingHistory


@pytest.fixture()
def hist():
    recs = [{"epoch": e, "loss": 1.0 / (e + 1), "penalty": 0.1, "val_loss": 1.2 / (e + 1) + 0.01 * e,
             "val_auroc": 0.5 + 0.04 * e} for e in range(8)]
    return TrainingHistory(records=recs, monitor="val_auroc", best_epoch=5, stopped_early=True)


def test_history_two_panels_and_best_epoch(hist, tmp_path):
    out = tmp_path / "history.svg"
    loss_ax, metric_ax = pl.history(hist, save=out)
    assert [ln.get_label() for ln in loss_ax.get_lines()][:2] == ["loss", "val_loss"]
    assert "val_auroc" in [ln.get_label() for ln in metric_ax.get_lines()]
    # penalty is neither a loss nor a val_ metric by default
    assert "penalty" not in [ln.get_label() for ln in loss_ax.get_lines() + metric_ax.get_lines()]
    best = [ln for ln in metric_ax.get_lines() if ln.get_label().startswith("kept epoch 5")]
    assert best and best[0].get_xdata()[0] == 5
    assert out.exists()


def test_history_from_model_frame_and_records(hist):
    class Fake:
        history_ = hist

    a = pl.history(Fake(), show=False)
    assert len(a) == 2
    frame = hist.to_frame().reset_index()
    ax = pl.history(frame, metrics=[], show=False)
    assert ax.get_title() == "training loss"
    assert len(ax.get_lines()[0].get_xdata()) == 8
    ax = pl.history(hist.records, losses=["loss"], metrics=[], show=False)
    assert [ln.get_label() for ln in ax.get_lines()] == ["loss"]
    ax = pl.history(frame, metrics=[], best_epoch=3, show=False)
    assert ax.get_lines()[-1].get_label() == "kept epoch 3" and ax.get_lines()[-1].get_xdata()[0] == 3


def test_history_twin_axis_when_one_ax_given(hist):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    loss_ax, metric_ax = pl.history(hist, ax=ax)
    assert loss_ax is ax and metric_ax is not ax and metric_ax.figure is fig


def test_history_errors(hist):
    with pytest.raises(InputError, match="empty"):
        pl.history(TrainingHistory(), show=False)
    with pytest.raises(InputError, match="not in the history"):
        pl.history(hist, losses=["nope"], show=False)
    with pytest.raises(InputError, match="takes a trained"):
        pl.history(42, show=False)
    with pytest.raises(InputError, match="nothing to plot"):
        pl.history(pd.DataFrame({"epoch": [0, 1], "lr": [1, 2]}), show=False)
