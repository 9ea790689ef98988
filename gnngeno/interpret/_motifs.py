"""First-layer filters as motifs: PWMs from activating sequences, filter importance, and a
Tomtom-like comparison against a motif database."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .._settings import settings
from .._validate import InputError
from ..io._motifs import Motif


def information_content(pwm: np.ndarray, background=(0.25, 0.25, 0.25, 0.25)) -> np.ndarray:
    """Information content (bits) of each column of a ``(width, 4)`` PWM."""
    p = np.asarray(pwm, float)
    bg = np.asarray(background, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log2(p / bg), 0.0)
    return terms.sum(1)


def trim_pwm(pwm: np.ndarray, *, min_ic: float = 0.3) -> tuple[np.ndarray, int]:
    """Drop leading and trailing columns whose information content is below ``min_ic`` bits.

    Returns
    -------
    ``(trimmed pwm, index of the first kept column)``; the PWM is kept whole when no column
    reaches ``min_ic``.
    """
    ic = information_content(pwm)
    keep = np.flatnonzero(ic >= min_ic)
    if len(keep) == 0:
        return np.asarray(pwm), 0
    return np.asarray(pwm)[keep[0]:keep[-1] + 1], int(keep[0])


def _first_layer(module: torch.nn.Module) -> torch.nn.Conv1d:
    conv = getattr(module, "conv1", None)
    if not isinstance(conv, torch.nn.Conv1d):
        raise InputError(f"{type(module).__name__} has no first convolution 'conv1'; filters "
                         "can be read from gnngeno.nn.SequenceCNN modules.")
    return conv


def _prepare(model, X):
    from ._attribution import _module_and_x

    module, X = _module_and_x(model, X)
    _first_layer(module)
    return module, X


def filters_to_pwms(model, X=None, *, threshold: float = 0.5, pseudocount: float = 0.1,
                    both_strands: bool | None = None, batch_size: int = 512,
                    device: str | None = None, prefix: str = "filter") -> dict[str, Motif]:
    """Turn first-layer filters into PWMs from the sequences that activate them
    (Alipanahi et al. 2015; Kelley et al. 2016).

    For each filter, every window whose activation exceeds ``threshold`` times the filter's
    largest activation over ``X`` is collected and its letters counted.

    Parameters
    ----------
    model
        A trained :class:`~gnngeno.models.SequenceModel` or a :class:`~gnngeno.nn.SequenceCNN`.
    X
        Sequences (strings or one-hot ``(N, 4, L)``); default: the reference sequences a
        ``SequenceModel`` kept from its training data. Without any, PWMs come from the weights
        (:func:`filter_weights_to_pwms`).
    threshold
        Fraction of each filter's maximum activation a window must reach.
    pseudocount
        Added to every count before normalising.
    both_strands
        Collect windows from the reverse complements too (default: as the model scores them).
    batch_size, device
        Batching and device.
    prefix
        Motif ids are ``f"{prefix}_{i}"``.

    Returns
    -------
    ``{id: Motif}`` with ``(filter_size, 4)`` PWMs, ``nsites`` the number of windows, and
    ``extra["max_activation"]``.
    """
    if X is None:
        X = getattr(model, "reference_sequences_", None) or None
        if X is None:
            return filter_weights_to_pwms(model, prefix=prefix)
    module, X = _prepare(model, X)
    conv = _first_layer(module)
    if both_strands is None:
        both_strands = bool(getattr(module, "both_strands", True))
    if both_strands:
        X = torch.cat([X, X.flip(-1).flip(-2)], 0)
    dev = settings.torch_device(device)
    module = module.to(dev)
    act_fn = getattr(module, "first_layer_activations", None) or (lambda x: torch.relu(conv(x)))
    k = conv.kernel_size[0]
    F = conv.out_channels
    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode():
            max_act = torch.full((F,), -np.inf)
            for s in range(0, X.shape[0], batch_size):
                a = act_fn(X[s:s + batch_size].to(dev)).cpu()
                max_act = torch.maximum(max_act, a.amax((0, 2)))
            thr = threshold * max_act.clamp_min(0)
            counts = torch.zeros((F, 4, k))
            nsites = torch.zeros(F)
            for s in range(0, X.shape[0], batch_size):
                xb = X[s:s + batch_size]
                a = act_fn(xb.to(dev)).cpu()
                mask = ((a > thr[None, :, None]) & (a > 0)).float()  # (n, F, L')
                windows = xb.unfold(2, k, 1)  # (n, 4, L', k)
                counts += torch.einsum("nfl,nclk->fck", mask, windows)
                nsites += mask.sum((0, 2))
    finally:
        module.train(was_training)
    out = {}
    for f in range(F):
        c = counts[f].T.numpy() + pseudocount  # (k, 4)
        pwm = c / c.sum(1, keepdims=True)
        out[f"{prefix}_{f}"] = Motif(f"{prefix}_{f}", "", pwm, int(nsites[f]),
                                     {"max_activation": float(max_act[f])})
    return out


def filter_weights_to_pwms(model, *, beta: float = 1.0, prefix: str = "filter") -> dict[str, Motif]:
    """PWMs straight from the first-layer weights: a softmax over the four letters of each
    column (``beta`` scales the weights first). Cruder than :func:`filters_to_pwms`."""
    module = getattr(model, "module", model)
    W = _first_layer(module).weight.detach().cpu().numpy()  # (F, 4, k)
    out = {}
    for f, w in enumerate(W):
        e = np.exp(beta * (w - w.max(0, keepdims=True)))
        pwm = (e / e.sum(0, keepdims=True)).T
        out[f"{prefix}_{f}"] = Motif(f"{prefix}_{f}", "", pwm, 0)
    return out


def filter_importance(model, X, *, target: int = 0, batch_size: int = 1024,
                      device: str | None = None) -> pd.Series:
    """Importance of each first-layer filter: the mean absolute change of the output (logit)
    over ``X`` when that filter's activations are set to zero (ablation).

    Returns
    -------
    Series indexed ``filter_0 ...``, sorted from most to least important.
    """
    from ..nn._sequence_cnn import predict

    module, X = _prepare(model, X)
    conv = _first_layer(module)
    F = conv.out_channels
    mask = torch.ones(F)

    def hook(_m, _inp, out):
        return out * mask.to(out.device)[None, :, None]

    def score() -> np.ndarray:
        out = predict(module, X, batch_size=batch_size, device=device)
        return out[:, target].numpy() if out.ndim > 1 else out.numpy()

    handle = conv.register_forward_hook(hook)
    try:
        base = score()
        imp = np.zeros(F)
        for f in range(F):
            mask.fill_(1.0)
            mask[f] = 0.0
            imp[f] = np.abs(score() - base).mean()
    finally:
        handle.remove()
    s = pd.Series(imp, index=[f"filter_{f}" for f in range(F)], name="importance")
    return s.sort_values(ascending=False)


# ------------------------------------------------------------------------------ matching
def _norm_columns(cols: np.ndarray) -> np.ndarray:
    """Centre each column (row of ``cols``) and scale it to unit norm, so that dot products are
    Pearson correlations; constant columns become zero."""
    c = cols - cols.mean(1, keepdims=True)
    norm = np.linalg.norm(c, axis=1, keepdims=True)
    return np.divide(c, norm, out=np.zeros_like(c), where=norm > 1e-9)


def _reverse_complement_pwm(pwm: np.ndarray) -> np.ndarray:
    return np.asarray(pwm)[::-1, ::-1].copy()


def _as_motif_list(motifs) -> list[Motif]:
    from ..io._motifs import _as_motifs

    return _as_motifs(motifs)


def match_motifs(query, database, *, top: int = 5, min_overlap: int = 5,
                 trim_ic: float | None = 0.3) -> pd.DataFrame:
    """Compare PWMs with a motif database, Tomtom-style (Gupta et al. 2007).

    Columns are compared by Pearson correlation. Each query is slid over each target at every
    offset (overlap of at least ``min_overlap`` columns) on both strands of the target; an
    alignment's score is the sum of its column correlations. As in Tomtom, the null distribution
    of a query column's score is that column's correlation with every column of the database;
    the alignment score is turned into a z-score with the summed null means and variances of the
    overlapping query columns (a normal approximation instead of Tomtom's exact convolution),
    then into a p-value, corrected for the number of alignments tried (Šidák), and into an
    E-value (times the number of targets).

    Parameters
    ----------
    query
        ``{id: Motif or (width, 4) array}`` or a list of :class:`~gnngeno.io.Motif` (e.g. from
        :func:`filters_to_pwms`).
    database
        Same kinds (e.g. :func:`gnngeno.io.read_meme` of a JASPAR file).
    top
        Matches kept per query (``None``: all).
    min_overlap
        Smallest number of aligned columns (capped at the shorter motif's width).
    trim_ic
        Trim low-information flanks of the queries first (see :func:`trim_pwm`); ``None`` keeps
        them.

    Returns
    -------
    DataFrame with one row per (query, match): ``query``, ``rank``, ``target_id``,
    ``target_name``, ``score`` (sum of column correlations), ``overlap``, ``offset`` (position of
    the target's first column in the query; negative when the target starts before it), ``strand`` (of the target), ``z``, ``p_value``,
    ``e_value``, ``query_consensus``, ``target_consensus``; sorted by query then rank.
    """
    from scipy.stats import norm

    qs = _as_motif_list(query)
    db = _as_motif_list(database)
    if not qs or not db:
        raise InputError("match_motifs needs at least one query and one database motif.")
    # database columns, both strands
    targets = []  # (motif index, strand, pwm)
    for ti, m in enumerate(db):
        targets.append((ti, "+", np.asarray(m.pwm, float)))
        targets.append((ti, "-", _reverse_complement_pwm(m.pwm)))
    all_cols = _norm_columns(np.concatenate([np.asarray(m.pwm, float) for m in db], 0))
    by_width: dict[int, list[int]] = {}
    for k, (_, _, pwm) in enumerate(targets):
        by_width.setdefault(pwm.shape[0], []).append(k)
    n_targets = len(db)
    rows = []
    for q in qs:
        qpwm = np.asarray(q.pwm, float)
        q_start = 0
        if trim_ic is not None:
            qpwm, q_start = trim_pwm(qpwm, min_ic=trim_ic)
        Qn = _norm_columns(qpwm)
        wq = Qn.shape[0]
        null = Qn @ all_cols.T  # (wq, M)
        mu, var = null.mean(1), null.var(1)
        best = {}  # motif index -> (z, p, ...)
        for wt, ks in by_width.items():
            T = np.stack([_norm_columns(targets[k][2]) for k in ks])  # (n, wt, 4)
            C = np.einsum("ic,njc->inj", Qn, T)  # (wq, n, wt)
            n_off = wq + wt - 1
            P = np.zeros((wq, len(ks), wt + 2 * (wq - 1)))
            P[:, :, wq - 1:wq - 1 + wt] = C
            valid = np.zeros((wq, wt + 2 * (wq - 1)))
            valid[:, wq - 1:wq - 1 + wt] = 1.0
            ii = np.arange(wq)[:, None]
            aa = np.arange(n_off)[None, :] + ii  # (wq, n_off)
            S = P[ii, :, aa].sum(0)  # (n_off, n)
            V = valid[ii, aa]  # (wq, n_off)
            overlap = V.sum(0)
            M = (mu[:, None] * V).sum(0)
            Var = (var[:, None] * V).sum(0)
            need = min(min_overlap, wq, wt)
            ok = (overlap >= need) & (Var > 1e-12)
            if not ok.any():
                continue
            z = np.full((n_off, len(ks)), -np.inf)
            z[ok] = (S[ok] - M[ok, None]) / np.sqrt(Var[ok, None])
            n_align = int(ok.sum())
            a_best = z.argmax(0)
            for col, k in enumerate(ks):
                a = a_best[col]
                zz = z[a, col]
                ti, strand, _ = targets[k]
                if ti in best and best[ti]["z"] >= zz:
                    continue
                best[ti] = {"z": float(zz), "score": float(S[a, col]), "overlap": int(overlap[a]),
                            "offset": int(wq - 1 - a) + q_start, "strand": strand,
                            "n_align": n_align}
        if not best:
            continue
        res = pd.DataFrame.from_dict(best, orient="index")
        p = norm.sf(res["z"].to_numpy())
        n_tries = 2 * res["n_align"].to_numpy()
        with np.errstate(divide="ignore"):
            p_corr = -np.expm1(n_tries * np.log1p(-np.minimum(p, 1 - 1e-16)))
        res["p_value"] = np.maximum(p_corr, np.finfo(float).tiny)
        res["e_value"] = res["p_value"] * n_targets
        res = res.sort_values(["p_value", "z"], ascending=[True, False])
        if top is not None:
            res = res.head(int(top))
        for rank, (ti, r) in enumerate(res.iterrows(), 1):
            rows.append({"query": q.id, "rank": rank, "target_id": db[ti].id,
                         "target_name": db[ti].name, "score": r["score"],
                         "overlap": int(r["overlap"]), "offset": int(r["offset"]),
                         "strand": r["strand"], "z": r["z"], "p_value": r["p_value"],
                         "e_value": r["e_value"],
                         "query_consensus": Motif(q.id, "", qpwm).consensus(),
                         "target_consensus": db[ti].consensus()})
    return pd.DataFrame(rows, columns=["query", "rank", "target_id", "target_name", "score",
                                       "overlap", "offset", "strand", "z", "p_value", "e_value",
                                       "query_consensus", "target_consensus"])
