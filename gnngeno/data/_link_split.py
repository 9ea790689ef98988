"""Splits of TF -> gene edges for link prediction, and negatives drawn from TF x gene pairs.

Everything works on integer gene indices: a pair array has shape ``(2, E)`` with row 0 the
source (a TF) and row 1 the target gene, both as positions in the gene list.

Split methods
-------------
``"random"``
    Positive edges are shuffled into train/validation/test; the non-edges among all TF x gene
    candidates are divided with the same fractions, so validation and test sets keep the
    network's density.
``"tf"``
    Held-out TFs: whole TFs go to validation or test, with **all** their candidate pairs
    (positive or not). A test TF has no edge in the training graph.
``"target"``
    Held-out targets: whole target genes go to validation or test, with all their candidate
    pairs from every TF.
``"legacy"``
    Given pairs (e.g. a GENELink/BEELINE split file), see :func:`split_from_pairs`.

In every case the training graph (used for message passing, degrees and negatives) holds only
the training positives: validation and test edges are never seen during training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from .. import _keys as keys
from .._validate import InputError, InputWarning, check_choice, check_fractions

SPLIT_METHODS = ("random", "tf", "target")


@dataclass
class LinkSplit:
    """A train/validation/test split of TF -> gene pairs (integer gene indices).

    Attributes
    ----------
    n_genes
        Number of genes (nodes).
    tf_index
        Gene positions of all candidate TFs.
    train_pos
        ``(2, E_train)`` training positives: the only edges the model sees.
    val_pairs, val_labels, test_pairs, test_labels
        ``(2, E)`` pairs and their 0/1 labels (validation may be empty).
    train_neg
        ``(2, E)`` explicit training negatives given by a legacy split (``None`` otherwise;
        models draw fresh negatives every epoch anyway).
    neg_sources, neg_targets
        Gene positions that training negatives may be drawn from (held-out TFs and targets are
        excluded so that no information about them leaks through negatives).
    method
        Name of the split method.
    """

    n_genes: int
    tf_index: np.ndarray
    train_pos: np.ndarray
    val_pairs: np.ndarray
    val_labels: np.ndarray
    test_pairs: np.ndarray
    test_labels: np.ndarray
    neg_sources: np.ndarray
    neg_targets: np.ndarray
    train_neg: np.ndarray | None = None
    method: str = "random"
    info: dict = field(default_factory=dict)

    def summary(self) -> str:
        return (f"LinkSplit({self.method}: train {self.train_pos.shape[1]} positives; validation "
                f"{self.val_pairs.shape[1]} pairs ({int(self.val_labels.sum())} positive); test "
                f"{self.test_pairs.shape[1]} pairs ({int(self.test_labels.sum())} positive))")

    __repr__ = summary


def _keys_of(pairs: np.ndarray, n: int) -> np.ndarray:
    return pairs[0].astype(np.int64) * n + pairs[1].astype(np.int64)


def _all_candidates(tf_index: np.ndarray, targets: np.ndarray) -> np.ndarray:
    src = np.repeat(tf_index, len(targets))
    tgt = np.tile(targets, len(tf_index))
    keep = src != tgt
    return np.stack([src[keep], tgt[keep]])


def _cut(n: int, fractions: tuple[float, float, float]) -> tuple[int, int]:
    n_val = int(round(fractions[1] * n))
    n_test = int(round(fractions[2] * n))
    return n_val, n_test


def _labelled(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pairs = np.concatenate([pos, neg], axis=1) if pos.size or neg.size else np.zeros((2, 0), int)
    labels = np.concatenate([np.ones(pos.shape[1]), np.zeros(neg.shape[1])])
    return pairs.astype(np.int64), labels


def _check_parts(split: LinkSplit, fr: tuple[float, ...], n_pos: int) -> LinkSplit:
    """Refuse a requested test part without positive edges; warn for such a validation part."""
    import warnings

    if fr[2] > 0 and split.test_labels.sum() == 0:
        raise InputError(
            f"the test part of the split has no positive edge ({n_pos} positive edges in all, "
            f"split={split.method!r}, fractions={fr}), so no metric can be computed on it. Pass "
            "a larger prior network, another split or seed, or fractions=(1, 0, 0) (or "
            "(0.9, 0.1, 0)) to train without a test part.")
    if fr[1] > 0 and split.val_labels.sum() == 0:
        warnings.warn(f"the validation part of the split has no positive edge ({n_pos} positive "
                      "edges in all): early stopping is off. Pass a larger prior network or a "
                      "larger validation fraction.", InputWarning, stacklevel=3)
    return split


def split_edges(
    positives: np.ndarray,
    *,
    n_genes: int,
    tf_index: Sequence[int],
    method: str = "random",
    fractions: Sequence[float] = (0.7, 0.1, 0.2),
    seed: int = 0,
) -> LinkSplit:
    """Split TF -> gene positives (and all TF x gene non-edges) for link prediction.

    Parameters
    ----------
    positives
        ``(2, E)`` positive pairs as gene positions (row 0 must be TFs of ``tf_index``).
    n_genes
        Number of genes.
    tf_index
        Positions of the candidate TFs.
    method
        ``"random"`` (edges), ``"tf"`` (held-out TFs) or ``"target"`` (held-out targets).
    fractions
        Train / validation / test fractions (of edges, TFs or targets), default 70/10/20.
    seed
        Seed of the shuffles.

    Returns
    -------
    :class:`LinkSplit`
    """
    check_choice(method, SPLIT_METHODS, "split")
    fr = check_fractions(fractions, "fractions")
    if len(fr) != 3:
        raise InputError(f"fractions must give train, validation and test, got {fractions}.")
    tf_index = np.unique(np.asarray(tf_index, dtype=np.int64))
    pos = np.asarray(positives, dtype=np.int64).reshape(2, -1)
    if pos.shape[1] == 0:
        raise InputError("no positive edges to split; pass a prior network with TF -> gene edges.")
    if not np.isin(pos[0], tf_index).all():
        raise InputError("some positive edges start at a gene that is not a TF; pass tfs that "
                         "include every source of the prior network.")
    pos = pos[:, pos[0] != pos[1]]
    pos = np.unique(pos, axis=1)
    rng = np.random.default_rng(seed)
    targets = np.arange(n_genes)
    cand = _all_candidates(tf_index, targets)
    is_pos = np.isin(_keys_of(cand, n_genes), _keys_of(pos, n_genes))
    neg = cand[:, ~is_pos]

    if method == "random":
        p = rng.permutation(pos.shape[1])
        q = rng.permutation(neg.shape[1])
        pv, pt = _cut(len(p), fr)
        nv, nt = _cut(len(q), fr)
        train_pos = pos[:, p[pv + pt:]]
        val = _labelled(pos[:, p[:pv]], neg[:, q[:nv]])
        test = _labelled(pos[:, p[pv:pv + pt]], neg[:, q[nv:nv + nt]])
        return _check_parts(LinkSplit(n_genes, tf_index, train_pos, *val, *test,
                                      neg_sources=tf_index, neg_targets=targets, method=method),
                            fr, pos.shape[1])

    # held-out TFs or targets: whole groups go to validation/test
    groups = tf_index if method == "tf" else targets
    row = 0 if method == "tf" else 1
    order = rng.permutation(groups)
    gv, gt = _cut(len(order), fr)
    if method == "tf" and gt == 0:
        raise InputError(f"only {len(groups)} TFs: too few to hold any out; use split='random'.")
    val_groups, test_groups = order[:gv], order[gv:gv + gt]
    train_groups = order[gv + gt:]
    in_val = np.isin(cand[row], val_groups)
    in_test = np.isin(cand[row], test_groups)
    val = cand[:, in_val], is_pos[in_val].astype(float)
    test = cand[:, in_test], is_pos[in_test].astype(float)
    train_pos = pos[:, np.isin(pos[row], train_groups)]
    if train_pos.shape[1] == 0:
        raise InputError("the training part of the split has no positive edge; use fewer "
                         "held-out groups or split='random'.")
    neg_sources = np.sort(train_groups) if method == "tf" else tf_index
    neg_targets = targets if method == "tf" else np.sort(train_groups)
    split = LinkSplit(n_genes, tf_index, train_pos, *val, *test, neg_sources=neg_sources,
                      neg_targets=neg_targets, method=method,
                      info={"val_groups": np.sort(val_groups), "test_groups": np.sort(test_groups)})
    return _check_parts(split, fr, pos.shape[1])


def _names_to_pairs(df: pd.DataFrame, genes: pd.Index, what: str) -> tuple[np.ndarray, np.ndarray]:
    src = genes.get_indexer(df[keys.SOURCE].astype(str))
    tgt = genes.get_indexer(df[keys.TARGET].astype(str))
    ok = (src >= 0) & (tgt >= 0)
    if not ok.all():
        bad = df.loc[~ok, [keys.SOURCE, keys.TARGET]].head(3).values.tolist()
        raise InputError(f"{int((~ok).sum())} pairs of the {what} split name genes absent from the "
                         f"expression data (e.g. {bad}); use the split files of the same folder.")
    labels = (df["label"].to_numpy(dtype=float) if "label" in df
              else np.ones(len(df), dtype=float))
    return np.stack([src, tgt]).astype(np.int64), labels


def split_from_pairs(
    splits: Mapping[str, pd.DataFrame],
    *,
    genes: Sequence[str],
    tf_index: Sequence[int],
) -> LinkSplit:
    """A :class:`LinkSplit` from given pair tables (e.g. a GENELink/BEELINE legacy split).

    Parameters
    ----------
    splits
        ``{"train": df, "validation": df, "test": df}``, each with columns ``source, target,
        label`` (gene names; label 1/0). ``validation`` may be missing or empty.
    genes
        Gene names in model order.
    tf_index
        Positions of the candidate TFs (sources of negatives).
    """
    missing = [k for k in ("train", "test") if k not in splits]
    if missing:
        raise InputError(f"the split lacks {missing}; expected keys 'train', 'validation', 'test'.")
    genes = pd.Index([str(g) for g in genes])
    tr, trl = _names_to_pairs(splits["train"], genes, "train")
    te, tel = _names_to_pairs(splits["test"], genes, "test")
    if "validation" in splits and len(splits["validation"]):
        va, val = _names_to_pairs(splits["validation"], genes, "validation")
    else:
        va, val = np.zeros((2, 0), np.int64), np.zeros(0)
    tf_index = np.unique(np.concatenate([np.asarray(tf_index, np.int64), tr[0], te[0], va[0]]))
    train_pos = np.unique(tr[:, trl == 1], axis=1)
    train_neg = tr[:, trl == 0]
    n = len(genes)
    overlap = np.isin(_keys_of(te[:, tel == 1], n), _keys_of(train_pos, n)).sum()
    if overlap:
        raise InputError(f"{overlap} test positives are also training positives; the split leaks.")
    return LinkSplit(n, tf_index, train_pos, va, val, te, tel, neg_sources=tf_index,
                     neg_targets=np.arange(n), train_neg=train_neg, method="legacy")


def sample_negatives(
    train_pos: np.ndarray | torch.Tensor,
    *,
    sources: np.ndarray,
    targets: np.ndarray,
    num: int,
) -> torch.Tensor:
    """Draw ``num`` TF -> gene pairs that are not training positives (nor self-pairs).

    Uses PyG's bipartite :func:`torch_geometric.utils.negative_sampling` on the
    ``sources x targets`` block and the torch global random state (seed it with
    :func:`gnngeno._settings.seed_everything`).

    Returns
    -------
    ``(2, <= num)`` long tensor of gene positions.
    """
    from torch_geometric.utils import negative_sampling

    pos = torch.as_tensor(np.asarray(train_pos), dtype=torch.long)
    sources = np.asarray(sources, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    n = int(max(sources.max(initial=0), targets.max(initial=0), int(pos.max()) if pos.numel() else 0)) + 1
    s_local = np.full(n, -1, np.int64)
    s_local[sources] = np.arange(len(sources))
    t_local = np.full(n, -1, np.int64)
    t_local[targets] = np.arange(len(targets))
    p = pos.numpy()
    keep = (s_local[p[0]] >= 0) & (t_local[p[1]] >= 0)
    local = torch.as_tensor(np.stack([s_local[p[0, keep]], t_local[p[1, keep]]]), dtype=torch.long)
    neg = negative_sampling(local, num_nodes=(len(sources), len(targets)),
                            num_neg_samples=int(num), method="sparse")
    out = torch.stack([torch.as_tensor(sources)[neg[0]], torch.as_tensor(targets)[neg[1]]])
    return out[:, out[0] != out[1]]


def sample_ranking_pairs(pos: np.ndarray | torch.Tensor, neg: np.ndarray | torch.Tensor,
                         num: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs for a ranking loss: ``num`` negatives ``(u, w)`` drawn at random from ``neg``,
    each matched with a random positive ``(u, v)`` of the same source among ``pos``.

    Negatives whose source has no positive in ``pos`` are skipped. Uses the torch global
    random state (seed it with :func:`gnngeno._settings.seed_everything`).

    Parameters
    ----------
    pos, neg
        ``(2, E)`` positive and negative pairs (row 0 = source).
    num
        Number of negatives drawn (with replacement).

    Returns
    -------
    ``(negatives, positives)``, both ``(2, <= num)`` long tensors; column ``i`` of each shares
    its source.
    """
    pos = torch.as_tensor(np.asarray(pos, dtype=np.int64))
    neg = torch.as_tensor(np.asarray(neg, dtype=np.int64))
    if pos.shape[1] == 0 or neg.shape[1] == 0:
        empty = torch.zeros((2, 0), dtype=torch.long)
        return empty, empty
    order = torch.argsort(pos[0], stable=True)
    src_sorted = pos[0][order]
    pick = torch.randint(0, neg.shape[1], (num,))
    cand = neg[:, pick]
    lo = torch.searchsorted(src_sorted, cand[0], right=False)
    hi = torch.searchsorted(src_sorted, cand[0], right=True)
    ok = hi > lo
    cand, lo, hi = cand[:, ok], lo[ok], hi[ok]
    j = lo + (torch.rand(lo.shape[0]) * (hi - lo).float()).long().clamp_max(hi - lo - 1)
    return cand, pos[:, order[j]]


__all__ = ["LinkSplit", "SPLIT_METHODS", "sample_negatives", "sample_ranking_pairs",
           "split_edges", "split_from_pairs"]
