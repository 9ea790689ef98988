"""``tl.infer_grn``: rank regulator -> gene edges of an AnnData, from a prior network with a
cross-fitted graph neural network or from expression alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import _keys as keys
from .._compat import renamed_kwargs
from .._logging import logger
from .._validate import InputError, check_adata, check_choice

#: Boolean column of the edge table: the pair is an edge of the prior network.
IN_PRIOR = "in_prior"
#: Integer column of the edge table: 1 for the best-scored pair.
RANK = "rank"
METHODS = ("auto", "gnn", "expression")


def regulators(adata, tfs: Sequence[str] | None) -> list[str]:
    """The candidate regulators: ``tfs``, else ``adata.var["is_tf"]``, else every gene
    (BEELINE's convention when no TF list is known)."""
    if tfs is not None:
        return [tfs] if isinstance(tfs, str) else [str(t) for t in tfs]
    if keys.IS_TF_KEY in adata.var:
        return adata.var_names[adata.var[keys.IS_TF_KEY].astype(bool)].astype(str).tolist()
    logger.info(f"no TF list (tfs= or adata.var[{keys.IS_TF_KEY!r}]): every one of the "
                f"{adata.n_vars} genes is a candidate regulator.")
    return adata.var_names.astype(str).tolist()


def edge_table(scores: np.ndarray, in_prior: np.ndarray, tfs: Sequence[str],
               genes: Sequence[str], *, exclude_prior: bool = False) -> pd.DataFrame:
    """``source, target, score, rank, in_prior`` of every regulator -> gene candidate (no
    self-pairs), sorted by decreasing score; ``exclude_prior`` drops the known edges."""
    src = np.repeat(np.asarray(tfs, dtype=object), len(genes))
    tgt = np.tile(np.asarray(genes, dtype=object), len(tfs))
    df = pd.DataFrame({keys.SOURCE: src, keys.TARGET: tgt,
                       keys.SCORE: np.asarray(scores, dtype=np.float64).ravel(),
                       IN_PRIOR: np.asarray(in_prior, dtype=bool).ravel()})
    keep = df[keys.SOURCE] != df[keys.TARGET]
    if exclude_prior:
        keep &= ~df[IN_PRIOR]
    df = df[keep].sort_values(keys.SCORE, ascending=False, kind="stable")
    df.insert(3, RANK, np.arange(1, len(df) + 1))
    return df.reset_index(drop=True)


def _expression_scores(adata, layer, tf_index: np.ndarray, seed: int,
                       expression_method: str) -> np.ndarray:
    from .._settings import settings
    from ..data._grn_graph import log_normalise_if_counts
    from ..models import score_from_expression

    X = log_normalise_if_counts(adata.X if layer is None else adata.layers[layer])
    return np.asarray(score_from_expression(X, tf_index, method=expression_method, seed=seed,
                                            n_threads=settings.n_threads), dtype=np.float64)


_EXPRESSION_LABELS = {"ensemble": "diffusion adjacency and tree importances, mean rank",
                      "trees": "tree importances in context (GENIE3 + CLR)",
                      "diffusion": "a diffusion model's learnable adjacency"}


def _rank(adata, prior, tf_names, *, method, expression_method, layer, split, fractions,
          cv_folds, mk, tk, seed):
    """(scores, in_prior, model or None, extra results) of :func:`infer_grn`."""
    from ..models import GRNPredictor, cross_fit
    from ..models._grn_crossfit import MIN_VALIDATION_EDGES
    from ..models._grn_features import prior_positives

    genes = pd.Index(adata.var_names.astype(str))
    extra: dict[str, Any] = {}
    if method == "expression":
        from .._validate import check_tfs
        from ..models._grn_expression import resolve_expression_method

        tf_names = check_tfs(tf_names, list(genes))
        used = resolve_expression_method(expression_method, len(genes))
        extra["expression_method"] = used
        logger.info(f"expression only, {len(genes)} genes: " + _EXPRESSION_LABELS.get(used, used))
        S = _expression_scores(adata, layer, genes.get_indexer(tf_names), seed, used)
        return S, np.zeros(S.shape, bool), None, tf_names, extra
    if prior is not None and split is None:
        fit = cross_fit(adata, prior, tfs=tf_names, cv_folds=cv_folds, model_kwargs=mk,
                        train_kwargs=tk, seed=seed)
        if fit.metrics is not None:
            extra["cv_metrics"] = fit.metrics
        return fit.scores, fit.in_prior, fit.model, fit.model.tfs, extra
    model = GRNPredictor(adata, tfs=tf_names, seed=seed, **mk)
    if prior is None and split is None:  # its own labels: a validation part, no test part
        n_pos = tk.get("self_supervised_fraction", 0.1) * len(model.tfs) * model.n_genes
        fractions = (0.9, 0.1, 0.0) if 0.1 * n_pos >= MIN_VALIDATION_EDGES else (1.0, 0.0, 0.0)
    model.train(prior, split="random" if split is None else split, fractions=fractions, **tk)
    known = np.zeros((len(model.tfs), model.n_genes), bool)
    if prior is None and split is None:
        return model.get_scores(), known, model, model.tfs, extra
    t = model.split_
    pos = (t.train_pos if prior is None
           else prior_positives(prior, model.var_names, model.tf_index))
    known[pd.Index(model.tf_index).get_indexer(pos[0]), pos[1]] = True
    given = not isinstance(split, str)  # self-made labels (no prior, own split) give no metric
    if ((prior is not None or given) and t.test_pairs.shape[1]
            and 0 < t.test_labels.sum() < len(t.test_labels)):
        extra["metrics"] = model.evaluate("test")
    return model.get_scores(), known, model, model.tfs, extra


@renamed_kwargs(encoder="conv", num_layers="n_layers")
def infer_grn(
    adata,
    *,
    prior: pd.DataFrame | None = None,
    tfs: Sequence[str] | None = None,
    layer: str | None = None,
    method: str = "auto",
    expression_method: str = "auto",
    cv_folds: int = 5,
    exclude_prior: bool = False,
    truth: pd.DataFrame | None = None,
    split: str | Mapping[str, pd.DataFrame] | None = None,
    fractions: Sequence[float] = (0.7, 0.1, 0.2),
    conv: str = "gcn",
    decoder: str = "bilinear",
    n_layers: int = 2,
    activation: str = "relu",
    dropout: float = 0.2,
    l1: float = 0.0,
    l2: float = 0.0,
    max_epochs: int = 300,
    patience: int | None = 30,
    model_kwargs: dict[str, Any] | None = None,
    train_kwargs: dict[str, Any] | None = None,
    key_added: str = keys.GRN_SCORES_KEY,
    return_model: bool = False,
    copy: bool = False,
    seed: int | None = None,
):
    """Infer a gene-regulatory network: score every regulator -> gene candidate.

    - **With a prior** (known regulator -> target edges), a :class:`gnngeno.models.GRNPredictor`
      learns from it by cross-fitting (:func:`gnngeno.models.cross_fit`): the known edges are
      cut into ``cv_folds`` folds and each is scored by a model trained on the others, so every
      known edge gets an out-of-fold score and the reported metrics measure edges no model
      saw; the other candidates are ranked by a final model trained on all known edges (less
      a small validation part for early stopping). The model's decoder reads each pair's
      absolute Pearson / Spearman correlation and GENIE3-style tree importance beside the
      gene embeddings and degrees, and a logistic regression fitted on out-of-fold known
      edges (stacking) weighs the model's score against those classic scores, so the ranking
      falls back to them where the graph adds nothing. Scores are calibrated probabilities
      on one scale for all these models.
    - **Without a prior**, the ranking comes from expression alone
      (:func:`gnngeno.models.score_from_expression`; ``method="gnn"``: the graph neural
      network trained self-supervised on the strongest co-expression pairs). No accuracy
      figure is made: there is nothing to measure against unless ``truth`` is given.

    Parameters
    ----------
    adata
        Cells x genes AnnData (counts or log-normalised values).
    prior
        Known edges ``source, target`` (gene names), e.g. from :func:`gnngeno.io.read_network`.
    tfs
        Candidate regulators. Default: ``adata.var["is_tf"]`` (see :func:`gnngeno.pp.mark_tfs`),
        else every gene (one log line says so).
    layer
        Expression layer (``None``: ``adata.X``).
    method
        ``"auto"`` (the cross-fitted GNN with a prior, expression alone without), ``"gnn"``
        or ``"expression"`` (no prior allowed).
    expression_method
        The expression-only scorer (``method`` of :func:`gnngeno.models.score_from_expression`):
        ``"auto"`` (the trees below 100 genes, the ensemble of a diffusion model's adjacency
        and the trees from there), ``"trees"``, ``"diffusion"``, ``"ensemble"``, ``"pearson"``,
        ``"spearman"``, ``"genie3"`` or ``"grnboost2"``. Only without a prior.
    cv_folds
        Folds of the prior for cross-fitting (at most one per known edge); 0: no cross-fitting
        (known edges are then scored by the model that learned them, and no metric is made).
    exclude_prior
        Keep only the candidates that are not known edges in the edge table.
    truth
        Reference edges ``source, target`` to score the ranking against (over the rows of the
        edge table), e.g. a curated network the model did not learn from.
    split, fractions
        Evaluate on one split instead of cross-fitting (as
        :func:`gnngeno.tl.benchmark_grn` does): ``"random"``, ``"tf"``, ``"target"``, given
        pair tables or a :class:`gnngeno.data.LinkSplit`, with train / validation / test
        ``fractions``; the ranking then comes from the model trained on the training part and
        ``.uns[key_added]["metrics"]`` holds its test metrics. ``None``: cross-fitting.
    conv, decoder, n_layers, activation, dropout
        Model options: graph convolution (``"gcn"``/``"gat"``/``"gatv2"``), decoder
        (``"bilinear"``/``"dot"``/``"mlp"``), encoder depth, non-linearity and dropout.
    l1, l2
        Lasso / ridge / elastic-net penalty.
    max_epochs, patience
        Training length and early stopping on validation AUPRC. A model whose validation part
        would hold fewer than three known edges trains ``max_epochs`` without early stopping.
    model_kwargs
        Further options of :class:`gnngeno.models.GRNPredictor` (e.g. ``n_hidden``,
        ``n_latent``, ``n_pcs``, ``heads``, ``node_bias``, ``coexpression_k``,
        ``pair_features``, ``message_passing=False`` for the no-graph ablation).
    train_kwargs
        Further options of :meth:`GRNPredictor.train` (e.g. ``lr``, ``device``,
        ``negative_ratio``, ``supervision_fraction``, ``warmup_epochs``, ``val_smoothing``).
    key_added
        Output key.
    return_model
        Also return the trained (final) model, ``None`` for the expression ranking:
        ``(result, model)``, where ``result`` is what the call returns without it.
    copy
        Work on (and return) a copy of ``adata``.
    seed
        Random seed (default ``settings.seed``); two calls with the same seed give the same
        scores.

    Returns
    -------
    ``None``, or the new AnnData with ``copy=True``; ``(that, model)`` with
    ``return_model=True``. Writes

    - ``.varp[key_added]``: sparse genes x genes scores, row = regulator (source), column =
      target; other rows and self-pairs are empty (known edges included);
    - ``.uns[key_added]["edges"]``: DataFrame ``source, target, score, rank, in_prior`` sorted
      by decreasing score (known edges carry their out-of-fold score);
    - ``.uns[key_added]["cv_metrics"]`` (with a prior): ``auroc``, ``auprc``, ``auprc_ratio``
      and ``epr`` (early precision ratio) of the held-out known edges against every candidate
      that is not a known edge, averaged over the folds, with ``n_folds``, ``n_known``,
      ``n_negatives`` and ``density``; true edges missing from the prior count as negatives;
      where the prior's edges come from at least 15 regulators, ``auroc_unseen_tf`` and
      ``auprc_ratio_unseen_tf`` measure the ranking of regulators without known edges (two
      extra models, three for a directed prior, each trained without every edge of
      ``n_unseen_tfs`` regulators, see
      :func:`gnngeno.models.cross_fit`);
    - ``.uns[key_added]["truth_metrics"]`` (with ``truth``): :func:`gnngeno.metrics.grn_metrics`
      of the edge table's rows against ``truth``;
    - ``.uns[key_added]["metrics"]`` (with ``split``): test metrics of the split;
    - ``.uns[key_added]["params"]``: the parameters used;
    - ``.uns[key_added]["expression_method"]`` (without a prior): the expression-only scorer
      that ran (``"auto"`` resolved to ``"trees"`` or ``"ensemble"`` by the number of genes).

    Examples
    --------
    >>> import gnngeno as gg
    >>> adata, net = gg.datasets.simulate(n_cells=100, n_genes=40, n_tfs=5, seed=0)
    >>> gg.tl.infer_grn(adata, prior=net, max_epochs=5, cv_folds=2)
    >>> adata.uns["gnngeno_grn"]["edges"].columns.tolist()
    ['source', 'target', 'score', 'rank', 'in_prior']
    """
    from .._settings import resolve_seed
    from ..metrics import evaluate_grn
    from ..models._grn_expression import EXPRESSION_METHODS

    check_adata(adata, layer=layer, min_cells=3, min_genes=2)
    check_choice(method, METHODS, "method")
    check_choice(expression_method, EXPRESSION_METHODS, "expression_method")
    if cv_folds is None or int(cv_folds) < 0:
        raise InputError(f"cv_folds must be >= 0 (0: no cross-fitting), got {cv_folds}.")
    if method == "auto":
        method = "gnn" if prior is not None or split is not None else "expression"
    if method == "expression" and (prior is not None or split is not None):
        raise InputError("method='expression' ranks from expression alone; to learn from the "
                         "prior pass method='gnn' (or 'auto').")
    if expression_method != "auto" and method != "expression":
        raise InputError(f"expression_method={expression_method!r} sets the ranking from "
                         "expression alone, which runs without a prior; leave the prior out "
                         "(method='expression') or leave expression_method at 'auto'.")
    adata = adata.copy() if copy else adata
    seed = resolve_seed(seed)
    mk = {"conv": conv, "decoder": decoder, "n_layers": n_layers, "activation": activation,
          "dropout": dropout, **dict(model_kwargs or {})}
    tk = {"l1": l1, "l2": l2, "max_epochs": max_epochs, "patience": patience,
          **dict(train_kwargs or {})}
    S, known, model, tf_names, result = _rank(
        adata, prior, regulators(adata, tfs), method=method,
        expression_method=expression_method, layer=layer, split=split,
        fractions=fractions, cv_folds=int(cv_folds), mk=mk, tk=tk, seed=seed)
    genes = adata.var_names.astype(str)
    tf_index = pd.Index(genes).get_indexer(tf_names)
    rows, cols = np.repeat(tf_index, len(genes)), np.tile(np.arange(len(genes)), len(tf_index))
    keep = rows != cols
    adata.varp[key_added] = sp.csr_matrix((S.ravel()[keep], (rows[keep], cols[keep])),
                                          shape=(len(genes), len(genes)))
    edges = edge_table(S, known, tf_names, genes, exclude_prior=exclude_prior)
    result = {"edges": edges, **result}
    if truth is not None:
        result["truth_metrics"] = evaluate_grn(edges, truth, pairs=edges[[keys.SOURCE,
                                                                          keys.TARGET]])
    result["params"] = {
        "method": method, "mode": (model.mode_ if model is not None else "expression"),
        "cv_folds": int(cv_folds) if prior is not None and split is None else 0,
        "exclude_prior": bool(exclude_prior),
        "split": "cross-fit" if split is None else (split if isinstance(split, str) else "given"),
        "seed": seed, "n_tfs": len(tf_names), "n_known_edges": int(known.sum()),
        **({"best_epoch": model.history_.best_epoch, "train_seconds": model.train_time_}
           if model is not None else {}),
        **{k: v for k, v in {**mk, **tk}.items() if isinstance(v, int | float | str | bool)},
    }
    if split is not None:
        result["params"]["fractions"] = list(fractions)
    adata.uns[key_added] = result
    out = adata if copy else None
    return (out, model) if return_model else out


__all__ = ["IN_PRIOR", "METHODS", "RANK", "edge_table", "infer_grn", "regulators"]
