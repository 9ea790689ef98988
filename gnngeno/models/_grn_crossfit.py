"""Cross-fitting of :class:`GRNPredictor` on a prior network: every known edge is scored by a
model that did not see it, the final ranking comes from a model that saw (almost) all of them,
and the scores of all models are put on one calibrated scale."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._logging import logger
from .._validate import InputError
from ..data._link_split import LinkSplit
from ._grn_features import prior_positives
from ._grn_pair_features import expression_pair_features, resolve_pair_features
from ._grn_predictor import GRNPredictor
from ._grn_stacking import (
    OutOfFold,
    Stacker,
    degree_inputs,
    is_symmetric,
    unseen_tf_groups,
)

#: A validation part (for early stopping and the degree blend) is kept only when it would hold
#: at least this many known edges; smaller priors train for ``max_epochs`` without one.
MIN_VALIDATION_EDGES = 3

#: Names of the cross-fitted metrics (means over the folds).
CV_METRICS = ("auroc", "auprc", "auprc_ratio", "epr")


@dataclass
class CrossFit:
    """What :func:`cross_fit` returns.

    Attributes
    ----------
    model
        The final :class:`GRNPredictor` (trained on the known edges less a small validation
        part, see :func:`cross_fit`).
    scores
        ``(n_tfs, n_genes)`` calibrated probabilities (rows in ``model.tfs`` order; self-pairs
        0); known edges carry their out-of-fold score.
    in_prior
        ``(n_tfs, n_genes)`` True where the pair is a known edge.
    metrics
        Cross-fitted metrics (``None`` without cross-fitting), see :func:`cross_fit`.
    folds
        One row per fold: its metrics, the weights of its stacking regression (on the model's
        standardised logit, on each expression feature and on the prior degrees of the
        regulator and the target) and intercept, and epochs.
    """

    model: GRNPredictor
    scores: np.ndarray
    in_prior: np.ndarray
    metrics: dict[str, float] | None
    folds: pd.DataFrame = field(default_factory=pd.DataFrame)


def _candidates(tf_index: np.ndarray, n_genes: int) -> np.ndarray:
    """``(2, n_tfs * n_genes)`` every TF x gene pair, row-major like the score matrix."""
    return np.stack([np.repeat(tf_index, n_genes), np.tile(np.arange(n_genes), len(tf_index))])


def fit_split(train_pos: np.ndarray, negatives: np.ndarray, *, n_genes: int,
              tf_index: np.ndarray, val_fraction: float, rng: np.random.Generator,
              method: str) -> LinkSplit:
    """A training split of ``train_pos`` with a ``val_fraction`` validation part (known edges
    plus as large a share of the ``negatives``, so that it keeps the network's density); no
    validation part when it would hold fewer than :data:`MIN_VALIDATION_EDGES` edges. The
    test part is empty: the caller scores what it held out itself."""
    n = train_pos.shape[1]
    n_val = int(round(val_fraction * n))
    if n_val < MIN_VALIDATION_EDGES or n - n_val < 1:
        n_val = 0
    p = rng.permutation(n)
    q = rng.permutation(negatives.shape[1])
    n_neg = int(round(val_fraction * negatives.shape[1])) if n_val else 0
    val_pairs = np.concatenate([train_pos[:, p[:n_val]], negatives[:, q[:n_neg]]], axis=1)
    val_labels = np.concatenate([np.ones(n_val), np.zeros(n_neg)])
    empty = np.zeros((2, 0), np.int64)
    return LinkSplit(n_genes, tf_index, train_pos[:, p[n_val:]], val_pairs.astype(np.int64),
                     val_labels, empty, np.zeros(0), neg_sources=tf_index,
                     neg_targets=np.arange(n_genes), method=method)


def _standardise(logits: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    """Logits centred and scaled by the mean and standard deviation of the ``negatives``
    (a boolean mask), so that the calibration of one model applies to another."""
    ref = logits[negatives] if negatives.any() else logits
    sd = float(np.std(ref))
    return (logits - float(np.mean(ref))) / (sd if sd > 0 else 1.0)


def _pair_rows(model: GRNPredictor, model_kwargs: Mapping[str, Any],
               seed: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """``(n_tfs * n_genes, K)`` expression pair features of every candidate (row-major like
    :func:`_candidates`), the ones the models use (computed once, shared through the cache)."""
    kinds = resolve_pair_features(model_kwargs.get("pair_features", "auto"), "supervised")
    E = expression_pair_features(model._X, model.tf_index, kinds, seed=seed)
    return E.reshape(E.shape[0] * E.shape[1], len(kinds)), kinds


#: Cross-fitted metrics of regulators without known edges (the folds' unseen groups).
UNSEEN_METRICS = ("auroc_unseen_tf", "auprc_ratio_unseen_tf")


def _fold_metrics(st: Stacker, stack: OutOfFold, f: int, cand: np.ndarray, mine: np.ndarray,
                  negative: np.ndarray, unseen: np.ndarray) -> dict[str, float]:
    """Fold ``f``'s metrics: its random part of the known edges of regulators the model saw
    edges of, against their non-prior candidates; and the known edges of the fold's unseen
    regulators against theirs."""
    from ..metrics import grn_metrics

    out: dict[str, float] = {}
    off = np.isin(cand[0], unseen)
    for pos, neg, suffix in ((mine & ~off, negative & ~off, ""),
                             (stack.held_of[f] & off, negative & off, "_unseen_tf")):
        if not (pos.any() and neg.any()):
            continue
        s_pos, s_neg = st(*stack.fold_inputs(f, pos)), st(*stack.fold_inputs(f, neg))
        m = grn_metrics(np.r_[np.ones(s_pos.size), np.zeros(s_neg.size)], np.r_[s_pos, s_neg])
        if suffix:
            out.update({f"{n}{suffix}": m[n] for n in ("auroc", "auprc_ratio")})
        else:
            out.update({n: m[n] for n in (*CV_METRICS, "density")})
    return out


def _train(adata, tfs, split: LinkSplit, model_kwargs, train_kwargs, seed) -> GRNPredictor:
    if split.val_pairs.shape[1] == 0:
        logger.info(f"{split.train_pos.shape[1]} known edges: too few for a validation part, "
                    f"so training runs max_epochs without early stopping.")
    model = GRNPredictor(adata, tfs=tfs, seed=seed, **model_kwargs)
    return model.train(split=split, **train_kwargs)


def cross_fit(adata, prior: pd.DataFrame, *, tfs: Sequence[str], cv_folds: int = 5,
              val_fraction: float = 0.1, model_kwargs: Mapping[str, Any] | None = None,
              train_kwargs: Mapping[str, Any] | None = None, seed: int = 0) -> CrossFit:
    """Score every TF -> gene candidate with everything a prior network holds, and measure how
    well held-out known edges are recovered.

    - **Cross-fitting**: the known edges are cut into ``cv_folds`` random folds (at most one
      per edge). For each fold a model is trained on the other folds and scores the fold's
      edges (out of fold) and every candidate that is not a known edge. Each fold also holds
      out every edge of its own random group of :data:`~gnngeno.models._grn_stacking.
      UNSEEN_TF_SHARE` (10 %) of the regulators with known edges (for a symmetric prior such
      as STRING, the edges into them too), so that the stacking below learns how to rank
      the candidates of a regulator without known edges; groups are skipped when they would
      hold fewer than 3 regulators (priors whose edges come from fewer than 30 regulators).
    - **Final model**: trained on all known edges less a ``val_fraction`` validation part
      used for early stopping and the degree blend; it scores the candidates that are not
      known edges. When the validation part would hold fewer than
      :data:`MIN_VALIDATION_EDGES` edges (priors of fewer than about 25 edges), every model
      trains on all its edges for ``max_epochs`` without early stopping.
    - **Stacking and calibration**: each model's logits are standardised over its non-prior
      candidates; a logistic regression (:class:`Stacker`) of "known edge" on the
      standardised logit, the pair's expression features (absolute Pearson / Spearman
      correlation, GENIE3-style tree importance; those of ``model_kwargs["pair_features"]``)
      and the ``log1p`` prior out-degree of the regulator and in-degree of the target
      (counted on the edges the scoring model saw, rescaled to the whole prior), with
      separate weights for regulators without known edges, is fitted on held-out known
      edges against non-prior candidates, both scored by the model that did not see them. A fold's known edges are scored with the regression of the
      *other* folds; the final model's candidates with the regression of all folds. The
      regression decides from known edges alone how much the graph model, each classic
      score and degree count (where the graph model adds nothing, the ranking falls back to
      the expression scores and the degree-only ranking), and a score is the probability that a pair is a known-type edge,
      on one scale for all models. Without cross-fitting the final model's logits are
      mapped by a fixed logistic curve at the prior's density.

    Parameters
    ----------
    adata
        Cells x genes AnnData.
    prior
        Known edges ``source, target`` (gene names).
    tfs
        Candidate regulators.
    cv_folds
        Folds (>= 2; at most the number of known edges). 0 or 1: no cross-fitting (known
        edges are then scored by the final model, which saw them, and no metric is made).
    val_fraction
        Share of each model's training edges kept for validation.
    model_kwargs, train_kwargs
        Options of :class:`GRNPredictor` and of :meth:`GRNPredictor.train` (``split`` and
        ``fractions`` excepted).
    seed
        Seed of the folds, the validation parts and the models.

    Returns
    -------
    :class:`CrossFit`. Its ``metrics`` are means over the folds of :func:`gnngeno.metrics.
    grn_metrics` where the positives are the fold's held-out known edges and the negatives
    every TF x gene candidate that is not a known edge (both without the fold's group of
    unseen regulators), all scored by the fold's model and the stacking regression of the
    other folds:
    ``auroc``, ``auprc``, ``auprc_ratio`` (AUPRC over the fold's density), ``epr`` (precision
    among as many top pairs as the fold has edges, over the density), plus ``n_folds``,
    ``n_known`` and ``n_negatives``; with unseen groups also ``auroc_unseen_tf`` and
    ``auprc_ratio_unseen_tf`` (the groups' known edges against their other candidates) and
    ``n_unseen_tfs`` (regulators per group). Regulatory edges missing from the prior count as
    negatives, so these figures are lower bounds of the recovery of true edges.
    """
    mk, tk = dict(model_kwargs or {}), dict(train_kwargs or {})
    for name in ("split", "fractions"):
        if name in tk:
            raise InputError(f"{name}= does not apply to cross-fitting; leave it out.")
    final = GRNPredictor(adata, tfs=tfs, seed=seed, **mk)
    n_genes, tf_index = final.n_genes, final.tf_index
    pos = prior_positives(prior, final.var_names, tf_index)
    pos = np.unique(pos[:, pos[0] != pos[1]], axis=1)
    if pos.shape[1] == 0:
        raise InputError("the prior network holds only self-loops; pass TF -> target edges.")
    cand = _candidates(tf_index, n_genes)
    cand_key = cand[0] * n_genes + cand[1]
    known = np.isin(cand_key, pos[0] * n_genes + pos[1])
    negative = ~known & (cand[0] != cand[1])
    negatives = cand[:, negative]
    rng = np.random.default_rng(seed)
    k = min(int(cv_folds or 0), pos.shape[1])
    k = k if k >= 2 else 0  # a single fold would train on nothing
    fold_of = rng.permutation(pos.shape[1]) % k if k else np.zeros(pos.shape[1], int)
    E, kinds = _pair_rows(final, mk, seed)
    groups = unseen_tf_groups(pos, k, rng)
    symmetric = is_symmetric(pos, n_genes)
    z_folds, held_of, oof_of, deg_folds, rows = [], [], [], [], []
    for f in range(k):
        out = (fold_of == f) | np.isin(pos[0], groups[f])
        if symmetric:  # a regulator without out-edges has no in-edges either
            out |= np.isin(pos[1], groups[f])
        held, seen = pos[:, out], pos[:, ~out]
        deg_folds.append(degree_inputs(seen, cand, n_genes,
                                       scale=pos.shape[1] / max(seen.shape[1], 1)))
        split = fit_split(seen, negatives, n_genes=n_genes, tf_index=tf_index,
                          val_fraction=val_fraction, rng=rng, method="cross-fit")
        model = _train(adata, tfs, split, mk, tk, seed)
        z_folds.append(_standardise(model._logits(cand), negative).astype(np.float32))
        held_of.append(np.isin(cand_key, held[0] * n_genes + held[1]))
        mine = pos[:, fold_of == f]
        oof_of.append(np.isin(cand_key, mine[0] * n_genes + mine[1]))
        rows.append({"fold": f, "n_known": mine.shape[1], "n_unseen_tfs": groups[f].size,
                     "epochs": len(model.history_)})
    split = fit_split(pos, negatives, n_genes=n_genes, tf_index=tf_index,
                      val_fraction=val_fraction, rng=rng, method="final")
    if split.val_pairs.shape[1] == 0:
        logger.info(f"{pos.shape[1]} known edges: too few for a validation part, so training "
                    f"runs max_epochs without early stopping.")
    final.train(split=split, **tk)
    z = _standardise(final._logits(cand), negative)
    stack = OutOfFold(z_folds, held_of, deg_folds, E, negative, rng=rng,
                      n_known=pos.shape[1], names=kinds, unseen=any(g.size for g in groups))
    scores = np.zeros(cand.shape[1])
    for f in range(k):
        st = stack.fit([g for g in range(k) if g != f])
        scores[oof_of[f]] = st(*stack.fold_inputs(f, oof_of[f]))
        rows[f].update(st.weights)
        if negative.any():
            rows[f].update(_fold_metrics(st, stack, f, cand, oof_of[f], negative, groups[f]))
    folds = pd.DataFrame(rows)
    fill = negative if k else (cand[0] != cand[1])
    if k:
        deg = degree_inputs(pos, cand, n_genes)
        scores[fill] = stack.fit(range(k))(z[fill], stack.inputs(z, deg, fill))
    else:
        plain = Stacker(np.zeros(0), np.zeros((0, 0)), np.zeros(0), np.zeros((0, 0)),
                        n_known=pos.shape[1], n_negative=int(negative.sum()))
        scores[fill] = plain(z[fill], np.zeros((int(fill.sum()), 0)))
    metrics = None
    if k and negative.any():
        metrics = {name: float(folds[name].mean()) for name in CV_METRICS}
        if all(name in folds and folds[name].notna().any() for name in UNSEEN_METRICS):
            metrics.update({name: float(folds[name].mean()) for name in UNSEEN_METRICS})
            metrics["n_unseen_tfs"] = int(folds["n_unseen_tfs"].iloc[0])
        metrics.update(n_folds=k, n_known=int(pos.shape[1]), n_negatives=int(negative.sum()),
                       density=float(folds["density"].mean()))
    shape = (len(tf_index), n_genes)
    return CrossFit(final, scores.reshape(shape), known.reshape(shape), metrics, folds)


__all__ = ["CV_METRICS", "MIN_VALIDATION_EDGES", "UNSEEN_METRICS", "CrossFit", "cross_fit",
           "fit_split"]
