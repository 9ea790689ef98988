"""GRN baselines over TF x gene candidates: co-expression, degree-only, GENIE3-style extra-trees
and GRNBoost2-style gradient boosting.

Every function returns a ``(n_tfs, n_genes)`` score matrix (rows follow ``tf_index``, columns
the genes); :func:`grn_baseline` wraps them for an AnnData and returns a ranked edge table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import _keys as keys
from .._logging import progress
from .._settings import resolve_seed
from .._validate import InputError, align_network, check_adata, check_choice, check_tfs
from ..data._grn_graph import (
    correlation,
    expression_features,
    log_normalise_if_counts,
    predicted_log_degree,
    standardise_genes,
)

GRN_BASELINES = ("pearson", "spearman", "degree", "degree-expression", "tree", "boosting")


def correlation_scores(X, tf_index: Sequence[int], *, method: str = "pearson") -> np.ndarray:
    """``|Pearson|`` or ``|Spearman|`` correlation of each TF with each gene.

    Parameters
    ----------
    X
        Cells x genes expression (counts are log-normalised first).
    tf_index
        Gene positions of the TFs.
    method
        ``"pearson"`` or ``"spearman"``.
    """
    check_choice(method, ("pearson", "spearman"), "method")
    return np.abs(correlation(X, method=method, rows=np.asarray(tf_index)))


def degree_scores(train_pos: np.ndarray, n_genes: int, tf_index: Sequence[int], *,
                  undirected: bool = False) -> np.ndarray:
    """Degree-only score ``(1 + TF out-degree) * (1 + target in-degree)`` in the training graph.

    Knows nothing about expression; on transductive splits (TFs seen in training) it is a
    strong baseline because TF out-degree is very informative. With ``undirected=True`` (a
    reference such as STRING, whose edges have no direction) both ends count a gene's degree
    over every edge it touches, each undirected edge once: a gene held out as a target still
    shows its degree through the edges it has as a regulator.
    """
    pos = np.asarray(train_pos, dtype=np.int64).reshape(2, -1)
    out_deg, in_deg = _degrees(pos, n_genes, undirected)
    return np.outer(1.0 + out_deg[np.asarray(tf_index)], 1.0 + in_deg)


def _degrees(pos: np.ndarray, n_genes: int, undirected: bool) -> tuple[np.ndarray, np.ndarray]:
    """Out- and in-degrees of ``pos`` (for an undirected reference both are a gene's degree
    over every edge it touches, each undirected edge once)."""
    if undirected:
        keys_ = np.unique(np.minimum(pos[0], pos[1]) * n_genes + np.maximum(pos[0], pos[1]))
        deg = (np.bincount(keys_ // n_genes, minlength=n_genes)
               + np.bincount(keys_ % n_genes, minlength=n_genes)).astype(float)
        return deg, deg
    return (np.bincount(pos[0], minlength=n_genes).astype(float),
            np.bincount(pos[1], minlength=n_genes).astype(float))


def expression_degree_scores(X, train_pos: np.ndarray, tf_index: Sequence[int], *,
                             unseen_sources: Sequence[int] = (),
                             unseen_targets: Sequence[int] = (), undirected: bool = False,
                             n_components: int = 64, seed: int | None = None) -> np.ndarray:
    """Degree-only scores in which genes held out of training get the degree their expression
    predicts.

    Degree-only gives every gene without training edges degree 0, so it cannot rank the pairs
    of held-out TFs or targets. How many edges a gene has is, however, partly written in its
    expression profile, and any model with expression node features can learn that from the
    training degrees alone. Here a ridge regression (penalty chosen by leave-one-out over a
    fixed grid) from the genes' expression features (:func:`gnngeno.data.expression_features`)
    to ``log(1 + out-degree)``, fitted on the TFs not in ``unseen_sources``, predicts the
    out-degree of ``unseen_sources``; the same for in-degrees, fitted on the genes not in
    ``unseen_targets`` (for an undirected reference one regression of the degree over every
    edge, for the unseen genes that have no training edge at all: a held-out STRING target
    still shows the edges it has as a regulator). Other genes keep their training degrees, so
    on transductive splits (nothing unseen) this is degree-only.

    Parameters
    ----------
    X
        Cells x genes expression (counts are log-normalised first).
    train_pos
        ``(2, E)`` training edges (gene positions).
    tf_index
        Gene positions of the TFs (the rows).
    unseen_sources, unseen_targets
        Genes held out of training as regulators / as targets (e.g. the held-out TFs of a
        held-out-TF split).
    undirected
        The reference has no direction (STRING), as in :func:`degree_scores`.
    n_components, seed
        Of the expression features.

    Returns
    -------
    ``(n_tfs, n_genes)`` scores ``(1 + out-degree) * (1 + in-degree)`` with predicted degrees.
    """
    pos = np.asarray(train_pos, dtype=np.int64).reshape(2, -1)
    n, tf_index = X.shape[1], np.asarray(tf_index, dtype=np.int64)  # X is read only if needed
    out_deg, in_deg = (d.copy() for d in _degrees(pos, n, undirected))
    src = np.unique(np.asarray(unseen_sources, dtype=np.int64))
    tgt = np.unique(np.asarray(unseen_targets, dtype=np.int64))
    if undirected:
        src = tgt = np.union1d(src, tgt)
    if len(src) or len(tgt):
        feats = expression_features(X, n_components=min(n_components, n - 1),
                                    seed=resolve_seed(seed))
        is_tf = np.zeros(n, bool)
        is_tf[tf_index] = True
        every = np.ones(n, bool)  # an undirected degree is learnt over every gene
        for deg, unseen, pool in ((out_deg, src, every if undirected else is_tf),
                                  (in_deg, tgt, every)):
            fit = pool & ~np.isin(np.arange(n), unseen)
            blank = unseen[deg[unseen] == 0]  # an undirected gene may show edges it keeps
            if len(blank) and fit.sum() >= 3:
                deg[blank] = np.expm1(predicted_log_degree(feats, deg, fit, blank))
    return np.outer(1.0 + out_deg[tf_index], 1.0 + in_deg)


def tree_scores(X, tf_index: Sequence[int], *, targets: Sequence[int] | None = None,
                n_estimators: int = 30, max_features: str | float = "sqrt",
                min_samples_leaf: int = 5, rank: bool = False, seed: int | None = None,
                n_jobs: int | None = None) -> np.ndarray:
    """GENIE3-style scores: per target gene, an extra-trees regression on the TFs' expression;
    the importance of TF ``t`` for target ``g`` is the score of ``t -> g``.

    As in GENIE3, each target's expression is standardised and a TF is not used to predict
    itself. Importances are normalised to sum to 1 per target (scores comparable across
    targets).

    Parameters
    ----------
    X
        Cells x genes expression (counts are log-normalised first).
    tf_index
        Gene positions of the TFs (the regressors).
    targets
        Gene positions to score (default all); other columns are 0.
    n_estimators, max_features, min_samples_leaf
        Of :class:`sklearn.ensemble.ExtraTreesRegressor`.
    rank
        Replace each gene's expression by its ranks over cells first (ties averaged). Extra-trees
        draw split thresholds uniformly between a regulator's minimum and maximum, so on skewed
        or zero-inflated expression ranks spread the thresholds over the cells.
    seed
        Random seed (default ``settings.seed``).
    n_jobs
        Threads of the tree ensemble.
    """
    M = log_normalise_if_counts(X)
    if rank:
        M = rank_genes(M)
    M = standardise_genes(M).astype(np.float32)
    tf_index = np.asarray(tf_index, dtype=np.int64)
    targets = np.arange(M.shape[1]) if targets is None else np.asarray(targets, dtype=np.int64)
    seed = resolve_seed(seed)
    out = np.zeros((len(tf_index), M.shape[1]))
    for g in progress(targets, desc="tree baseline"):
        use = tf_index != g
        if use.sum() == 0 or M[:, g].std() == 0:
            continue
        out[use, g] = _extra_trees_importances(
            M[:, tf_index[use]], M[:, g], n_estimators=n_estimators, max_features=max_features,
            min_samples_leaf=min_samples_leaf, seed=seed + int(g), n_jobs=n_jobs)
    return out


def _extra_trees_importances(X: np.ndarray, y: np.ndarray, *, n_estimators: int,
                             max_features: str | float, min_samples_leaf: int, seed: int,
                             n_jobs: int | None) -> np.ndarray:
    """``ExtraTreesRegressor(random_state=seed, ...).fit(X, y).feature_importances_``, the
    same numbers, without the ensemble's per-tree cloning and dispatch (which cost more than
    the small trees of one target; a test holds the two equal).

    ``X`` is float32 without missing values; the trees are fitted one after another, in
    threads when ``n_jobs`` asks for more than one.
    """
    from sklearn import config_context
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.tree import ExtraTreeRegressor

    if n_jobs not in (None, 1):
        model = ExtraTreesRegressor(n_estimators=n_estimators, max_features=max_features,
                                    min_samples_leaf=min_samples_leaf, random_state=seed,
                                    n_jobs=n_jobs)
        return model.fit(X, y).feature_importances_
    states = np.random.RandomState(seed)  # the ensemble seeds its trees in this order
    target = np.ascontiguousarray(y, dtype=np.float64).reshape(-1, 1)
    kept = []
    with config_context(skip_parameter_validation=True):
        for _ in range(n_estimators):
            tree = ExtraTreeRegressor(max_features=max_features,
                                      min_samples_leaf=min_samples_leaf,
                                      random_state=states.randint(np.iinfo(np.int32).max))
            tree.fit(X, target, check_input=False)
            if tree.tree_.node_count > 1:
                kept.append(tree.feature_importances_)
    if not kept:
        return np.zeros(X.shape[1])
    mean = np.mean(kept, axis=0, dtype=np.float64)
    return mean / np.sum(mean)


def rank_genes(M: np.ndarray) -> np.ndarray:
    """Ranks of each gene's (column's) values over cells, ties averaged (1 = lowest)."""
    from scipy.stats import rankdata

    return rankdata(np.asarray(M, dtype=np.float64), axis=0)


class _OOBPlateau:
    """Early stopping of a gradient-boosting fit, as GRNBoost2 does it: stop once the mean
    out-of-bag improvement over the last ``window`` trees is negative."""

    def __init__(self, window: int) -> None:
        self.window = window

    def __call__(self, i: int, model, _locals) -> bool:
        if i < self.window:
            return False
        return bool(np.mean(model.oob_improvement_[i - self.window + 1:i + 1]) < 0)


def boosting_scores(X, tf_index: Sequence[int], *, targets: Sequence[int] | None = None,
                    learning_rate: float = 0.01, max_estimators: int = 5000,
                    max_features: float = 0.1, subsample: float = 0.9, window: int = 25,
                    seed: int | None = None) -> np.ndarray:
    """GRNBoost2-style scores: per target gene, a stochastic gradient-boosting regression on the
    TFs' expression, stopped early; the importance of TF ``t`` for target ``g`` is the score of
    ``t -> g``.

    As in GRNBoost2 (Moerman et al., *Bioinformatics* 2019): shallow trees (depth 3), a small
    learning rate, a random 10 % of the regulators per split, 90 % of the cells per tree, and
    fitting stops once the out-of-bag improvement over the last ``window`` trees is negative. The
    target is not standardised and the importances are multiplied by the number of trees fitted,
    so a target that more trees explain weighs more (GRNBoost2's convention). A TF is not used to
    predict itself.

    Parameters
    ----------
    X
        Cells x genes expression (counts are log-normalised first).
    tf_index
        Gene positions of the TFs (the regressors).
    targets
        Gene positions to score (default all); other columns are 0.
    learning_rate, max_features, subsample
        Of :class:`sklearn.ensemble.GradientBoostingRegressor`.
    max_estimators
        Upper bound on the trees per target.
    window
        Trees over which the out-of-bag improvement is averaged for early stopping.
    seed
        Random seed (default ``settings.seed``).
    """
    from sklearn.ensemble import GradientBoostingRegressor

    if not 0.0 < subsample < 1.0:
        raise InputError(f"subsample must be in (0, 1) (out-of-bag cells drive the early "
                         f"stopping), got {subsample}.")
    M = log_normalise_if_counts(X).astype(np.float32)
    tf_index = np.asarray(tf_index, dtype=np.int64)
    targets = np.arange(M.shape[1]) if targets is None else np.asarray(targets, dtype=np.int64)
    seed = resolve_seed(seed)
    out = np.zeros((len(tf_index), M.shape[1]))
    for g in progress(targets, desc="boosting baseline"):
        use = tf_index != g
        if use.sum() == 0 or M[:, g].std() == 0:
            continue
        model = GradientBoostingRegressor(learning_rate=learning_rate, n_estimators=max_estimators,
                                          max_features=max_features, subsample=subsample,
                                          random_state=seed + int(g))
        model.fit(M[:, tf_index[use]], M[:, g], monitor=_OOBPlateau(window))
        out[use, g] = model.feature_importances_ * model.n_estimators_
    return out


def _edges(scores: np.ndarray, tfs: list[str], genes: list[str]) -> pd.DataFrame:
    src = np.repeat(tfs, len(genes))
    tgt = np.tile(genes, len(tfs))
    df = pd.DataFrame({keys.SOURCE: src, keys.TARGET: tgt, keys.SCORE: scores.ravel()})
    df = df[df[keys.SOURCE] != df[keys.TARGET]]
    return df.sort_values(keys.SCORE, ascending=False, kind="stable").reset_index(drop=True)


def grn_baseline(adata, method: str, *, tfs: Sequence[str] | None = None,
                 prior: pd.DataFrame | None = None, layer: str | None = None,
                 seed: int | None = None, undirected: bool = False, **kwargs) -> pd.DataFrame:
    """Score every TF -> gene candidate of an AnnData with a baseline.

    Parameters
    ----------
    adata
        Cells x genes AnnData.
    method
        ``"pearson"``, ``"spearman"``, ``"degree"`` (needs ``prior``: the training graph),
        ``"degree-expression"`` (degree-only in which the regulators without a known edge get
        the out-degree their expression predicts, see :func:`expression_degree_scores`;
        needs ``prior``), ``"tree"`` (GENIE3-style) or ``"boosting"`` (GRNBoost2-style).
    tfs
        TF names (default: ``adata.var["is_tf"]``).
    prior
        Known edges ``source, target`` (for ``"degree"`` and ``"degree-expression"``).
    layer
        Expression layer (``None``: ``adata.X``).
    seed
        For ``"degree-expression"``, ``"tree"`` and ``"boosting"``.
    undirected
        For ``"degree"`` and ``"degree-expression"``: the prior's edges have no direction
        (e.g. STRING), so a gene's degree counts every edge it touches (see
        :func:`degree_scores`).
    **kwargs
        Passed to :func:`tree_scores` or :func:`boosting_scores`.

    Returns
    -------
    DataFrame ``source, target, score`` sorted by decreasing score.
    """
    check_choice(method, GRN_BASELINES, "method")
    X = check_adata(adata, layer=layer, min_cells=3, min_genes=2)
    genes = [str(g) for g in adata.var_names]
    if tfs is None:
        if keys.IS_TF_KEY not in adata.var:
            raise InputError(f"pass tfs=... or mark TFs first (gnngeno.pp.mark_tfs) so that "
                             f"adata.var[{keys.IS_TF_KEY!r}] exists.")
        tfs = adata.var_names[adata.var[keys.IS_TF_KEY].astype(bool)].tolist()
    tf_names = check_tfs(tfs, genes)
    tf_index = pd.Index(genes).get_indexer(tf_names)
    if method in ("pearson", "spearman"):
        S = correlation_scores(X, tf_index, method=method)
    elif method in ("degree", "degree-expression"):
        if prior is None:
            raise InputError(f"method={method!r} needs prior= (the known edges whose degrees "
                             "are used).")
        net = align_network(prior, genes, what="the prior network")
        idx = pd.Index(genes)
        pos = np.stack([idx.get_indexer(net[keys.SOURCE]), idx.get_indexer(net[keys.TARGET])])
        if method == "degree":
            S = degree_scores(pos, len(genes), tf_index, undirected=undirected)
        else:  # the regulators without a known edge: their out-degree from their expression
            known = np.union1d(pos[0], pos[1]) if undirected else np.unique(pos[0])
            S = expression_degree_scores(X, pos, tf_index, undirected=undirected, seed=seed,
                                         unseen_sources=np.setdiff1d(tf_index, known))
    elif method == "boosting":
        S = boosting_scores(X, tf_index, seed=seed, **kwargs)
    else:
        S = tree_scores(X, tf_index, seed=seed, **kwargs)
    return _edges(S, tf_names, genes)
