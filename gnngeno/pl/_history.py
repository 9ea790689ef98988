"""Training history: losses and validation metrics per epoch."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._validate import InputError
from ._utils import finish, new_axes

#: Older histories stored ``-1e6 + epoch`` in a monitored column during a warm-up (a value that
#: rises every epoch so nothing is kept before the warm-up ends). Such values are not
#: measurements: they are dropped from the plot.
WARMUP_PLACEHOLDER = -1e5


def _history_frame(obj) -> tuple[pd.DataFrame, int | None, str | None]:
    """``(frame indexed by epoch, best epoch, monitored name)`` from any history-like input."""
    from ..train import TrainingHistory

    best, monitor = None, None
    if hasattr(obj, "history_") and isinstance(obj.history_, TrainingHistory):  # a model
        obj = obj.history_
    if isinstance(obj, TrainingHistory):
        best = obj.best_epoch if obj.best_epoch >= 0 else None
        monitor = obj.monitor
        frame = obj.to_frame()
    elif isinstance(obj, pd.DataFrame):
        frame = obj.set_index("epoch") if "epoch" in obj.columns else obj
    elif isinstance(obj, Sequence) and not isinstance(obj, str):
        frame = pd.DataFrame(list(obj))
        frame = frame.set_index("epoch") if "epoch" in frame.columns else frame
    else:
        raise InputError(f"history() takes a trained gnngeno model, a TrainingHistory, a "
                         f"DataFrame (one row per epoch) or a list of per-epoch dicts, got "
                         f"{type(obj).__name__}.")
    if frame.empty:
        raise InputError("the training history is empty; train the model first (.train()).")
    return frame, best, monitor


def history(
    model_or_history,
    *,
    losses: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    best_epoch: int | None = None,
    logy: bool = False,
    title: str | None = None,
    ax=None,
    save: str | os.PathLike | None = None,
    show: bool | None = None,
):
    """Loss curves (left) and validation metrics (right) over the training epochs.

    The epoch whose parameters the model kept (early stopping's best epoch) is marked with a
    dotted vertical line and, on the monitored curve, with a star. When the monitored value
    was smoothed, its moving average (the ``"{monitor}_ema"`` column) is the curve marked.
    Warm-up placeholders of older histories (values <= -1e5 in a validation column, stored
    while the monitored value did not count yet) are left out and the warm-up epochs shaded.

    Parameters
    ----------
    model_or_history
        A trained gnngeno model (its ``history_``), a
        :class:`~gnngeno.train.TrainingHistory`, a DataFrame with one row per epoch (index or
        ``epoch`` column), or a list of per-epoch dicts.
    losses
        Columns for the loss panel (default: those whose name ends in ``loss``).
    metrics
        Columns for the metric panel (default: ``val_*`` columns that are not losses and
        hold at least one value after the warm-up). With no metric column only the loss panel
        is drawn.
    best_epoch
        Epoch to mark as kept (default: the history's ``best_epoch`` when it records one, e.g.
        a model or :class:`~gnngeno.train.TrainingHistory`; a DataFrame records none).
    logy
        Logarithmic loss axis.
    title
        Figure title.
    ax
        One Axes (metrics then go on a twin y axis) or one per panel.
    save
        File to write the figure to (format from the suffix).
    show
        Show the figure (default: unless ``save`` or ``ax`` is given).

    Returns
    -------
    The :class:`~matplotlib.axes.Axes` of the loss panel, or ``[loss_ax, metric_ax]`` when
    metrics are drawn (``metric_ax`` is a twin of ``loss_ax`` when one ``ax`` was given).
    """
    frame, best, monitor = _history_frame(model_or_history)
    if best_epoch is not None:
        best = int(best_epoch)
    frame, warmup = _drop_placeholders(frame)
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    if losses is None:
        losses = [c for c in numeric if str(c).endswith(("loss", "loss_ema"))]
    alias: dict = {}
    if metrics is None:
        metrics = [c for c in numeric if str(c).startswith("val_") and c not in losses
                   and frame[c].notna().any()]
        metrics, alias = _drop_duplicates(frame, metrics)
    missing = [c for c in [*losses, *metrics] if c not in frame.columns]
    if missing:
        raise InputError(f"columns {missing} are not in the history (columns: "
                         f"{list(frame.columns)}).")
    if not losses and not metrics:
        raise InputError(f"nothing to plot: no loss or val_* column in {list(frame.columns)}; "
                         "pass losses=/metrics= naming the columns.")
    n_panels = int(bool(losses)) + int(bool(metrics))
    twin = False
    from matplotlib.axes import Axes

    if n_panels == 2 and isinstance(ax, Axes):
        axes = [ax, ax.twinx()]
        twin = True
    else:
        axes = new_axes(n_panels, ax=ax)
    epochs = frame.index.to_numpy()
    marker = len(frame) < 30
    panels = []
    if losses:
        a = axes[0]
        for c in losses:
            a.plot(epochs, frame[c].to_numpy(dtype=float), marker="o" if marker else None,
                   ms=3, label=c, ls="--" if str(c).startswith("val") else "-")
        a.set(xlabel="epoch", ylabel="loss")
        if logy:
            a.set_yscale("log")
        panels.append(a)
    if metrics:
        a = axes[-1]
        for i, c in enumerate(metrics):
            a.plot(epochs, frame[c].to_numpy(dtype=float), marker="s" if marker else None,
                   ms=3, label=c, color=f"C{len(losses) + i}", ls=":" if twin else "-")
        a.set(xlabel="epoch", ylabel="validation metric")
        panels.append(a)
    drawn = {c: axes[0] for c in losses} | {c: axes[-1] for c in metrics}
    drawn |= {c: drawn[k] for c, k in alias.items()}  # left out as copies: marked on the copy
    _mark_best(panels if not twin else panels[:1], frame, best, monitor, drawn, warmup)
    for a in panels:
        if len(a.get_legend_handles_labels()[0]) > 4:  # a long legend goes under the panel
            a.legend(fontsize="small", frameon=False, loc="upper center", ncol=2,
                     bbox_to_anchor=(0.5, -0.2))
        else:
            a.legend(fontsize="small", frameon=False, loc="best")
    if not twin:
        panels[0].set_title("training loss" if losses else "validation")
        if len(panels) == 2:
            panels[1].set_title("validation")
    fig = panels[0].figure
    if title is not None:
        fig.suptitle(title)
    if ax is None:
        fig.tight_layout()
    finish(fig, save=save, show=show, ax_given=ax is not None)
    return panels[0] if len(panels) == 1 else panels


def _drop_placeholders(frame: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """Validation values <= :data:`WARMUP_PLACEHOLDER` replaced by NaN; the epochs that held one."""
    cols = [c for c in frame.columns if str(c).startswith("val_")
            and pd.api.types.is_numeric_dtype(frame[c]) and not str(c).endswith("loss")]
    if not cols:
        return frame, []
    held = frame[cols].le(WARMUP_PLACEHOLDER)
    if not held.to_numpy().any():
        return frame, []
    frame = frame.copy()
    for c in cols:
        frame[c] = frame[c].where(~held[c])
    return frame, frame.index[held.any(axis=1).to_numpy()].tolist()


def _drop_duplicates(frame: pd.DataFrame, cols: list) -> tuple[list, dict]:
    """``cols`` without those equal to an earlier one wherever both hold a value (older
    histories stored the monitored moving average twice); ``{left out: kept}``."""
    keep, alias = [], {}
    for c in cols:
        v = frame[c].to_numpy(dtype=float)
        for k in keep:
            w = frame[k].to_numpy(dtype=float)
            both = ~np.isnan(v) & ~np.isnan(w)
            if both.any() and np.isnan(v).sum() >= np.isnan(w).sum() and np.allclose(
                    v[both], w[both], rtol=0, atol=1e-12):
                alias[c] = k
                break
        else:
            keep.append(c)
    return keep, alias


def _monitored_column(frame: pd.DataFrame, monitor: str | None, drawn: dict) -> str | None:
    """The drawn column the best epoch was chosen on (its moving average when recorded)."""
    for c in (f"{monitor}_ema", monitor) if monitor else ():
        if c in drawn and frame[c].notna().any():
            return c
    return None


def _mark_best(panels: list, frame: pd.DataFrame, best: int | None, monitor: str | None,
               drawn: dict, warmup: list) -> None:
    """Shade the warm-up, draw the kept epoch's line and star its monitored value.

    ``drawn`` maps each drawn column to the axes holding its curve.
    """
    if warmup:
        lo, hi = min(warmup), max(warmup)
        for a in panels:
            a.axvspan(lo - 0.5, hi + 0.5, color="0.9", lw=0, zorder=0,
                      label=f"warm-up (epochs {lo}-{hi})")
    if best is None:
        return
    label = f"kept epoch {best}" + (f" (best {monitor})" if monitor else "")
    for a in panels:
        a.axvline(best, color="0.4", ls=":", lw=1, label=label)
    col = _monitored_column(frame, monitor, drawn)
    if col is not None and best in frame.index and pd.notna(frame.at[best, col]):
        value = float(frame.at[best, col])
        drawn[col].plot([best], [value], ls="none", marker="*", ms=11, color="black", zorder=5,
                        label=f"best {col} = {value:.4g}")
