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
from ..data._grn_graph import correlation, expression_features
from ..data._link_split import LinkSplit
from ._grn_features import prior_positives
from ._grn_pair_features import expression_pair_features, resolve_pair_features
from ._grn_predictor import GRNPredictor
from ._grn_scoring import standardise_logits
from ._grn_stacking import (
    UNSEEN_MODELS,
    OutOfFold,
    RegulatorPartners,
    Stacker,
    UnseenRegime,
    degree_inputs,
    is_symmetric,
    unseen_inputs,
    unseen_target_group,
    unseen_tf_groups,
)

#: A validation part (for early stopping and the degree blend) is kept only when it would hold
#: at least this many known edges; smaller priors train for ``max_epochs`` without one.
MIN_VALIDATION_EDGES = 3

#: In an undirected prior (most known edges have their reverse, e.g. STRING) every model adds
#: each gene's strongest co-expression partners to its message-passing graph (``coexpression_k``,
#: the self-supervised mode's number), unless ``model_kwargs`` sets it or turns message passing
#: off: a gene without known edges is otherwise an isolated node, which no message reaches.
UNDIRECTED_COEXPRESSION_K = 10

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


def _pair_rows(model: GRNPredictor, model_kwargs: Mapping[str, Any],
               seed: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """``(n_tfs * n_genes, K)`` expression pair features of every candidate (row-major like
    :func:`_candidates`), the ones the models use (computed once, shared through the cache)."""
    kinds = resolve_pair_features(model_kwargs.get("pair_features", "auto"), "supervised")
    E = expression_pair_features(model._X, model.tf_index, kinds, seed=seed)
    return E.reshape(E.shape[0] * E.shape[1], len(kinds)), kinds


def _unseen_regulators(ctx: dict, z: np.ndarray, unseen: np.ndarray,
                       scores: np.ndarray) -> dict[str, float]:
    """Order the final model's candidates of regulators without known edges (``unseen``) by
    a regression fitted on :data:`~gnngeno.models._grn_stacking.UNSEEN_MODELS` extra models,
    each trained without any edge of a group of regulators (for a symmetric prior, without
    the edges into them too; for a directed prior one more, also without every edge into a
    group of targets, so that the regression learns what a target without known edges is
    worth); among its inputs, which targets the regulator's most
    co-expressed regulators with known edges reach (``RegulatorPartners``). The scores the
    main regression gave those candidates are handed out again in that order, so that their
    share of the overall ranking stays what the main regression (which has seen how rarely a
    regulator without known edges regulates) gives them. Return the groups' cross-fitted
    metrics (each group scored by the regression of the others), or ``{}`` when the prior has
    too few regulators."""
    from ..metrics import grn_metrics

    pos, cand, rng = ctx["pos"], ctx["cand"], ctx["rng"]
    n_genes = ctx["fit_kwargs"]["n_genes"]
    symmetric = is_symmetric(pos, n_genes)
    # a directed prior: one more model, also without every edge into a group of targets
    groups = unseen_tf_groups(pos, rng, n_groups=UNSEEN_MODELS + (not symmetric))
    if not groups:
        return {}
    regime = UnseenRegime(ctx["E"], ctx["kinds"], rng, n_genes=n_genes, symmetric=symmetric)
    # genes without known edges read the in-degree their expression predicts
    features = expression_features(ctx["X"], n_components=min(64, n_genes - 1),
                                   seed=ctx["seed"])
    hidden_targets = [np.zeros(0, np.int64)] * len(groups)  # the last model of a directed
    if not symmetric:                                        # prior also hides targets
        hidden_targets[-1] = unseen_target_group(pos, rng)
    tf_index = ctx["fit_kwargs"]["tf_index"]
    partners = RegulatorPartners(correlation(ctx["X"], rows=tf_index)[:, tf_index], tf_index,
                                 n_genes)
    for group, hidden in zip(groups, hidden_targets, strict=True):
        drop = (np.isin(pos[0], group) | np.isin(pos[1], hidden)
                | (symmetric & np.isin(pos[1], group)))
        seen = pos[:, ~drop]
        split = fit_split(seen, ctx["negatives"], rng=rng, method="unseen regulators",
                          **ctx["fit_kwargs"])
        model = _train(ctx["adata"], ctx["tfs"], split, ctx["mk"], ctx["tk"], ctx["seed"])
        z_g = standardise_logits(model._logits(cand), ctx["negative"]).astype(np.float32)
        d_g = unseen_inputs(seen, cand, n_genes, partners, features=features,
                            symmetric=symmetric, scale=pos.shape[1] / max(seen.shape[1], 1))
        mine = np.isin(cand[0], group)
        regime.add(z_g, d_g, ctx["known"] & mine, ctx["negative"] & mine)
    if unseen.any():  # their order from the own regression, their scores from the main one
        degrees = unseen_inputs(pos, cand, n_genes, partners, features=features,
                                symmetric=symmetric)
        order = regime.fit(range(len(groups)))(z[unseen], regime.inputs(degrees, unseen))
        rank = np.argsort(np.argsort(order, kind="stable"), kind="stable")
        scores[unseen] = np.sort(scores[unseen])[rank]
    found = []
    for j, (z_g, d_g, p, _, _, _) in enumerate(regime.groups):
        st = regime.fit([i for i in range(len(groups)) if i != j])
        n = np.flatnonzero(np.isin(cand[0], groups[j]) & ctx["negative"])
        s_pos, s_neg = st(z_g[p], regime.inputs(d_g, p)), st(z_g[n], regime.inputs(d_g, n))
        found.append(grn_metrics(np.r_[np.ones(p.size), np.zeros(n.size)], np.r_[s_pos, s_neg]))
    return {"auroc_unseen_tf": float(np.mean([m["auroc"] for m in found])),
            "auprc_ratio_unseen_tf": float(np.mean([m["auprc_ratio"] for m in found])),
            "n_unseen_tfs": int(groups[0].size), "n_unseen_models": len(groups)}


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
    - **Stacking and calibration**: each model's logits are standardised over its non-prior
      candidates; a logistic regression (:class:`Stacker`) of "known edge" on the
      standardised logit, the pair's expression features (absolute Pearson / Spearman
      correlation, GENIE3-style tree importance; those of ``model_kwargs["pair_features"]``),
      the ``log1p`` prior out-degree of the regulator and in-degree of the target, and the
      ``log1p`` number of each one's candidate pairs that are not known edges (counted on the
      edges the scoring model saw, rescaled to the whole prior; with the degrees they let the
      regression follow a regulator's known-edge density, which matters on dense references
      where a regulator binds a large share of the genes) is fitted on
      held-out known edges against non-prior candidates, both scored by the model that did
      not see them. A fold's known edges are scored with the regression of the *other*
      folds; the final model's candidates with the regression of all folds. The regression
      decides from known edges alone how much the graph model, each classic score and degree
      count (where the graph model adds nothing, the ranking falls back to the expression
      scores and the degree-only ranking), and a score is the probability that a pair is a
      known-type edge, on one scale for all models. Without cross-fitting the final model's
      logits are mapped by a fixed logistic curve at the prior's density.
    - **Regulators without known edges** (candidate regulators absent from the prior): the
      graph model has no regulatory evidence for them, and the regression above never saw
      one. Two extra models are trained, each without any edge of a disjoint random 20 % of
      the regulators that have known edges (for a symmetric prior such as STRING, without
      the edges into them too); for a directed prior a third one, without any edge of
      another 20 % of those regulators and without every edge into a random 20 % of the
      genes that are known targets and regulate none (genes held out of a prior at both
      ends of a pair are such genes). A regression of its own (logit, expression features
      less the regulator's mean over its candidates, target in-degree and whether the target
      has no known edge, a gene without known edges reading the in-degree its expression
      predicts; for a symmetric prior also the regulator's degree; and the share of the
      regulator's 10 most co-expressed regulators with known edges that have an edge into
      the target, co-expressed regulators often sharing targets) is fitted on those
      regulators' known edges against their other candidates and orders the final model's
      candidates of regulators without known edges;
      the scores the main regression gave those candidates are handed out again in that
      order (a regulator absent from a prior is often not a regulator at all, which the
      main regression knows from the degrees and the extra models, trained on regulators
      with edges, do not).
      Skipped (such regulators then share the regression of the rest) when a group would
      hold fewer than 3 regulators (priors whose edges come from fewer than 15 regulators).
    - **Undirected priors** (most known edges have their reverse, e.g. STRING): unless
      ``model_kwargs`` sets ``coexpression_k`` or turns message passing off, every model's
      message-passing graph also holds each gene's :data:`UNDIRECTED_COEXPRESSION_K`
      strongest co-expression partners, so that genes without known edges (isolated in the
      prior) receive messages.

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
    every TF x gene candidate that is not a known edge, all scored by the fold's model and
    the stacking regression of the other folds:
    ``auroc``, ``auprc``, ``auprc_ratio`` (AUPRC over the fold's density), ``epr`` (precision
    among as many top pairs as the fold has edges, over the density), plus ``n_folds``,
    ``n_known`` and ``n_negatives``; with the extra models also ``auroc_unseen_tf`` and
    ``auprc_ratio_unseen_tf`` (each group's known edges against its other candidates, scored
    by the regression of the other groups), ``n_unseen_tfs`` (regulators per group) and
    ``n_unseen_models`` (extra models).
    Regulatory edges missing from the prior count as negatives, so these figures are lower
    bounds of the recovery of true edges.
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
    if (mk.get("coexpression_k") is None and mk.get("message_passing", True)
            and is_symmetric(pos, n_genes)):
        mk["coexpression_k"] = UNDIRECTED_COEXPRESSION_K
        logger.info(f"the prior is undirected (most known edges have their reverse): each "
                    f"gene's {UNDIRECTED_COEXPRESSION_K} strongest co-expression partners join "
                    f"the message-passing graph.")
        final = GRNPredictor(adata, tfs=tfs, seed=seed, **mk)
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
    z_folds, held_of, deg_folds, rows = [], [], [], []
    for f in range(k):
        held, seen = pos[:, fold_of == f], pos[:, fold_of != f]
        deg_folds.append(degree_inputs(seen, cand, n_genes, len(tf_index),
                                       scale=pos.shape[1] / max(seen.shape[1], 1)))
        split = fit_split(seen, negatives, n_genes=n_genes, tf_index=tf_index,
                          val_fraction=val_fraction, rng=rng, method="cross-fit")
        model = _train(adata, tfs, split, mk, tk, seed)
        z_folds.append(standardise_logits(model._logits(cand), negative).astype(np.float32))
        held_of.append(np.isin(cand_key, held[0] * n_genes + held[1]))
        rows.append({"fold": f, "n_known": held.shape[1], "epochs": len(model.history_)})
    split = fit_split(pos, negatives, n_genes=n_genes, tf_index=tf_index,
                      val_fraction=val_fraction, rng=rng, method="final")
    if split.val_pairs.shape[1] == 0:
        logger.info(f"{pos.shape[1]} known edges: too few for a validation part, so training "
                    f"runs max_epochs without early stopping.")
    final.train(split=split, **tk)
    z = standardise_logits(final._logits(cand), negative)
    stack = OutOfFold(z_folds, held_of, deg_folds, E, negative, rng=rng,
                      n_known=pos.shape[1], names=kinds)
    scores = np.zeros(cand.shape[1])
    for f in range(k):
        st = stack.fit([g for g in range(k) if g != f])
        scores[held_of[f]] = st(*stack.fold_inputs(f, held_of[f]))
        rows[f].update(st.weights)
        if negative.any():
            s_neg = st(*stack.fold_inputs(f, negative))
            y = np.r_[np.ones(held_of[f].sum()), np.zeros(s_neg.size)]
            m = grn_metrics(y, np.r_[scores[held_of[f]], s_neg])
            rows[f].update({name: m[name] for name in (*CV_METRICS, "density")})
    folds = pd.DataFrame(rows)
    fill = negative if k else (cand[0] != cand[1])
    deg = degree_inputs(pos, cand, n_genes, len(tf_index))
    if k:
        scores[fill] = stack.fit(range(k))(z[fill], stack.inputs(deg, fill))
    else:
        plain = Stacker(np.zeros(0), np.zeros((0, 0)), np.zeros(0), np.zeros((0, 0)),
                        n_known=pos.shape[1], n_negative=int(negative.sum()))
        scores[fill] = plain(z[fill], np.zeros((int(fill.sum()), 0)))
    metrics = None
    if k and negative.any():
        metrics = {name: float(folds[name].mean()) for name in CV_METRICS}
        metrics.update(n_folds=k, n_known=int(pos.shape[1]), n_negatives=int(negative.sum()),
                       density=float(folds["density"].mean()))
    if k:  # regulators without known edges: a regression of their own
        unseen = fill & ~np.isin(cand[0], pos[0])
        ctx = dict(adata=adata, X=final._X, tfs=tfs, pos=pos, cand=cand, known=known,
                   negative=negative, negatives=negatives, E=E, kinds=kinds, mk=mk, tk=tk,
                   seed=seed, rng=rng,
                   fit_kwargs=dict(n_genes=n_genes, tf_index=tf_index,
                                   val_fraction=val_fraction))
        found = _unseen_regulators(ctx, z, unseen, scores)
        if metrics is not None:
            metrics.update(found)
    shape = (len(tf_index), n_genes)
    return CrossFit(final, scores.reshape(shape), known.reshape(shape), metrics, folds)


__all__ = ["CV_METRICS", "MIN_VALIDATION_EDGES", "UNDIRECTED_COEXPRESSION_K", "CrossFit",
           "cross_fit", "fit_split"]
