"""``tl.benchmark_grn``: a GRN model beside the baselines it must beat, on splits and negatives
that degree alone cannot win.

Supervised GRN link prediction is mostly measured on degree: under uniformly drawn negatives
a score that knows only how many targets a TF has matches or beats graph neural networks
(Stock et al., bioRxiv 2025.12.19.695616; Aiyappa et al., ICML 2025). Every table therefore
holds the model, its ablation without message passing, degree-only, co-expression, a
GENIE3-style tree ensemble, GRNBoost2-style gradient boosting and a shuffled-prior control, on
the same test pairs, over held-out TFs / targets / both and with degree-matched negatives (see
:mod:`gnngeno.data` splits). :func:`gnngeno.tl.paired_grn_test` then pairs the model with the
best baseline over seeds and datasets.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import _keys as keys
from .._validate import InputError, check_choice

GRN_METHODS = ("gcn", "gat", "gatv2", "no-graph", "shuffled-prior", "cross-fitted", "pearson",
               "spearman", "degree", "degree-expression", "tree", "grnboost2")
#: The rows of every protocol table.
DEFAULT_METHODS = ("gcn", "no-graph", "shuffled-prior", "degree", "degree-expression", "pearson",
                   "spearman", "tree", "grnboost2")
BENCHMARK_SPLITS = ("legacy", "random", "tf", "target", "both", "cross-reference")
#: ``split`` of the rows that score the legacy models on the repaired split files.
REPAIRED_SPLIT = "legacy (repaired)"
_LABELS = {"pearson": "|Pearson|", "spearman": "|Spearman|", "degree": "degree-only",
           "degree-expression": "degree from expression",
           "tree": "tree (GENIE3-style)", "grnboost2": "GRNBoost2-style boosting",
           "cross-fitted": "gnngeno grn (cross-fitted)"}
_METRICS = ("auroc", "auprc", "auprc_ratio", "epr", "epr_tf", "auroc_low_degree",
            "auroc_high_degree", "full_auroc", "full_auprc", "full_auprc_ratio", "density",
            "n_test", "n_pos")


def _positions(net: pd.DataFrame, genes: pd.Index) -> np.ndarray:
    pos = np.stack([genes.get_indexer(net[keys.SOURCE].astype(str)),
                    genes.get_indexer(net[keys.TARGET].astype(str))])
    return pos[:, (pos >= 0).all(axis=0)]


def _legacy_split(bench, genes, tf_index, negatives, undirected, seed):
    from ..data import degree_matched_pairs, split_from_pairs

    if not bench.splits:
        raise InputError(f"{bench.name or 'the benchmark'} holds no split files; use "
                         "split='random', 'tf', 'target' or 'both'.")
    sp_ = split_from_pairs(bench.splits, genes=list(genes), tf_index=tf_index)
    sp_.info["undirected"] = bool(undirected)
    if negatives == "degree-matched":
        test_pos = sp_.test_pairs[:, sp_.test_labels == 1]
        all_pos = test_pos
        test_pos, neg = degree_matched_pairs(
            test_pos, n_genes=len(genes), undirected=undirected,
            forbidden=[_positions(bench.network, genes), sp_.train_pos, sp_.val_pairs,
                       sp_.train_neg], seed=seed)
        sp_.test_pairs = np.concatenate([test_pos, neg], axis=1)
        sp_.test_labels = np.r_[np.ones(test_pos.shape[1]), np.zeros(neg.shape[1])]
        if test_pos.shape[1] < all_pos.shape[1]:
            sp_.info["all_test_positives"] = all_pos
    return sp_


def make_benchmark_split(bench, *, split: str, negatives: str = "uniform", seed: int = 0,
                         fractions: Sequence[float] = (0.7, 0.1, 0.2), reference=None,
                         undirected: bool | None = None, negative_ratio: float | None = None,
                         tfs_with_positive: bool = False):
    """The :class:`gnngeno.data.LinkSplit` of a benchmark for one protocol.

    Parameters
    ----------
    bench
        A :class:`gnngeno.io.GRNBenchmark`.
    split
        ``"legacy"`` (the folder's split files), ``"random"``, ``"tf"``, ``"target"``,
        ``"both"`` or ``"cross-reference"`` (train on ``bench.network``, test on
        ``reference.network`` without the training edges).
    negatives, negative_ratio, tfs_with_positive
        Test negatives, see :func:`gnngeno.data.split_grn`.
    seed, fractions
        Of the split.
    reference
        The second benchmark of the same cell type for ``"cross-reference"``.
    undirected
        The reference network is undirected (default: for STRING).
    """
    from ..data import NEGATIVE_SCHEMES, cross_reference_split, split_grn
    from ..io import is_undirected

    check_choice(split, BENCHMARK_SPLITS, "split")
    check_choice(negatives, NEGATIVE_SCHEMES, "negatives")
    genes = pd.Index([str(g) for g in bench.adata.var_names])
    tf_index = genes.get_indexer(bench.tfs)
    und = is_undirected(bench.name) if undirected is None else bool(undirected)
    if split == "legacy":
        return _legacy_split(bench, genes, tf_index, negatives, und, seed)
    pos = _positions(bench.network, genes)
    pos = pos[:, np.isin(pos[0], tf_index)]
    opts = {"negatives": negatives, "negative_ratio": negative_ratio,
            "tfs_with_positive": tfs_with_positive, "undirected": und, "seed": seed}
    if split == "cross-reference":
        if reference is None:
            raise InputError("split='cross-reference' needs reference=: a second benchmark of "
                             "the same cell type (e.g. Specific when training on Non-Specific).")
        other = _positions(reference.network, genes)
        return cross_reference_split(pos, other, n_genes=len(genes), tf_index=tf_index,
                                     validation_fraction=float(fractions[1]) or 0.1, **opts)
    return split_grn(pos, n_genes=len(genes), tf_index=tf_index, method=split,
                     fractions=fractions, **opts)


def shuffled_prior(split, *, seed: int = 0):
    """A copy of ``split`` whose training edges have their TFs permuted among the edges.

    Each TF keeps its number of training targets and each target its in-degree, but which TF
    regulates which target is random: a model that scores as well with it as with the real
    prior has learnt degrees, not regulation. Shuffled edges that fall on a validation or
    test pair, repeats and self-pairs are dropped; given training negatives are kept unless
    they became a shuffled positive.
    """
    import copy

    from ..data import pair_keys

    rng = np.random.default_rng(seed)
    pos = split.train_pos.copy()
    pos[0] = pos[0, rng.permutation(pos.shape[1])]
    held = np.concatenate([split.val_pairs, split.test_pairs], axis=1)
    keep = (pos[0] != pos[1]) & ~np.isin(pair_keys(pos, split.n_genes),
                                         pair_keys(held, split.n_genes))
    out = copy.copy(split)
    out.train_pos = np.unique(pos[:, keep], axis=1)
    if split.train_neg is not None:  # given negatives stay, unless now a (shuffled) positive
        neg = split.train_neg
        out.train_neg = neg[:, ~np.isin(pair_keys(neg, split.n_genes),
                                        pair_keys(out.train_pos, split.n_genes))]
    return out


def _model_scores(method, bench, sp_, seed, model_kwargs, train_kwargs) -> tuple[np.ndarray, int]:
    """``(n_tfs, n_genes)`` scores of GRNPredictor (rows follow ``sp_.tf_index``), epochs.

    The model is built and trained as :func:`gnngeno.tl.infer_grn` does for a given split
    (its defaults, then ``model_kwargs`` / ``train_kwargs``), and ranks with ``get_scores``.
    """
    from ..models import GRNPredictor

    genes = [str(g) for g in bench.adata.var_names]
    tfs = [genes[i] for i in sp_.tf_index]
    mk = {"conv": "gcn", **dict(model_kwargs or {})}
    if method not in ("no-graph", "shuffled-prior"):
        mk["conv"] = method
    tk = {"max_epochs": 300, "patience": 30, **dict(train_kwargs or {})}
    if method == "no-graph":
        mk["message_passing"] = False
    split = shuffled_prior(sp_, seed=seed) if method == "shuffled-prior" else sp_
    model = GRNPredictor(bench.adata, tfs=tfs, seed=seed, **mk)
    model.train(split=split, **tk)
    return np.asarray(model.get_scores(), dtype=float), len(model.history_)


def _cross_fitted_scores(bench, sp_, seed, model_kwargs, train_kwargs) -> tuple[np.ndarray, None]:
    """``(n_tfs, n_genes)`` scores (rows follow ``sp_.tf_index``) of :func:`infer_grn` with its
    defaults, as ``gnngeno grn --prior`` runs it (cross-fitted, :func:`gnngeno.models.cross_fit`),
    the prior being every training and validation positive of the split: the user's path,
    given what the split lets a user know."""
    from ._grn import infer_grn

    genes = pd.Index(bench.adata.var_names.astype(str))
    known = np.concatenate([sp_.train_pos, sp_.val_pairs[:, sp_.val_labels == 1]], axis=1)
    prior = pd.DataFrame({keys.SOURCE: genes[known[0]],
                          keys.TARGET: genes[known[1]]}).drop_duplicates()
    out = infer_grn(bench.adata, prior=prior, tfs=list(genes[sp_.tf_index]), seed=seed,
                    model_kwargs=model_kwargs, train_kwargs=train_kwargs, copy=True)
    return out.varp[keys.GRN_SCORES_KEY][sp_.tf_index].toarray(), None  # TF rows only


def _held_out_ends(sp_) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Genes held out of training as regulators / as targets by an inductive split (``None``:
    none on that side)."""
    held = sp_.info.get("test_groups")
    return (held if sp_.method in ("tf", "both") else None,
            held if sp_.method in ("target", "both") else None)


def _method_scores(m, bench, sp_, seed, cache, model_kwargs, train_kwargs, tree_kwargs,
                   boosting_kwargs, undirected: bool):
    from ..baselines import (
        boosting_scores,
        correlation_scores,
        degree_scores,
        expression_degree_scores,
        tree_scores,
    )

    X = bench.adata.X
    if m == "cross-fitted":
        return _cross_fitted_scores(bench, sp_, seed, model_kwargs, train_kwargs)
    if m in ("gcn", "gat", "gatv2", "no-graph", "shuffled-prior"):
        return _model_scores(m, bench, sp_, seed, model_kwargs, train_kwargs)
    if m == "degree":
        return degree_scores(sp_.train_pos, sp_.n_genes, sp_.tf_index,
                             undirected=undirected), None
    if m == "degree-expression":  # the held-out genes' degrees predicted from expression
        sources, targets = _held_out_ends(sp_)
        return expression_degree_scores(
            X, sp_.train_pos, sp_.tf_index, undirected=undirected, seed=seed,
            unseen_sources=() if sources is None else sources,
            unseen_targets=() if targets is None else targets), None
    key = (m, tuple(sp_.tf_index))  # expression-only scores: the same for every split
    if key not in cache:
        if m == "tree":
            cache[key] = tree_scores(X, sp_.tf_index, seed=seed, **(tree_kwargs or {}))
        elif m == "grnboost2":
            cache[key] = boosting_scores(X, sp_.tf_index, seed=seed, **(boosting_kwargs or {}))
        else:
            cache[key] = correlation_scores(X, sp_.tf_index, method=m)
    return cache[key], None


def _label(m: str, model_kwargs) -> str:
    conv = str((model_kwargs or {}).get("conv", "gcn")).upper()
    if m == "no-graph":
        return f"{conv} without message passing"
    if m == "shuffled-prior":
        return f"{conv} on a shuffled prior"
    return _LABELS.get(m, m.upper())


def evaluate_split(S: np.ndarray, sp_) -> dict[str, float]:
    """Every protocol metric of one ``(n_tfs, n_genes)`` score matrix on a split.

    Sampled pairs (the split's test pairs): ``auroc``, ``auprc``, ``auprc_ratio``, ``epr``,
    ``epr_tf`` (TF edges only), ``auroc_low_degree`` / ``auroc_high_degree`` (TFs of training
    out-degree up to / above the median); full candidate space (every TF x gene pair of the
    test part, i.e. of the held-out TFs / targets of an inductive split, but training and
    validation pairs): ``full_auroc``, ``full_auprc``, ``full_auprc_ratio``.
    """
    from ..metrics import auroc_by_degree, epr_tf_edges, full_space_metrics, grn_metrics

    row_of = np.full(sp_.n_genes, -1, np.int64)
    row_of[sp_.tf_index] = np.arange(len(sp_.tf_index))
    pairs, y = sp_.test_pairs, sp_.test_labels
    s = S[row_of[pairs[0]], pairs[1]]
    res = grn_metrics(y, s)
    out_deg = np.bincount(sp_.train_pos[0], minlength=sp_.n_genes)
    strata = auroc_by_degree(y, s, out_deg[pairs[0]])
    exclude = [sp_.train_pos, sp_.val_pairs] + ([] if sp_.train_neg is None else [sp_.train_neg])
    sources, targets = _held_out_ends(sp_)  # an inductive split ranks its own part only
    # degree-matched splits of dense references score a subset of the test positives; the
    # full candidate space has all of them
    full = full_space_metrics(S, sp_.info.get("all_test_positives", pairs[:, y == 1]),
                              tf_index=sp_.tf_index,
                              exclude=np.concatenate(exclude, axis=1), sources=sources,
                              targets=targets)
    return {**{k: res[k] for k in ("auroc", "auprc", "auprc_ratio", "epr", "density")},
            "epr_tf": epr_tf_edges(y, s, pairs[0], tfs=sp_.tf_index),
            "auroc_low_degree": strata["auroc_low_degree"],
            "auroc_high_degree": strata["auroc_high_degree"],
            "full_auroc": full["auroc"], "full_auprc": full["auprc"],
            "full_auprc_ratio": full["auprc_ratio"], "n_test": int(len(y)),
            "n_pos": int(y.sum())}


def _repaired_bench(bench, split: str, undirected):
    """``repair_grn_splits(bench)`` for ``split="legacy"``; a clear error otherwise."""
    from ..io import repair_grn_splits

    if split != "legacy":
        raise InputError(f"repaired=True scores a repaired copy of the folder's own split files, "
                         f"so it needs split='legacy' (got split={split!r}); generated splits "
                         "hold no pair that training has seen.")
    if not bench.splits:
        raise InputError(f"{bench.name or 'the benchmark'} holds no split files to repair; "
                         "pass repaired=False or another split.")
    return repair_grn_splits(bench, undirected=undirected)


def _seed_splits(bench, repaired_bench, *, split, schemes, seed, **opts) -> dict:
    """``{(split label, negatives): LinkSplit}`` of one seed; the repaired copies of a legacy
    split keep the original candidate TFs, so that the same score matrices apply."""
    out = {(split, neg): make_benchmark_split(bench, split=split, negatives=neg, seed=seed, **opts)
           for neg in schemes}
    if repaired_bench is None:
        return out
    for neg in schemes:
        orig = out[(split, neg)]
        rep = make_benchmark_split(repaired_bench, split=split, negatives=neg, seed=seed, **opts)
        # repair_grn_splits drops validation and test rows only: the training part is the same,
        # and dropping pairs can only remove candidate TFs
        rep.tf_index, rep.neg_sources = orig.tf_index, orig.neg_sources
        out[(REPAIRED_SPLIT, neg)] = rep
    return out


def benchmark_grn(
    bench,
    *,
    split: str = "legacy",
    negatives: str | Sequence[str] = "uniform",
    methods: Sequence[str] = DEFAULT_METHODS,
    seed: int = 0,
    seeds: Sequence[int] | None = None,
    fractions: Sequence[float] = (0.7, 0.1, 0.2),
    reference=None,
    undirected: bool | None = None,
    negative_ratio: float | None = None,
    tfs_with_positive: bool = False,
    repaired: bool = False,
    model_kwargs: dict[str, Any] | None = None,
    train_kwargs: dict[str, Any] | None = None,
    tree_kwargs: dict[str, Any] | None = None,
    boosting_kwargs: dict[str, Any] | None = None,
    cache: dict | None = None,
    out: str | Path | None = None,
) -> pd.DataFrame:
    """Score a GRN benchmark with the model and every baseline on the same test pairs.

    Parameters
    ----------
    bench
        A :class:`gnngeno.io.GRNBenchmark` (``adata``, ``network``, ``tfs``, ``splits``).
    split
        What the test controls for. ``"legacy"``: the folder's own split files (transductive:
        TFs and targets are seen in training, so TF degree is a strong signal);
        ``"random"``: random edges (transductive as well); ``"tf"``: held-out TFs (no
        training edge of a test TF: a per-TF bias cannot help); ``"target"``: held-out
        targets; ``"both"``: held-out TFs and targets (neither end of a test pair is seen in
        training); ``"cross-reference"``: train on ``bench.network``, test on
        ``reference.network`` without the training edges (generalisation to another kind of
        ground truth of the same cells).
    negatives
        ``"uniform"`` (every TF x gene non-edge of the test part, or the given files'
        negatives for ``"legacy"``) and/or ``"degree-matched"`` (negatives with exactly the
        TFs and targets of the test positives, each as often: degree-only ranks them at
        chance; on a dense reference the sampled-pair metrics cover the matched subset of
        the test positives, see :func:`gnngeno.data.degree_matched_pairs`, and ``n_pos`` says
        how many; the full-space metrics keep every test positive). Several schemes share
        one training per seed.
    methods
        Rows: ``"gcn"``/``"gat"``/``"gatv2"`` (:class:`gnngeno.models.GRNPredictor` built and
        trained as :func:`gnngeno.tl.infer_grn` does for a given split), ``"no-graph"`` (the
        same model without message passing), ``"shuffled-prior"`` (the model trained on
        training edges whose TFs are permuted), ``"cross-fitted"`` (the ranking
        ``gnngeno grn --prior`` makes with its defaults, :func:`gnngeno.models.cross_fit`, its
        prior being the split's training and validation positives: eight models per run, not
        in the default rows), ``"degree"`` (degree-only; for an undirected
        reference both ends count every edge of the gene, see
        :func:`gnngeno.baselines.degree_scores`), ``"degree-expression"`` (degree-only
        with the degrees of the held-out TFs / targets predicted from their expression, see
        :func:`gnngeno.baselines.expression_degree_scores`: what a model can learn from
        degrees alone on an inductive split; degree-only on the others), ``"pearson"``,
        ``"spearman"`` (absolute correlation), ``"tree"`` (GENIE3-style extra-trees, Huynh-Thu
        et al., *PLoS ONE* 2010) and ``"grnboost2"`` (GRNBoost2-style gradient boosting with
        out-of-bag early stopping, Moerman et al., *Bioinformatics* 2019).
    seed, seeds
        Seed of the split, negatives and models; ``seeds`` runs several (one row each).
    fractions
        Train / validation / test fractions of generated splits.
    reference
        Second benchmark of the same cell type, for ``split="cross-reference"``.
    undirected
        Treat the reference as undirected (default: for STRING).
    negative_ratio, tfs_with_positive
        See :func:`gnngeno.data.split_grn`.
    repaired
        With ``split="legacy"``: also score every method on a repaired copy of the split
        files (:func:`gnngeno.io.repair_grn_splits`: the validation and test pairs that
        training has seen are dropped, i.e. test negatives that are training positives, or
        whose reverse is for an undirected reference, test positives that are training
        positives and test pairs that are training negatives), in rows whose ``split`` is
        ``"legacy (repaired)"``, beside the original rows. The repair leaves the training file
        untouched, so nothing is retrained: the same score matrices are ranked on the
        repaired test pairs (degree-matched negatives are drawn anew for them, with the same
        seed). The models' early stopping read the original validation pairs, leaking ones
        included. The split files' leaks are counted in ``bench.leaks``.
    model_kwargs, train_kwargs
        Passed to :class:`gnngeno.models.GRNPredictor` / its ``train`` (``model_kwargs``'
        ``conv`` sets the encoder of the ablation and the control).
    tree_kwargs
        Passed to :func:`gnngeno.baselines.tree_scores` (e.g. ``n_estimators``, ``n_jobs``).
    boosting_kwargs
        Passed to :func:`gnngeno.baselines.boosting_scores` (e.g. ``max_estimators``,
        ``learning_rate``).
    cache
        A dict reused across calls to keep expression-only scores (correlation, tree,
        boosting) of the same benchmark; the tree and boosting scores of the first seed are
        reused.
    out
        CSV file to write the table to.

    Returns
    -------
    Tidy DataFrame, one row per dataset x split x negatives x method x seed: the metrics of
    :func:`evaluate_split` plus ``wall_s``, ``cpu_s`` (training or scoring time; 0 for an
    expression-only baseline taken from ``cache``) and ``epochs``. Hyper-parameters are never
    chosen on test pairs; early stopping uses validation pairs.
    """
    schemes = [negatives] if isinstance(negatives, str) else list(negatives)
    for m in methods:
        check_choice(m, GRN_METHODS, "method")
    from ..io import is_undirected

    und = is_undirected(bench.name) if undirected is None else bool(undirected)
    rep_bench = _repaired_bench(bench, split, undirected) if repaired else None
    cache = {} if cache is None else cache
    opts = {"fractions": fractions, "reference": reference, "undirected": undirected,
            "negative_ratio": negative_ratio, "tfs_with_positive": tfs_with_positive}
    rows = []
    for sd in ([seed] if seeds is None else list(seeds)):
        splits = _seed_splits(bench, rep_bench, split=split, schemes=schemes, seed=sd, **opts)
        train_split = splits[(split, schemes[0])]  # every scheme has the same training part
        for m in methods:
            w, c = time.perf_counter(), time.process_time()
            S, epochs = _method_scores(m, bench, train_split, sd, cache, model_kwargs,
                                       train_kwargs, tree_kwargs, boosting_kwargs, und)
            wall, cpu = time.perf_counter() - w, time.process_time() - c
            for (sp_name, neg), sp_ in splits.items():
                rows.append({"dataset": bench.name, "split": sp_name, "negatives": neg,
                             "method": _label(m, model_kwargs), "seed": sd,
                             **evaluate_split(S, sp_), "wall_s": wall, "cpu_s": cpu,
                             "epochs": epochs})
    table = pd.DataFrame(rows)
    if out is not None:
        table.to_csv(out, index=False)
    return table


__all__ = ["BENCHMARK_SPLITS", "DEFAULT_METHODS", "GRN_METHODS", "REPAIRED_SPLIT",
           "benchmark_grn", "evaluate_split", "make_benchmark_split", "shuffled_prior"]
