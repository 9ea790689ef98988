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
from ._grn_predictor import GRNPredictor

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
        One row per fold: its metrics, calibration and epochs.
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


def platt(z_pos: np.ndarray, z_neg: np.ndarray, *, pos_weight: float) -> tuple[float, float]:
    """Slope and intercept of a logistic fit of "known edge" on the standardised logit ``z``
    (Platt scaling), held-out known edges weighted ``pos_weight`` each so that they stand for
    the whole prior. The slope is kept positive (an uninformative model gives flat, not
    reversed, probabilities)."""
    from sklearn.linear_model import LogisticRegression

    if z_pos.size == 0 or z_neg.size == 0:
        return 1.0, float(np.log(max(z_pos.size * pos_weight, 1.0) / max(z_neg.size, 1)))
    z = np.concatenate([z_pos, z_neg])[:, None]
    y = np.concatenate([np.ones(z_pos.size), np.zeros(z_neg.size)])
    w = np.concatenate([np.full(z_pos.size, pos_weight), np.ones(z_neg.size)])
    fit = LogisticRegression(C=1.0).fit(z, y, sample_weight=w)
    return max(float(fit.coef_[0, 0]), 1e-3), float(fit.intercept_[0])


def _expit(v: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(np.asarray(v, dtype=np.float64))


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
      edges (out of fold) and every candidate that is not a known edge.
    - **Final model**: trained on all known edges less a ``val_fraction`` validation part
      used for early stopping and the degree blend; it scores the candidates that are not
      known edges. When the validation part would hold fewer than
      :data:`MIN_VALIDATION_EDGES` edges (priors of fewer than about 25 edges), every model
      trains on all its edges for ``max_epochs`` without early stopping.
    - **Calibration**: each model's logits are standardised over its non-prior candidates and
      mapped to a probability by a logistic fit (Platt scaling) of the fold's held-out known
      edges against the non-prior candidates; the final model uses the mean fit of the
      folds. A score is then the probability that a pair is a known-type edge, on one scale
      for all models.

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
    every TF x gene candidate that is not a known edge, all scored by the fold's model:
    ``auroc``, ``auprc``, ``auprc_ratio`` (AUPRC over the fold's density), ``epr`` (precision
    among as many top pairs as the fold has edges, over the density), plus ``n_folds``,
    ``n_known`` and ``n_negatives``. Regulatory edges missing from the prior count as
    negatives, so these figures are lower bounds of the recovery of true edges.
    """
    from ..metrics import grn_metrics

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
    scores = np.zeros(cand.shape[1])
    rows = []
    for f in range(k):
        held = pos[:, fold_of == f]
        split = fit_split(pos[:, fold_of != f], negatives, n_genes=n_genes, tf_index=tf_index,
                          val_fraction=val_fraction, rng=rng, method="cross-fit")
        model = _train(adata, tfs, split, mk, tk, seed)
        z = _standardise(model._logits(cand), negative)
        is_held = np.isin(cand_key, held[0] * n_genes + held[1])
        a, b = platt(z[is_held], z[negative], pos_weight=pos.shape[1] / held.shape[1])
        scores[is_held] = _expit(a * z[is_held] + b)
        row = {"fold": f, "n_known": held.shape[1], "slope": a, "intercept": b,
               "epochs": len(model.history_)}
        if negative.any():
            y = np.concatenate([np.ones(is_held.sum()), np.zeros(negative.sum())])
            m = grn_metrics(y, np.concatenate([z[is_held], z[negative]]))
            row.update({name: m[name] for name in (*CV_METRICS, "density")})
        rows.append(row)
    folds = pd.DataFrame(rows)
    split = fit_split(pos, negatives, n_genes=n_genes, tf_index=tf_index,
                      val_fraction=val_fraction, rng=rng, method="final")
    if split.val_pairs.shape[1] == 0:
        logger.info(f"{pos.shape[1]} known edges: too few for a validation part, so training "
                    f"runs max_epochs without early stopping.")
    final.train(split=split, **tk)
    z = _standardise(final._logits(cand), negative)
    if k:
        a, b = float(folds["slope"].mean()), float(folds["intercept"].mean())
    else:
        a, b = platt(np.zeros(0), z[negative], pos_weight=float(pos.shape[1]))
    fill = negative if k else (cand[0] != cand[1])
    scores[fill] = _expit(a * z[fill] + b)
    metrics = None
    if k and negative.any():
        metrics = {name: float(folds[name].mean()) for name in CV_METRICS}
        metrics.update(n_folds=k, n_known=int(pos.shape[1]), n_negatives=int(negative.sum()),
                       density=float(folds["density"].mean()))
    shape = (len(tf_index), n_genes)
    return CrossFit(final, scores.reshape(shape), known.reshape(shape), metrics, folds)


__all__ = ["CV_METRICS", "MIN_VALIDATION_EDGES", "CrossFit", "cross_fit", "fit_split", "platt"]
