"""Helpers shared by the plot functions: axes creation, saving and showing (scanpy's rules)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._validate import InputError

# Backends that cannot show a window: plt.show() would only warn there.
_NON_INTERACTIVE = {"agg", "pdf", "pgf", "ps", "svg", "cairo", "template"}


def _plt():
    import matplotlib.pyplot as plt

    return plt


def new_axes(n: int = 1, *, ax=None, panel_size: tuple[float, float] = (4.2, 3.8),
             sharex: bool = False, sharey: bool = False) -> list:
    """Return ``n`` axes: the ones given in ``ax`` or those of a new one-row figure.

    ``ax`` may be one :class:`~matplotlib.axes.Axes` (when ``n == 1``) or a sequence of ``n``.
    """
    if ax is not None:
        axes = list(np.ravel(ax)) if isinstance(ax, Sequence | np.ndarray) else [ax]
        if len(axes) != n:
            raise InputError(f"this plot draws {n} panel(s) but ax= holds {len(axes)} axes; pass "
                             f"{n} axes (e.g. plt.subplots(1, {n})[1]) or leave ax=None.")
        return axes
    plt = _plt()
    fig, axs = plt.subplots(1, n, figsize=(panel_size[0] * n, panel_size[1]), sharex=sharex,
                            sharey=sharey, squeeze=False)
    return list(axs[0])


def finish(fig, *, save: str | os.PathLike | None, show: bool | None, ax_given: bool,
           dpi: int = 150) -> None:
    """Save ``fig`` to ``save`` and show it, following scanpy's defaults.

    ``show=None`` shows the figure unless it was saved or drawn into axes the caller passed.
    The figure is saved with ``bbox_inches="tight"``; the format follows the file suffix
    (``.png`` is added when there is none). Parent folders are created.
    """
    if save is not None:
        if isinstance(save, bool):
            raise InputError("save= takes a file path (e.g. save='figures/roc.png'), not a bool.")
        path = Path(save)
        if not path.suffix:
            path = path.with_suffix(".png")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    if show is None:
        show = save is None and not ax_given
    if show:
        import matplotlib

        if matplotlib.get_backend().lower() not in _NON_INTERACTIVE:
            _plt().show()


def one_or_list(axes: list):
    """A single Axes for one panel, the list otherwise."""
    return axes[0] if len(axes) == 1 else axes


def thin(x: np.ndarray, y: np.ndarray, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Keep at most ``max_points`` evenly spaced points of a curve (ends kept)."""
    if x.size <= max_points:
        return x, y
    idx = np.unique(np.linspace(0, x.size - 1, max_points).round().astype(int))
    return x[idx], y[idx]
