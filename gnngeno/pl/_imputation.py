"""Imputed against observed values on held-out entries."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from .._validate import InputError, check_choice
from ._utils import finish, new_axes


def imputed_vs_observed(
    observed,
    imputed,
    *,
    kind: str = "auto",
    gridsize: int = 40,
    max_points: int = 20000,
    seed: int = 0,
    xlabel: str = "observed (held out)",
    ylabel: str = "imputed",
    title: str | None = None,
    ax=None,
    save: str | os.PathLike | None = None,
    show: bool | None = None,
):
    """Imputed against observed values of held-out entries, one panel per method.

    Each panel shows the identity line and, in a corner, Pearson r, the median absolute
    error and the number of entries. All panels share the same limits, so methods compare at a glance.

    Parameters
    ----------
    observed
        True values of the held-out entries (1-D; e.g. the log-normalised counts that
        :func:`gnngeno.pp.mask_nonzero` hid).
    imputed
        The imputed values at the same entries: one array, or ``{method: array}`` to draw the
        model beside baselines (e.g. ``{"GraphImputer": a, "kNN mean": b}``).
    kind
        ``"hexbin"`` (log-scaled counts), ``"scatter"``, or ``"auto"`` (hexbin above 5000
        entries).
    gridsize
        Hexagons across the x axis.
    max_points
        Scatter plots draw a random subset of this many entries (statistics use all).
    seed
        Seed of that subset.
    xlabel, ylabel
        Axis labels.
    title
        Figure title (panel titles name the method and its statistics).
    ax
        Axes to draw into, one per method.
    save
        File to write the figure to (format from the suffix).
    show
        Show the figure (default: unless ``save`` or ``ax`` is given).

    Returns
    -------
    The :class:`~matplotlib.axes.Axes`, or a list of them for several methods. Each Axes has
    a ``stats`` attribute: ``{"pearson": r, "median_l1": ..., "n": ...}``.
    """
    check_choice(kind, ("auto", "hexbin", "scatter"), "kind")
    obs = np.asarray(observed, dtype=float).ravel()
    methods = ({str(k): v for k, v in imputed.items()} if isinstance(imputed, Mapping)
               else {"imputed": imputed})
    if not methods:
        raise InputError("imputed is empty; pass an array or {method: array}.")
    values = {}
    for name, v in methods.items():
        v = np.asarray(v, dtype=float).ravel()
        if v.shape != obs.shape:
            raise InputError(f"imputed[{name!r}] has {v.size} values but observed has {obs.size}; "
                             "pass the imputed values at the held-out entries only, in the "
                             "same order.")
        values[name] = v
    finite = np.isfinite(obs)
    for v in values.values():
        finite &= np.isfinite(v)
    if finite.sum() < 2:
        raise InputError("fewer than 2 held-out entries with finite values; nothing to plot.")
    if kind == "auto":
        kind = "hexbin" if finite.sum() > 5000 else "scatter"

    axes = new_axes(len(values), ax=ax,
                    panel_size=(5.0, 4.0) if kind == "hexbin" else (4.2, 4.0))
    allv = np.concatenate([obs[finite]] + [v[finite] for v in values.values()])
    lo, hi = float(allv.min()), float(allv.max())
    pad = 0.03 * (hi - lo if hi > lo else 1.0)
    lims = (lo - pad, hi + pad)
    rng = np.random.default_rng(seed)
    sub = np.flatnonzero(finite)
    if kind == "scatter" and sub.size > max_points:
        sub = np.sort(rng.choice(sub, size=max_points, replace=False))
    for a, (name, v) in zip(axes, values.items(), strict=True):
        x, y = obs[finite], v[finite]
        r = float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else float("nan")
        l1 = float(np.median(np.abs(y - x)))
        if kind == "hexbin":
            hb = a.hexbin(x, y, gridsize=gridsize, bins="log", mincnt=1, cmap="viridis",
                          extent=(*lims, *lims))
            a.figure.colorbar(hb, ax=a, label="entries", shrink=0.8)
        else:
            a.scatter(obs[sub], v[sub], s=4, alpha=0.35, linewidths=0, color="C0",
                      rasterized=sub.size > 2000)
        a.plot(lims, lims, color="crimson", lw=1, ls="--", label="y = x")
        a.set(xlim=lims, ylim=lims, xlabel=xlabel, ylabel=ylabel, aspect="equal")
        a.set_title(name)
        a.text(0.97, 0.03, f"r = {r:.3f}\nmedian |error| = {l1:.3f}\nn = {x.size}",
               transform=a.transAxes, ha="right", va="bottom", fontsize="small",
               bbox=dict(boxstyle="round", fc="white", ec="0.8", alpha=0.9))
        a.legend(loc="upper left", fontsize="small", frameon=False)
        a.stats = {"pearson": r, "median_l1": l1, "n": int(x.size)}
    fig = axes[0].figure
    if title is not None:
        fig.suptitle(title)
    if ax is None:
        fig.tight_layout()
    finish(fig, save=save, show=show, ax_given=ax is not None)
    return axes[0] if len(axes) == 1 else axes
