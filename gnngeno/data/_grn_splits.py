"""GRN benchmark splits that cannot be gamed: inductive splits, cross-reference evaluation and
degree-aware negatives.

Supervised GRN link prediction is easily measured on degree alone: under uniformly drawn
negatives a score that knows only how many targets a TF has matches or beats graph neural
networks (Stock et al., bioRxiv 2025.12.19.695616; Aiyappa et al., ICML 2025, "implicit degree
bias"). Training pairs must also never come back as test pairs, as they do in some published
split scripts (GENELink's ``Train_Test_Split.py``) or when training negatives are drawn before
the split (PyG's ``RandomLinkSplit``, pyg-team/pytorch_geometric#6946).

Split methods of :func:`split_grn`
----------------------------------
``"random"``, ``"tf"``, ``"target"``
    As :func:`gnngeno.data.split_edges`: random edges, held-out TFs (a test TF has no
    training edge), held-out targets.
``"both"``
    Held-out TFs **and** targets: genes (TFs and non-TFs separately, so both keep their
    share) are divided into train / validation / test nodes; a test pair joins a test TF to a
    test gene, and training edges join training nodes only, so neither end of a test pair was
    seen in training. Edges between parts are used nowhere.
``"cross-reference"``
    See :func:`cross_reference_split`: train on one ground truth, test on another of the same
    cell type with the training edges removed.

Negatives (``negatives=``)
--------------------------
``"uniform"``
    Every TF x gene non-edge of the part (the full candidate space of its TFs and targets),
    or ``negative_ratio`` per positive drawn uniformly from it.
``"degree-matched"``
    The test positives' TFs paired with a permutation of their targets, repaired by swaps
    (:func:`degree_matched_pairs`): every TF and every target occurs among the negatives
    exactly as often as among the positives, so a score that knows only degrees ranks them
    at chance. On a dense reference (e.g. ChIP-seq networks where a TF binds most genes)
    some TFs have more test positives than free pairs: those positives are left out with as
    many negatives rather than letting hubs go missing from the negatives.

In both cases negatives are drawn **after** the split, never among the positives of the whole
reference (in either direction for an undirected reference such as STRING), never among
training pairs, and ``tfs_with_positive=True`` keeps only the TFs that have a positive in the
part. Validation pairs are those of :func:`split_edges` (uniform) for every negative scheme,
so that one training serves both schemes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validate import InputError, check_choice, check_fractions
from ._grn_negatives import _forbidden, _test_negatives, pair_keys, uniform_negatives
from ._link_split import LinkSplit, _all_candidates, _cut, _keys_of, split_edges

GRN_SPLITS = ("random", "tf", "target", "both", "cross-reference")
NEGATIVE_SCHEMES = ("uniform", "degree-matched")


def _both_split(pos, *, n_genes, tf_index, fr, seed) -> LinkSplit:
    rng = np.random.default_rng(seed)
    genes = np.arange(n_genes)
    part = np.zeros(n_genes, np.int64)  # 0 train, 1 validation, 2 test
    for group in (tf_index, np.setdiff1d(genes, tf_index)):
        order = rng.permutation(group)
        gv, gt = _cut(len(order), fr)
        part[order[:gv]], part[order[gv:gv + gt]] = 1, 2
    if not (part[tf_index] == 2).any() and fr[2] > 0:
        raise InputError(f"only {len(tf_index)} TFs: too few to hold any out; use split='random'.")
    cand = _all_candidates(tf_index, genes)
    is_pos = np.isin(_keys_of(cand, n_genes), _keys_of(pos, n_genes))
    parts = []
    for k in (1, 2):
        inside = (part[cand[0]] == k) & (part[cand[1]] == k)
        parts.append((cand[:, inside], is_pos[inside].astype(float)))
    train_pos = pos[:, (part[pos[0]] == 0) & (part[pos[1]] == 0)]
    if train_pos.shape[1] == 0:
        raise InputError("the training part of the split has no positive edge; use fewer "
                         "held-out genes or split='random'.")
    return LinkSplit(n_genes, tf_index, train_pos, *parts[0], *parts[1],
                     neg_sources=np.sort(tf_index[part[tf_index] == 0]),
                     neg_targets=genes[part == 0], method="both",
                     info={"test_groups": genes[part == 2], "val_groups": genes[part == 1],
                           "n_cross_edges": int(pos.shape[1] - train_pos.shape[1]
                                                - parts[0][1].sum() - parts[1][1].sum())})


def _clean_positives(positives, n_genes, tf_index) -> tuple[np.ndarray, np.ndarray]:
    tf_index = np.unique(np.asarray(tf_index, dtype=np.int64))
    pos = np.asarray(positives, dtype=np.int64).reshape(2, -1)
    if pos.shape[1] == 0:
        raise InputError("no positive edges to split; pass a reference network with TF -> gene "
                         "edges.")
    if not np.isin(pos[0], tf_index).all():
        raise InputError("some positive edges start at a gene that is not a TF; pass tfs that "
                         "include every source of the reference network.")
    pos = pos[:, pos[0] != pos[1]]
    return np.unique(pos, axis=1), tf_index


def split_grn(
    positives: np.ndarray,
    *,
    n_genes: int,
    tf_index: Sequence[int],
    method: str = "random",
    negatives: str = "uniform",
    fractions: Sequence[float] = (0.7, 0.1, 0.2),
    negative_ratio: float | None = None,
    tfs_with_positive: bool = False,
    undirected: bool = False,
    seed: int = 0,
) -> LinkSplit:
    """Split a reference network for a GRN benchmark that degree alone cannot win.

    Parameters
    ----------
    positives
        ``(2, E)`` reference edges as gene positions (row 0 TFs of ``tf_index``).
    n_genes
        Number of genes.
    tf_index
        Positions of the candidate TFs.
    method
        ``"random"``, ``"tf"``, ``"target"`` or ``"both"`` (see the module notes; use
        :func:`cross_reference_split` for ``"cross-reference"``).
    negatives
        ``"uniform"`` or ``"degree-matched"`` test negatives.
    fractions
        Train / validation / test fractions (of edges, TFs, targets or genes).
    negative_ratio
        Test negatives per test positive (``None``: every candidate non-edge for
        ``"uniform"``, 1 for ``"degree-matched"``).
    tfs_with_positive
        Draw test negatives only from TFs that have a test positive.
    undirected
        The reference is undirected (STRING): ``(u, v)`` and ``(v, u)`` are one edge; a test
        edge's reverse is removed from training and never used as a negative.
    seed
        Seed of the split and of the negatives.

    Returns
    -------
    :class:`LinkSplit` (``info`` records ``negatives``, ``undirected`` and the held-out
    groups). Its training graph holds the training positives only.
    """
    check_choice(method, GRN_SPLITS[:4], "split")
    check_choice(negatives, NEGATIVE_SCHEMES, "negatives")
    fr = check_fractions(fractions, "fractions")
    if len(fr) != 3:
        raise InputError(f"fractions must give train, validation and test, got {fractions}.")
    pos, tf_index = _clean_positives(positives, n_genes, tf_index)
    if method == "both":
        base = _both_split(pos, n_genes=n_genes, tf_index=tf_index, fr=fr, seed=seed)
    else:
        base = split_edges(pos, n_genes=n_genes, tf_index=tf_index, method=method,
                           fractions=fr, seed=seed)
    cand = None  # the part's own candidates; a random split's test part is any free pair
    if method == "random" and (negatives != "uniform" or negative_ratio is not None):
        cand = _all_candidates(tf_index, np.arange(n_genes))
    return _finish(base, pos, negatives=negatives, ratio=negative_ratio,
                   tfs_with_positive=tfs_with_positive, undirected=undirected, seed=seed,
                   test_candidates=cand)


def _finish(base: LinkSplit, reference: np.ndarray, *, negatives, ratio, tfs_with_positive,
            undirected, seed, test_candidates=None) -> LinkSplit:
    """Remove reversed test edges from training and redraw the test negatives."""
    n = base.n_genes
    test_pos = base.test_pairs[:, base.test_labels == 1]
    val_pos = base.val_pairs[:, base.val_labels == 1]
    train_pos = base.train_pos
    if undirected:  # a training edge whose reverse is evaluated would leak the answer
        held = pair_keys(np.concatenate([test_pos, val_pos], axis=1), n, undirected=True)
        train_pos = train_pos[:, ~np.isin(pair_keys(train_pos, n, undirected=True), held)]
        keep = base.val_labels == 1
        keep |= ~np.isin(pair_keys(base.val_pairs, n, undirected=True),
                         _forbidden(n, True, reference))
        base.val_pairs, base.val_labels = base.val_pairs[:, keep], base.val_labels[keep]
    cand = base.test_pairs if test_candidates is None else test_candidates
    drawn_pos, neg = _test_negatives(test_pos, cand, n=n, negatives=negatives, ratio=ratio,
                                     forbidden=[reference, train_pos, base.val_pairs],
                                     undirected=undirected,
                                     tfs_with_positive=tfs_with_positive, seed=seed)
    if test_pos.shape[1] and neg.shape[1] == 0:
        raise InputError(f"no {negatives} test negative could be drawn: the test positives' "
                         "TFs and targets leave no free pair. Hold out more TFs or targets "
                         "(fractions), or use negatives='uniform'.")
    pairs = np.concatenate([drawn_pos, neg], axis=1).astype(np.int64)
    labels = np.concatenate([np.ones(drawn_pos.shape[1]), np.zeros(neg.shape[1])])
    if base.test_pairs.shape[1] and labels.sum() == 0:
        raise InputError("the test part of the split has no positive edge; pass a larger "
                         "reference network, another split or seed.")
    info = {**base.info, "negatives": negatives, "undirected": bool(undirected),
            "negative_ratio": ratio, "tfs_with_positive": bool(tfs_with_positive)}
    if drawn_pos.shape[1] < test_pos.shape[1]:  # the full candidate space keeps them all
        info["all_test_positives"] = test_pos
    return LinkSplit(n, base.tf_index, train_pos, base.val_pairs, base.val_labels, pairs,
                     labels, neg_sources=base.neg_sources, neg_targets=base.neg_targets,
                     train_neg=base.train_neg, method=base.method, info=info)


def cross_reference_split(
    train_positives: np.ndarray,
    test_positives: np.ndarray,
    *,
    n_genes: int,
    tf_index: Sequence[int],
    negatives: str = "uniform",
    validation_fraction: float = 0.1,
    negative_ratio: float | None = None,
    tfs_with_positive: bool = False,
    undirected: bool = False,
    seed: int = 0,
) -> LinkSplit:
    """Train on one ground truth, test on another of the same cell type (e.g. Non-Specific ->
    Specific ChIP-seq).

    The test positives are the edges of ``test_positives`` that are not training edges (nor
    their reverse when ``undirected``); test negatives are TF x gene pairs that are edges of
    neither reference. A share ``validation_fraction`` of the training reference is held out
    for early stopping.

    Parameters
    ----------
    train_positives, test_positives
        ``(2, E)`` edges of the two references as positions in the same gene list.
    n_genes, tf_index
        Number of genes; positions of the candidate TFs (sources of both references must be
        among them; others are dropped from the test reference).
    negatives, negative_ratio, tfs_with_positive, undirected, seed
        As in :func:`split_grn`.
    validation_fraction
        Share of the training reference held out as validation edges.

    Returns
    -------
    :class:`LinkSplit` with ``method="cross-reference"``.
    """
    check_choice(negatives, NEGATIVE_SCHEMES, "negatives")
    pos, tf_index = _clean_positives(train_positives, n_genes, tf_index)
    other = np.asarray(test_positives, dtype=np.int64).reshape(2, -1)
    other = other[:, np.isin(other[0], tf_index) & (other[0] != other[1])]
    other = np.unique(other, axis=1)
    new = other[:, ~np.isin(pair_keys(other, n_genes, undirected=undirected),
                            pair_keys(pos, n_genes, undirected=undirected))]
    if new.shape[1] == 0:
        raise InputError("every edge of the test reference is a training edge: nothing to "
                         "test. Pass two different references of the same cell type.")
    base = split_edges(pos, n_genes=n_genes, tf_index=tf_index, method="random",
                       fractions=(1.0 - validation_fraction, validation_fraction, 0.0), seed=seed)
    base.test_pairs, base.test_labels = new, np.ones(new.shape[1])
    keep = (base.val_labels == 1) | ~np.isin(pair_keys(base.val_pairs, n_genes,
                                                       undirected=undirected),
                                             pair_keys(other, n_genes, undirected=undirected))
    base.val_pairs, base.val_labels = base.val_pairs[:, keep], base.val_labels[keep]
    base.method = "cross-reference"
    base.info = {"n_test_reference": int(other.shape[1]), "n_removed": int(other.shape[1]
                                                                          - new.shape[1])}
    cand = _all_candidates(tf_index, np.arange(n_genes))
    both = np.concatenate([pos, other], axis=1)
    return _finish(base, both, negatives=negatives, ratio=negative_ratio,
                   tfs_with_positive=tfs_with_positive, undirected=undirected, seed=seed,
                   test_candidates=cand)


def training_negatives(split: LinkSplit, num: int, *, seed: int = 0) -> np.ndarray:
    """Draw ``num`` training negatives **after** the split: TF x gene pairs of the training
    part (``neg_sources x neg_targets``) that are neither training positives nor any
    validation or test pair (in both directions for an undirected reference)."""
    undirected = bool(split.info.get("undirected", False))
    cand = _all_candidates(np.asarray(split.neg_sources), np.asarray(split.neg_targets))
    return uniform_negatives(cand, n_genes=split.n_genes, num=num, undirected=undirected,
                             forbidden=[split.train_pos, split.val_pairs, split.test_pairs],
                             seed=seed)


def split_leaks(split: LinkSplit) -> dict[str, int]:
    """Count what a split leaks from its evaluation pairs into training.

    Returns
    -------
    dict: ``test_pos_in_train`` (test positives that are training positives),
    ``test_pos_reversed_in_train`` (their reverse is, for undirected references),
    ``test_pairs_in_train_neg`` (test pairs among given training negatives),
    ``test_pos_in_message_graph`` (test positives among the message-passing edges, in
    either direction for an undirected reference) and ``val_pos_in_train``; all 0 for a sound split.
    """
    n = split.n_genes
    tp = split.test_pairs[:, split.test_labels == 1]
    vp = split.val_pairs[:, split.val_labels == 1]
    train = _keys_of(split.train_pos, n)
    und = bool(split.info.get("undirected", False))
    neg = split.train_neg if split.train_neg is not None else np.zeros((2, 0), np.int64)
    out = {
        "test_pos_in_train": int(np.isin(_keys_of(tp, n), train).sum()),
        "test_pos_reversed_in_train": int(np.isin(_keys_of(tp[::-1], n), train).sum())
        if und else 0,
        "test_pairs_in_train_neg": int(np.isin(_keys_of(split.test_pairs, n),
                                               _keys_of(neg, n)).sum()),
        "test_pos_in_message_graph": int(np.isin(pair_keys(tp, n, undirected=und),
                                                 pair_keys(split.train_pos, n,
                                                           undirected=und)).sum()),
        "val_pos_in_train": int(np.isin(_keys_of(vp, n), train).sum()),
    }
    return out


__all__ = ["GRN_SPLITS", "NEGATIVE_SCHEMES", "cross_reference_split", "split_grn", "split_leaks",
           "training_negatives"]
