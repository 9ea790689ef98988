"""ROC and precision-recall curves of a model beside its baselines."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._validate import InputError, check_choice
from ._utils import finish, new_axes, one_or_list, thin

_BASELINE_STYLES = ["--", "-.", ":", (0, (5, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1))]


def _as_score_dict(scores) -> dict[str, np.ndarray]:
    if isinstance(scores, pd.DataFrame):
        return {str(c): scores[c].to_numpy() for c in scores.columns}
    if isinstance(scores, Mapping):
        return {str(k): np.asarray(v) for k, v in scores.items()}
    return {"score": np.asarray(scores)}


def roc_pr(
    y_true,
    scores,
    *,
    model: str | None = None,
    kind: str = "both",
    chance: bool = True,
    title: str | None = None,
    max_points: int = 2000,
    ax=None,
    save: str | os.PathLike | None = None,
    show: bool | None = None,
):
    """ROC and precision-recall curves of a model with its baselines drawn beside it.

    Parameters
    ----------
    y_true
        0/1 label of every candidate (e.g. TF -> gene pairs of a test set).
    scores
        ``{name: scores}`` (one score per candidate, higher = more likely true), a DataFrame
        with one column per method, or one array. The model is drawn solid and thick, the
        baselines thinner and dashed; the legend gives each method's AUROC / AUPRC.
    model
        Name of the model among ``scores`` (default: the first one).
    kind
        ``"both"`` (ROC and PR side by side), ``"roc"`` or ``"pr"``.
    chance
        Draw a random ranking: the diagonal (ROC) and the density of positives (PR).
    title
        Figure title (suptitle for two panels).
    max_points
        Curves with more points are thinned to this many for drawing (the areas are computed
        on all points).
    ax
        Axes to draw into: one for ``kind="roc"``/``"pr"``, two for ``"both"``.
    save
        File to write the figure to (format from the suffix, e.g. ``.png``, ``.pdf``).
    show
        Show the figure (default: unless ``save`` or ``ax`` is given).

    Returns
    -------
    The :class:`~matplotlib.axes.Axes` drawn (a list ``[roc_ax, pr_ax]`` for ``kind="both"``).

    Examples
    --------
    >>> gg.pl.roc_pr(y, {"GNN": s_model, "degree": s_degree, "|Pearson|": s_corr})
    """
    from sklearn.metrics import precision_recall_curve, roc_curve

    from ..metrics import auprc, auroc, density

    check_choice(kind, ("both", "roc", "pr"), "kind")
    score_dict = _as_score_dict(scores)
    if not score_dict:
        raise InputError("scores is empty; pass {name: scores} with at least one method.")
    y = np.asarray(y_true).astype(float).ravel()
    names = list(score_dict)
    if model is None:
        model = names[0]
    if model not in score_dict:
        raise InputError(f"model={model!r} is not among the scores ({names}).")
    names = [model] + [n for n in names if n != model]

    panels = ["roc", "pr"] if kind == "both" else [kind]
    axes = new_axes(len(panels), ax=ax)
    panel_ax = dict(zip(panels, axes, strict=True))
    import matplotlib.pyplot as plt

    colors = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0", "C1", "C2", "C3"])
    for i, name in enumerate(names):
        s = np.asarray(score_dict[name], dtype=float).ravel()
        is_model = name == model
        style = dict(color=colors[i % len(colors)], lw=2.4 if is_model else 1.4,
                     ls="-" if is_model else _BASELINE_STYLES[(i - 1) % len(_BASELINE_STYLES)],
                     zorder=3 if is_model else 2)
        if "roc" in panel_ax:
            a = auroc(y, s)  # validates labels and scores
            fpr, tpr, _ = roc_curve(y, s)
            fpr, tpr = thin(fpr, tpr, max_points)
            panel_ax["roc"].plot(fpr, tpr, label=f"{name} (AUROC {a:.3f})", **style)
        if "pr" in panel_ax:
            ap = auprc(y, s)
            prec, rec, _ = precision_recall_curve(y, s)
            rec, prec = thin(rec[::-1], prec[::-1], max_points)
            panel_ax["pr"].plot(rec, prec, drawstyle="steps-post",
                                label=f"{name} (AUPRC {ap:.3f})", **style)
    if "roc" in panel_ax:
        a = panel_ax["roc"]
        if chance:
            a.plot([0, 1], [0, 1], color="0.6", lw=1, ls=":", label="random (0.5)", zorder=1)
        a.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1),
              ylim=(0, 1.01), title="ROC" if kind == "both" or title is None else title)
        a.legend(loc="lower right", fontsize="small", frameon=False)
    if "pr" in panel_ax:
        a = panel_ax["pr"]
        dens = density(y)
        if chance:
            a.axhline(dens, color="0.6", lw=1, ls=":", label=f"random ({dens:.3f})", zorder=1)
        a.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.01),
              title="precision-recall" if kind == "both" or title is None else title)
        a.legend(loc="upper right", fontsize="small", frameon=False)
    fig = axes[0].figure
    if kind == "both" and title is not None:
        fig.suptitle(title)
    if ax is None:
        fig.tight_layout()
    finish(fig, save=save, show=show, ax_given=ax is not None)
    return one_or_list(axes)
