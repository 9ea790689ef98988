from __future__ import annotations

import numpy as np
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


def _old_grn_history(warmup=5, n=12, best=9):
    """A history as older GRN fits stored it: ``val_monitor = -1e6 + epoch`` in the warm-up."""
    recs, ema = [], None
    for e in range(n):
        auprc = 0.3 + 0.02 * e
        ema = auprc if ema is None else 0.5 * ema + 0.5 * auprc
        recs.append({"epoch": e, "loss": 1.0 / (e + 1), "val_auprc": auprc, "val_auprc_ema": ema,
                     "val_monitor": ema if e >= warmup else -1e6 + e})
    return TrainingHistory(records=recs, monitor="val_monitor", best_epoch=best)


def test_history_skips_warmup_placeholders():
    _, metric_ax = pl.history(_old_grn_history(), show=False)
    lines = {ln.get_label(): ln for ln in metric_ax.get_lines()}
    assert {"val_auprc", "val_auprc_ema"} <= set(lines)
    # no placeholder reaches the axes: the curves are not squashed against -1e6
    lo, hi = metric_ax.get_ylim()
    assert lo > 0.2 and hi < 0.6
    for ln in metric_ax.get_lines():
        y = np.asarray(ln.get_ydata(), dtype=float)
        assert not (y <= -1e5).any()
    # val_monitor repeats the moving average after the warm-up: drawn once
    assert "val_monitor" not in lines
    # the kept epoch is starred on the monitored curve, the warm-up shaded
    star = [ln for ln in metric_ax.get_lines() if ln.get_marker() == "*"]
    assert len(star) == 1 and star[0].get_xdata()[0] == 9
    assert star[0].get_ydata()[0] == pytest.approx(lines["val_auprc_ema"].get_ydata()[9])
    legend = [t.get_text() for t in metric_ax.get_legend().get_texts()]
    assert "warm-up (epochs 0-4)" in legend


def test_history_only_placeholders_leaves_no_metric_curve():
    recs = [{"epoch": e, "loss": 1.0, "val_monitor": -1e6 + e} for e in range(3)]
    ax = pl.history(TrainingHistory(records=recs, monitor="val_monitor", best_epoch=2),
                    show=False)
    assert ax.get_title() == "training loss"  # one panel: nothing after the warm-up


def test_history_stars_smoothed_monitor():
    recs = [{"epoch": e, "loss": 1.0 / (e + 1), "val_loss": 1.0 - 0.1 * e,
             "val_loss_ema": 1.0 - 0.05 * e, "val_auroc": 0.5 + 0.01 * e} for e in range(6)]
    loss_ax, _ = pl.history(TrainingHistory(records=recs, monitor="val_loss", best_epoch=4),
                            show=False)
    star = [ln for ln in loss_ax.get_lines() if ln.get_marker() == "*"]
    assert star and star[0].get_label().startswith("best val_loss_ema")
    assert star[0].get_ydata()[0] == pytest.approx(0.8)
