"""``tl.paired_grn_test``: the model against its best baseline, paired over datasets and seeds.

A mean over a few seeds hides whether a model wins consistently; a paired comparison on the
same (dataset, seed) units does not. The baseline is the strongest one in each group (highest
mean), chosen after the fact, which favours the baseline: a model that still wins has beaten
every row of the table, not only the weakest.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._validate import InputError

#: The columns that identify one paired unit.
UNITS = ("dataset", "seed")
_RESULT = ("baseline", "n", "mean_model", "mean_baseline", "mean_difference", "sd_difference",
           "wilcoxon_p", "n_model_better", "model_better")


def _controls(model: str) -> set[str]:
    """Labels of the model's own ablation and control rows (see :func:`benchmark_grn`)."""
    return {f"{model} without message passing", f"{model} on a shuffled prior"}


def _check_table(table: pd.DataFrame, model: str, metric: str, by: list[str]) -> None:
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"table must be a DataFrame as returned by gnngeno.tl.benchmark_grn, "
                         f"got {type(table).__name__}.")
    need = ["method", metric, *UNITS, *by]
    missing = [c for c in dict.fromkeys(need) if c not in table.columns]
    if missing:
        raise InputError(f"the table lacks the column(s) {missing} (columns: "
                         f"{list(table.columns)}); pass a table of gnngeno.tl.benchmark_grn, "
                         "and metric= / by= naming its columns.")
    if model not in set(table["method"]):
        raise InputError(f"model={model!r} is not a method of the table; methods: "
                         f"{sorted(set(table['method']))}.")


def _wilcoxon(d: np.ndarray) -> float:
    from scipy.stats import wilcoxon

    if len(d) < 2 or np.all(d == 0):
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small n: scipy warns that the test is approximate
        return float(wilcoxon(d, alternative="two-sided").pvalue)


def _per_unit(rows: pd.DataFrame, metric: str, what: str, by: list[str]) -> pd.Series:
    units = list(UNITS)
    dup = rows.duplicated(units)
    if dup.any():
        first = rows.loc[dup, units].iloc[0].tolist()
        raise InputError(f"{what} has several rows for the unit (dataset, seed) = {first} in "
                         f"one group of by={by}; add the column that tells them apart (e.g. "
                         "'split' or 'negatives') to by.")
    return rows.set_index(units)[metric]


def _compare(rows: pd.DataFrame, model: str, baselines: list[str], metric: str,
             by: list[str]) -> dict | None:
    means = rows[rows["method"].isin(baselines)].groupby("method")[metric].mean().dropna()
    if means.empty or model not in set(rows["method"]):
        return None
    best = str(means.idxmax())
    a = _per_unit(rows[rows["method"] == model], metric, model, by)
    b = _per_unit(rows[rows["method"] == best], metric, best, by)
    pair = pd.concat({"model": a, "baseline": b}, axis=1, join="inner").dropna()
    d = (pair["model"] - pair["baseline"]).to_numpy(dtype=float)
    n, k = len(d), int((d > 0).sum())
    return {"baseline": best, "n": n, "mean_model": pair["model"].mean(),
            "mean_baseline": pair["baseline"].mean(),
            "mean_difference": d.mean() if n else np.nan,
            "sd_difference": d.std(ddof=1) if n > 1 else np.nan, "wilcoxon_p": _wilcoxon(d),
            "n_model_better": k, "model_better": f"{k} of {n}"}


def paired_grn_test(
    table: pd.DataFrame,
    *,
    model: str = "GCN",
    metric: str = "auroc",
    baselines: Sequence[str] | None = None,
    by: Sequence[str] = ("split", "negatives"),
) -> pd.DataFrame:
    """Pair the model with its best baseline on the same datasets and seeds, per group.

    In each group (by default each split x negatives scheme) the best baseline is the one with
    the highest mean ``metric`` there. The model's and that baseline's values are paired on
    the (``dataset``, ``seed``) units both were scored on, and the differences (model minus
    baseline) are summarised and tested with the Wilcoxon signed-rank test (Wilcoxon,
    *Biometrics Bulletin* 1945), as recommended for comparing methods over several data sets
    (Demšar, *JMLR* 2006).

    Parameters
    ----------
    table
        A tidy table of :func:`gnngeno.tl.benchmark_grn` (columns ``dataset``, ``seed``,
        ``method``, the ``by`` columns and ``metric``), several of them concatenated for
        several datasets.
    model
        The ``method`` label of the model (e.g. ``"GCN"``).
    metric
        The column compared, higher = better (``"auroc"``, ``"auprc_ratio"``, ...).
    baselines
        The ``method`` labels to choose the best baseline from. Default: every method of the
        table but the model, its ablation without message passing and its shuffled-prior
        control (``"<model> without message passing"``, ``"<model> on a shuffled prior"``).
    by
        Columns whose groups are tested separately; ``()`` pools the whole table. Each
        (``dataset``, ``seed``) unit must occur once per method within a group.

    Returns
    -------
    DataFrame, one row per group: the ``by`` columns, ``baseline`` (the best baseline of the
    group), ``n`` (paired units; a unit whose value is missing for either is left out),
    ``mean_model``, ``mean_baseline``, ``mean_difference`` and ``sd_difference`` (model minus
    baseline, sample sd), ``wilcoxon_p`` (two-sided signed-rank p-value; NaN when ``n < 2`` or
    every difference is 0), ``n_model_better`` (units where the model scores higher) and
    ``model_better`` (the same as ``"k of n"``, a sign-test count). Groups without the model
    or without a baseline are left out. The p-values are not corrected for the number of
    groups.

    Raises
    ------
    InputError
        When a column is missing, ``model`` or a given baseline is not in the table, or a unit
        repeats within a group.

    Examples
    --------
    >>> t = gnngeno.tl.benchmark_grn(bench, split="tf", seeds=[0, 1, 2, 3, 4])
    >>> gnngeno.tl.paired_grn_test(t, metric="auroc")  # doctest: +SKIP
    """
    by = [by] if isinstance(by, str) else list(by)
    _check_table(table, model, metric, by)
    methods = set(table["method"])
    if baselines is None:
        baselines = sorted(methods - {model} - _controls(model))
    else:
        baselines = [baselines] if isinstance(baselines, str) else list(baselines)
        absent = [b for b in baselines if b not in methods]
        if absent or model in baselines:
            raise InputError(f"baselines {absent or [model]} are not baselines of the table; "
                             f"pass methods other than the model among {sorted(methods)}.")
    if not baselines:
        raise InputError(f"the table holds no baseline beside {model!r}; score baselines too "
                         "(methods= of gnngeno.tl.benchmark_grn) or pass baselines=.")
    rows = []
    groups = table.groupby(by, sort=False, dropna=False) if by else [((), table)]
    for key, g in groups:
        res = _compare(g, model, baselines, metric, by)
        if res is not None:
            key = key if isinstance(key, tuple) else (key,)
            rows.append({**dict(zip(by, key, strict=True)), **res})
    return pd.DataFrame(rows, columns=[*by, *_RESULT])


__all__ = ["paired_grn_test"]
