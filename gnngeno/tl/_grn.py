"""``tl.infer_grn``: rank TF -> gene edges of an AnnData with a graph neural network."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import _keys as keys
from .._validate import check_adata


def infer_grn(
    adata,
    *,
    prior: pd.DataFrame | None = None,
    tfs: Sequence[str] | None = None,
    layer: str | None = None,
    split: str | Mapping[str, pd.DataFrame] = "random",
    fractions: Sequence[float] = (0.7, 0.1, 0.2),
    encoder: str = "gcn",
    decoder: str = "bilinear",
    num_layers: int = 2,
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
    """Infer a gene-regulatory network: score every TF -> gene candidate.

    With a ``prior`` (known TF -> target edges) a :class:`gnngeno.models.GRNPredictor` learns
    on its training part and scores all candidates; without one it is trained self-supervised
    on the co-expression graph, so expression alone gives a ranked GRN.

    Parameters
    ----------
    adata
        Cells x genes AnnData (counts or log-normalised values).
    prior
        Known edges ``source, target`` (gene names), e.g. from :func:`gnngeno.io.read_network`.
    tfs
        Candidate TFs (default ``adata.var["is_tf"]``, see :func:`gnngeno.pp.mark_tfs`).
    layer
        Expression layer (``None``: ``adata.X``).
    split, fractions
        How prior edges are split into train / validation / test (see
        :meth:`GRNPredictor.train`): ``"random"``, ``"tf"``, ``"target"`` or given pair tables.
        Use ``fractions=(0.9, 0.1, 0.0)`` to train on all but a validation part.
    encoder, decoder, num_layers, activation, dropout
        Model options (``"gcn"``/``"gat"``/``"gatv2"``; ``"bilinear"``/``"dot"``/``"mlp"``).
    l1, l2
        Lasso / ridge / elastic-net penalty.
    max_epochs, patience
        Training length and early stopping on validation AUPRC.
    model_kwargs, train_kwargs
        Further arguments of :class:`GRNPredictor` and :meth:`GRNPredictor.train`.
    key_added
        Output key.
    return_model
        Also return the trained model.
    copy
        Work on (and return) a copy of ``adata``.
    seed
        Random seed (default ``settings.seed``).

    Returns
    -------
    ``None``; the new AnnData with ``copy=True``; the model with ``return_model=True``
    (``(adata, model)`` with both). Writes

    - ``.varp[key_added]``: sparse genes x genes scores in (0, 1), row = TF (source),
      column = target; non-TF rows and self-pairs are empty;
    - ``.uns[key_added]["edges"]``: DataFrame ``source, target, score`` of every TF -> gene
      candidate, sorted by decreasing score;
    - ``.uns[key_added]["metrics"]``: test metrics of the split (when it has a test part);
    - ``.uns[key_added]["params"]``: the parameters used.

    Examples
    --------
    >>> import gnngeno as gg
    >>> adata, net = gg.datasets.simulate(n_cells=100, n_genes=40, n_tfs=5, seed=0)
    >>> gg.tl.infer_grn(adata, prior=net, max_epochs=5)
    >>> adata.uns["gnngeno_grn"]["edges"].columns.tolist()
    ['source', 'target', 'score']
    """
    from ..models import GRNPredictor

    check_adata(adata, layer=layer, min_cells=3, min_genes=2)
    adata = adata.copy() if copy else adata
    mk = dict(model_kwargs or {})
    tk = dict(train_kwargs or {})
    model = GRNPredictor(adata, tfs=tfs, layer=layer, encoder=encoder, decoder=decoder,
                         num_layers=num_layers, activation=activation, dropout=dropout,
                         seed=seed, **mk)
    model.train(prior, split=split, fractions=fractions, l1=l1, l2=l2, max_epochs=max_epochs,
                patience=patience, **tk)
    S = model.get_scores()
    rows = np.repeat(model.tf_index, model.n_genes)
    cols = np.tile(np.arange(model.n_genes), len(model.tf_index))
    keep = rows != cols
    adata.varp[key_added] = sp.csr_matrix((S.ravel()[keep], (rows[keep], cols[keep])),
                                          shape=(model.n_genes, model.n_genes))
    result: dict[str, Any] = {"edges": model.get_edges()}
    split_ = model.split_
    if split_ is not None and split_.test_pairs.shape[1] and 0 < split_.test_labels.sum() < len(
            split_.test_labels):
        result["metrics"] = model.evaluate("test")
    result["params"] = {
        "mode": model.mode_, "split": split if isinstance(split, str) else "given",
        "fractions": list(fractions), "encoder": encoder, "decoder": decoder,
        "num_layers": num_layers, "activation": activation, "dropout": dropout, "l1": l1,
        "l2": l2, "max_epochs": max_epochs, "patience": patience, "seed": model.seed,
        "n_tfs": len(model.tfs), "n_train_edges": int(model.train_pos_.shape[1]),
        "best_epoch": model.history_.best_epoch, "train_seconds": model.train_time_,
        **{k: v for k, v in mk.items() if isinstance(v, int | float | str | bool)},
    }
    adata.uns[key_added] = result
    if return_model:
        return (adata, model) if copy else model
    return adata if copy else None


__all__ = ["infer_grn"]


# ---------------------------------------------------------------------------------------------
# benchmark: models and baselines on the same test pairs
# ---------------------------------------------------------------------------------------------
GRN_METHODS = ("gcn", "gat", "gatv2", "pearson", "spearman", "degree", "tree")


def benchmark_grn(
    bench,
    *,
    split: str = "legacy",
    methods: Sequence[str] = ("gcn", "gat", "pearson", "degree", "tree"),
    seed: int = 0,
    fractions: Sequence[float] = (0.7, 0.1, 0.2),
    model_kwargs: dict[str, Any] | None = None,
    train_kwargs: dict[str, Any] | None = None,
    tree_kwargs: dict[str, Any] | None = None,
    cache: dict | None = None,
) -> pd.DataFrame:
    """Score a GRN benchmark's test pairs with GNN models and baselines, side by side.

    Parameters
    ----------
    bench
        A :class:`gnngeno.io.GRNBenchmark` (``adata``, ``network``, ``tfs``, ``splits``).
    split
        ``"legacy"`` (the folder's own train/validation/test files), ``"random"`` (edges),
        ``"tf"`` (held-out TFs) or ``"target"`` (held-out targets), 70/10/20 by default.
    methods
        Any of ``"gcn"``, ``"gat"``, ``"gatv2"`` (GRNPredictor encoders), ``"pearson"``,
        ``"spearman"``, ``"degree"`` (training-graph degrees), ``"tree"`` (GENIE3-style).
    seed
        Seed of the split (non-legacy) and of the models.
    model_kwargs, train_kwargs
        Passed to :class:`gnngeno.models.GRNPredictor` / its ``train``.
    tree_kwargs
        Passed to :func:`gnngeno.baselines.tree_scores`.
    cache
        A dict reused across calls to keep split-independent baseline scores (correlation,
        tree) of the same benchmark.

    Returns
    -------
    DataFrame, one row per method: ``method``, ``auroc``, ``auprc``, ``auprc_ratio``, ``epr``,
    ``density``, ``n_test``, ``wall_s`` and ``cpu_s`` (training or scoring time), ``epochs``.
    Hyper-parameters are never chosen on test pairs; early stopping uses validation pairs.
    """
    import time

    from ..baselines import correlation_scores, degree_scores, tree_scores
    from ..data import split_edges, split_from_pairs
    from ..metrics import grn_metrics
    from ..models import GRNPredictor

    for m in methods:
        if m not in GRN_METHODS:
            from .._validate import InputError

            raise InputError(f"method {m!r} is not known; choose from {list(GRN_METHODS)}.")
    adata = bench.adata
    genes = [str(g) for g in adata.var_names]
    gidx = pd.Index(genes)
    tf_index = gidx.get_indexer(bench.tfs)
    if split == "legacy":
        if not bench.splits:
            from .._validate import InputError

            raise InputError(f"{bench.name or 'the benchmark'} holds no split files; use "
                             "split='random' or 'tf'.")
        sp_ = split_from_pairs(bench.splits, genes=genes, tf_index=tf_index)
    else:
        net = bench.network
        pos = np.stack([gidx.get_indexer(net[keys.SOURCE].astype(str)),
                        gidx.get_indexer(net[keys.TARGET].astype(str))])
        pos = pos[:, (pos >= 0).all(axis=0)]
        sp_ = split_edges(pos, n_genes=len(genes), tf_index=tf_index, method=split,
                          fractions=fractions, seed=seed)
    row_of = np.full(len(genes), -1, np.int64)
    row_of[sp_.tf_index] = np.arange(len(sp_.tf_index))
    pairs, labels = sp_.test_pairs, sp_.test_labels
    cache = {} if cache is None else cache
    X = adata.X
    rows = []

    def add(method: str, scores: np.ndarray, wall: float, cpu: float, epochs: int | None = None):
        res = grn_metrics(labels, scores)
        rows.append({"method": method, **{k: res[k] for k in (
            "auroc", "auprc", "auprc_ratio", "epr", "density")}, "n_test": len(labels),
                     "wall_s": wall, "cpu_s": cpu, "epochs": epochs})

    def from_matrix(S: np.ndarray) -> np.ndarray:
        # S rows follow sp_.tf_index
        return S[row_of[pairs[0]], pairs[1]]

    for m in methods:
        w, c = time.perf_counter(), time.process_time()
        if m in ("gcn", "gat", "gatv2"):
            model = GRNPredictor(adata, tfs=[genes[i] for i in sp_.tf_index], encoder=m,
                                 seed=seed, **(model_kwargs or {}))
            model.train(split=sp_, **(train_kwargs or {}))
            s = model._logits(pairs)
            add(m.upper(), s, time.perf_counter() - w, time.process_time() - c,
                len(model.history_))
        elif m in ("pearson", "spearman"):
            key = (m, tuple(sp_.tf_index))
            if key not in cache:
                cache[key] = correlation_scores(X, sp_.tf_index, method=m)
            add(f"|{m.capitalize()}|", from_matrix(cache[key]), time.perf_counter() - w,
                time.process_time() - c)
        elif m == "degree":
            S = degree_scores(sp_.train_pos, len(genes), sp_.tf_index)
            add("degree-only", from_matrix(S), time.perf_counter() - w, time.process_time() - c)
        elif m == "tree":
            key = ("tree", tuple(sp_.tf_index))
            if key not in cache:
                cache[key] = tree_scores(X, sp_.tf_index, seed=seed, **(tree_kwargs or {}))
            add("tree (GENIE3-style)", from_matrix(cache[key]), time.perf_counter() - w,
                time.process_time() - c)
    return pd.DataFrame(rows)


__all__ += ["GRN_METHODS", "benchmark_grn"]
