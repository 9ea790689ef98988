"""A benchmark table as points: methods x datasets, one point per seed, the mean as a bar."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._validate import InputError
from ._utils import finish, new_axes

#: Columns whose values, besides ``dataset``, make a category of the x axis.
_CATEGORY_COLUMNS = ("dataset", "split", "negatives")
#: Metrics whose random-ranking value is known: drawn as a dotted line.
_CHANCE = {"auroc": 0.5, "full_auroc": 0.5, "auroc_low_degree": 0.5, "auroc_high_degree": 0.5,
           "auprc_ratio": 1.0, "full_auprc_ratio": 1.0}


def _select(table: pd.DataFrame, column: str, values) -> pd.DataFrame:
    if values is None:
        return table
    values = [values] if isinstance(values, str) else list(values)
    if column not in table.columns:
        raise InputError(f"{column}= was given but the table has no {column!r} column "
                         f"(columns: {list(table.columns)}).")
    absent = [v for v in values if v not in set(table[column])]
    if absent:
        raise InputError(f"{column} {absent} is not in the table; available: "
                         f"{sorted(map(str, table[column].unique()))}.")
    return table[table[column].isin(values)]


def _check(table, metric: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"table must be a DataFrame (e.g. of gnngeno.tl.benchmark_grn), got "
                         f"{type(table).__name__}.")
    if metric not in table.columns:
        numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])
                   and c != "seed"]
        raise InputError(f"metric={metric!r} is not a column of the table; numeric columns: "
                         f"{numeric}.")
    missing = [c for c in ("dataset", "method") if c not in table.columns]
    if missing:
        raise InputError(f"the table lacks the column(s) {missing}; pass a tidy table with one "
                         "row per dataset x method x seed (gnngeno.tl.benchmark_grn).")


def _categories(table: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Each row's x-axis category and the categories in order of appearance."""
    cols = [c for c in _CATEGORY_COLUMNS if c in table.columns
            and (c == "dataset" or table[c].nunique() > 1)]
    parts = table[cols].astype(str)
    label = parts.iloc[:, 0]
    if len(cols) > 1:
        label = label + "\n" + parts.iloc[:, 1:].agg(", ".join, axis=1)
    return label, list(pd.unique(label))


def benchmark(
    table: pd.DataFrame,
    metric: str = "auroc",
    *,
    split: str | Sequence[str] | None = None,
    negatives: str | Sequence[str] | None = None,
    methods: Sequence[str] | None = None,
    chance: bool = True,
    spread: float = 0.25,
    title: str | None = None,
    ax=None,
    save: str | os.PathLike | None = None,
    show: bool | None = None,
):
    """Every method on every dataset: one point per seed, the mean as a short bar.

    Datasets run along the x axis (with the split and negatives when the table holds several);
    within a dataset each method has its own colour and offset, so the spread over seeds
    shows beside the mean.

    Parameters
    ----------
    table
        Tidy table with columns ``dataset``, ``method``, ``metric`` and usually ``split``,
        ``negatives``, ``seed`` (:func:`gnngeno.tl.benchmark_grn`, several concatenated).
    metric
        The column drawn on the y axis.
    split, negatives
        Draw only these splits / negative schemes (one name or several).
    methods
        Methods to draw, in this order (default: all, in order of appearance).
    chance
        Draw the value of a random ranking as a dotted line for the metrics where it is known
        (0.5 for AUROCs, 1 for AUPRC ratios).
    spread
        Horizontal width, in category units, over which a method's seeds are spread.
    title
        Axes title (default: the metric).
    ax
        Axes to draw into.
    save
        File to write the figure to (format from the suffix, e.g. ``.png``, ``.pdf``).
    show
        Show the figure (default: unless ``save`` or ``ax`` is given).

    Returns
    -------
    The :class:`~matplotlib.axes.Axes` drawn; each method is one scatter collection holding
    one point per row of the (selected) table.

    Examples
    --------
    >>> t = gg.tl.benchmark_grn(bench, split="tf", seeds=[0, 1, 2, 3, 4])
    >>> gg.pl.benchmark(t, "auroc", negatives="degree-matched")  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    _check(table, metric)
    t = _select(_select(table, "split", split), "negatives", negatives)
    if methods is not None:
        t = _select(t, "method", methods)
    names = list(methods) if methods is not None else list(pd.unique(t["method"]))
    if t.empty:
        raise InputError("no rows left to draw; check split=, negatives= and methods=.")
    label, cats = _categories(t)
    x_of = {c: i for i, c in enumerate(cats)}
    axes = new_axes(1, ax=ax, panel_size=(max(4.5, 1.1 * len(cats) + 0.3 * len(names)), 4.0))
    a = axes[0]
    colors = plt.get_cmap("tab10" if len(names) <= 10 else "tab20").colors
    width = 0.8 / len(names)
    for j, name in enumerate(names):
        rows = t["method"] == name
        y = t.loc[rows, metric].to_numpy(dtype=float)
        centre = (label[rows].map(x_of).to_numpy(dtype=float)
                  + (j - (len(names) - 1) / 2) * width)
        x = centre.copy()
        for c in np.unique(centre):  # spread a cell's seeds evenly (no random jitter)
            at = np.flatnonzero(centre == c)
            x[at] += np.linspace(-0.5, 0.5, len(at)) * width * spread if len(at) > 1 else 0.0
        color = colors[j % len(colors)]
        a.scatter(x, y, s=16, color=color, alpha=0.8, lw=0, label=name, zorder=3)
        for c in np.unique(centre):
            at = centre == c
            if np.isfinite(y[at]).any():
                a.hlines(np.nanmean(y[at]), c - width * 0.4, c + width * 0.4, color=color,
                         lw=2, zorder=4)
    if chance and metric in _CHANCE:
        a.axhline(_CHANCE[metric], color="0.6", lw=1, ls=":", zorder=1)
    a.set_xticks(range(len(cats)), cats, rotation=30 if len(cats) > 4 else 0,
                 ha="right" if len(cats) > 4 else "center", fontsize="small")
    a.set_xlim(-0.6, len(cats) - 0.4)
    a.set(ylabel=metric, title=metric if title is None else title)
    a.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    if ax is None:
        a.figure.tight_layout()
    finish(a.figure, save=save, show=show, ax_given=ax is not None)
    return a
