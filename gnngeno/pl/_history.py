"""Training history: losses and validation metrics per epoch."""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from .._validate import InputError
from ._utils import finish, new_axes


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
    dotted vertical line.

    Parameters
    ----------
    model_or_history
        A trained gnngeno model (its ``history_``), a
        :class:`~gnngeno.train.TrainingHistory`, a DataFrame with one row per epoch (index or
        ``epoch`` column), or a list of per-epoch dicts.
    losses
        Columns for the loss panel (default: those whose name ends in ``loss``).
    metrics
        Columns for the metric panel (default: ``val_*`` columns that are not losses). With
        no metric column only the loss panel is drawn.
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
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    if losses is None:
        losses = [c for c in numeric if str(c).endswith("loss")]
    if metrics is None:
        metrics = [c for c in numeric if str(c).startswith("val_") and c not in losses]
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
    panels = []
    if losses:
        a = axes[0]
        for c in losses:
            a.plot(epochs, frame[c].to_numpy(dtype=float), marker="o" if len(frame) < 30 else None,
                   ms=3, label=c, ls="--" if str(c).startswith("val") else "-")
        a.set(xlabel="epoch", ylabel="loss")
        if logy:
            a.set_yscale("log")
        panels.append(a)
    if metrics:
        a = axes[-1]
        for i, c in enumerate(metrics):
            a.plot(epochs, frame[c].to_numpy(dtype=float), marker="s" if len(frame) < 30 else None,
                   ms=3, label=c, color=f"C{len(losses) + i}", ls=":" if twin else "-")
        a.set(xlabel="epoch", ylabel="validation metric")
        panels.append(a)
    for a in panels if not twin else panels[:1]:
        if best is not None:
            label = f"kept epoch {best}" + (f" (best {monitor})" if monitor else "")
            a.axvline(best, color="0.4", ls=":", lw=1, label=label)
    for a in panels:
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
