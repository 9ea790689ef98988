"""Inputs of :class:`GRNPredictor`: the gene graph (node features, training-graph degrees,
message-passing edges, pair features), the positives of a prior or of co-expression, the
link split and the validation pairs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from .. import _keys as keys
from .._logging import logger
from .._validate import InputError, align_network, check_choice, check_fractions
from ..data._grn_graph import correlation, expression_features, message_graph
from ..data._link_split import SPLIT_METHODS, LinkSplit, split_edges, split_from_pairs


def _ranked_counts(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positives scored at or above each distinct score, highest first (the
    counts of ``sklearn.metrics``' curves, without its input checks: validation scores them
    every epoch)."""
    if not np.isfinite(s).all():
        raise ValueError(f"{int((~np.isfinite(s)).sum())} scores are not finite.")
    order = np.argsort(s, kind="stable")[::-1]
    last = np.r_[np.flatnonzero(np.diff(s[order])), s.size - 1]
    tps = np.cumsum(y[order] == 1, dtype=np.float64)[last]
    return 1 + last.astype(np.float64) - tps, tps


def auprc(y: np.ndarray, s: np.ndarray) -> float:
    """Average precision, as ``sklearn.metrics.average_precision_score`` computes it (``nan``
    when ``y`` holds one class only)."""
    if y.size == 0 or y.min() == y.max():
        return float("nan")
    fps, tps = _ranked_counts(y, s)
    precision = np.r_[(tps / (tps + fps))[::-1], 1.0]
    recall = np.r_[(tps / tps[-1])[::-1], 0.0]
    return float(-np.sum(np.diff(recall) * precision[:-1]))


def auroc(y: np.ndarray, s: np.ndarray) -> float:
    """Area under the ROC curve, as ``sklearn.metrics.roc_auc_score`` computes it (``nan``
    when ``y`` holds one class only)."""
    if y.size == 0 or y.min() == y.max():
        return float("nan")
    fps, tps = _ranked_counts(y, s)
    if fps.size > 2:  # points on a straight segment add nothing to the area
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps = fps[keep], tps[keep]
    fpr = np.r_[0.0, fps] / fps[-1]
    tpr = np.r_[0.0, tps] / tps[-1]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def node_features(adata, X, *, key: str | None, n_pcs: int | None, tf_index: np.ndarray,
                  seed: int) -> np.ndarray:
    """Node features: expression features (:func:`gnngeno.data.expression_features`), the
    standardised ``adata.varm[key]`` (when ``key`` is given) and a TF flag."""
    feats = expression_features(X, n_components=n_pcs, seed=seed)
    if key is not None:
        if key not in adata.varm:
            raise InputError(f"gene_features={key!r} is not in adata.varm "
                             f"(present: {list(adata.varm)}).")
        extra = np.asarray(adata.varm[key], dtype=np.float32)
        extra = (extra - extra.mean(0)) / np.where(extra.std(0) > 0, extra.std(0), 1.0)
        feats = np.concatenate([feats, extra.astype(np.float32)], axis=1)
    is_tf = np.zeros((feats.shape[0], 1), np.float32)
    is_tf[tf_index] = 1.0
    return np.concatenate([feats, is_tf], axis=1)


def resolve_options(user: Mapping[str, Any], mode: str | None = None,
                    split: str | None = None) -> dict[str, Any]:
    """``node_bias`` / ``degree_features`` / ``coexpression_k`` / ``node_embeddings`` with
    ``None`` (auto) resolved for the training ``mode`` and split method."""
    transductive = not (mode == "self-supervised" or split == "tf")
    return {
        "node_bias": transductive if user["node_bias"] is None else bool(user["node_bias"]),
        "degree_features": (transductive if user["degree_features"] is None
                            else bool(user["degree_features"])),
        "coexpression_k": ((10 if mode == "self-supervised" else 0)
                           if user["coexpression_k"] is None else int(user["coexpression_k"])),
        "node_embeddings": (0 if user["node_embeddings"] is None
                            else int(user["node_embeddings"])),
    }


def degrees(pos: np.ndarray, n_genes: int, scale: float = 1.0) -> np.ndarray:
    """``(2, n_genes)`` out- and in-degrees of the pairs ``pos``, multiplied by ``scale``."""
    return np.stack([np.bincount(pos[0], minlength=n_genes),
                     np.bincount(pos[1], minlength=n_genes)]).astype(np.float64) * scale


def degree_prior(train_pos: np.ndarray, n_genes: int, pairs: np.ndarray) -> np.ndarray:
    """Degree-only log score ``log(1 + TF out-degree) + log(1 + target in-degree)``."""
    out_d = np.bincount(train_pos[0], minlength=n_genes)
    in_d = np.bincount(train_pos[1], minlength=n_genes)
    return np.log1p(out_d[pairs[0]]) + np.log1p(in_d[pairs[1]])


@dataclass
class GeneGraph:
    """The genes as a graph: node features, training positives and co-expression edges.

    Attributes
    ----------
    features
        ``(n_genes, F)`` expression (and extra) features.
    train_pos
        ``(2, E)`` training positives (gene positions).
    degree_features
        Append log degrees to the node features and use them as decoder pair features.
    coexpression
        ``(2, E')`` co-expression pairs added to the message-passing graph (``None``: none).
    expression_pairs
        ``(n_tfs, n_genes, K)`` expression features of every regulator -> gene pair appended
        to the decoder pair features (``None``: none), rows following ``tf_index``.
    tf_index
        Gene positions of the rows of ``expression_pairs``.
    message_passing
        ``False``: the message-passing graph is empty (each layer sees only the gene itself;
        the no-graph ablation).
    """

    features: np.ndarray
    train_pos: np.ndarray
    degree_features: bool
    coexpression: np.ndarray | None = None
    expression_pairs: np.ndarray | None = None
    tf_index: np.ndarray | None = None
    message_passing: bool = True

    def __post_init__(self) -> None:
        self._pairs_t = None
        self._row_of = None
        if self.expression_pairs is not None:
            E = torch.as_tensor(self.expression_pairs, dtype=torch.float32)
            # a last row of zeros for sources outside the regulators
            self._pairs_t = torch.cat([E, E.new_zeros((1, *E.shape[1:]))])
            row_of = np.full(self.n_genes, len(self.tf_index), np.int64)
            row_of[np.asarray(self.tf_index)] = np.arange(len(self.tf_index))
            self._row_of = torch.as_tensor(row_of)

    @property
    def n_pair_features(self) -> int:
        """Columns of :meth:`pair_features`."""
        k = 0 if self.expression_pairs is None else self.expression_pairs.shape[-1]
        return 2 * int(self.degree_features) + k

    @property
    def n_genes(self) -> int:
        return self.features.shape[0]

    def degrees(self, pos: np.ndarray | None = None, scale: float = 1.0) -> np.ndarray:
        """Degrees of ``pos`` (default: the training graph), see :func:`degrees`."""
        return degrees(self.train_pos if pos is None else pos, self.n_genes, scale)

    def node_inputs(self, deg: np.ndarray, device) -> torch.Tensor:
        """Node features (+ log degrees ``deg``, scaled by the largest log degree of the full
        training graph so that training and prediction agree)."""
        feats = self.features
        if self.degree_features:
            d = np.log1p(deg.T).astype(np.float32)
            top = float(np.log1p(self.degrees().max(initial=0.0)))
            feats = np.concatenate([feats, d / max(top, 1.0)], axis=1)
        return torch.as_tensor(feats, dtype=torch.float32, device=device)

    def message_graph(self, pos: np.ndarray | None = None) -> torch.Tensor:
        """Undirected message-passing edges of ``pos`` (default: the training graph) and the
        co-expression pairs."""
        if not self.message_passing:
            return torch.zeros((2, 0), dtype=torch.long)
        return message_graph(self.n_genes, self.train_pos if pos is None else pos,
                             self.coexpression)

    def inputs(self, device) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
        """Node features, message-passing edges and degrees of the training graph."""
        deg = self.degrees()
        return self.node_inputs(deg, device), self.message_graph().to(device), deg

    def pair_features(self, pairs: torch.Tensor, deg: torch.Tensor,
                      loo: torch.Tensor | None = None) -> torch.Tensor | None:
        """Log out-degree of the source and in-degree of the target of every pair (``loo``:
        1 for a training positive whose own edge is counted in ``deg``, which is removed),
        then the pair's expression features; ``None`` when there are none."""
        parts = []
        if self.degree_features:
            out_d = deg[0][pairs[0]].float()
            in_d = deg[1][pairs[1]].float()
            if loo is not None:  # leave-one-out: a training positive does not count itself
                out_d = out_d - loo
                in_d = in_d - loo
            parts.append(torch.log1p(torch.stack([out_d, in_d], dim=1).clamp_min(0)))
        if self._pairs_t is not None:
            if self._pairs_t.device != pairs.device:
                self._pairs_t = self._pairs_t.to(pairs.device)
                self._row_of = self._row_of.to(pairs.device)
            parts.append(self._pairs_t[self._row_of[pairs[0]], pairs[1]])
        return torch.cat(parts, dim=1) if parts else None


def prior_positives(prior: pd.DataFrame, var_names: Sequence[str],
                    tf_index: np.ndarray) -> np.ndarray:
    """``(2, E)`` gene positions of the prior edges that start at a TF."""
    net = align_network(prior, var_names, what="the prior network")
    idx = pd.Index(var_names)
    src = idx.get_indexer(net[keys.SOURCE])
    tgt = idx.get_indexer(net[keys.TARGET])
    is_tf = np.isin(src, tf_index)
    if not is_tf.all():
        logger.warning(f"{int((~is_tf).sum())} prior edges start at genes not in the TF list "
                       "and are left out.")
    pos = np.stack([src[is_tf], tgt[is_tf]])
    if pos.shape[1] == 0:
        raise InputError("no prior edge starts at one of the TFs; check tfs= and the prior.")
    return pos


def coexpression_positives(X, tf_index: np.ndarray, fraction: float) -> np.ndarray:
    """The ``fraction`` of TF x gene pairs with the largest |correlation| (one global
    threshold, so TFs co-expressed with many genes keep many partners)."""
    if not 0 < fraction < 1:
        raise InputError(f"self_supervised_fraction must be in (0, 1), got {fraction}.")
    strength = np.abs(correlation(X, rows=tf_index))
    strength[np.arange(len(tf_index)), tf_index] = -np.inf
    n = max(1, int(round(fraction * strength.size)))
    flat = np.argpartition(-strength.ravel(), n - 1)[:n]
    rows, cols = np.unravel_index(flat, strength.shape)
    return np.stack([tf_index[rows], cols]).astype(np.int64)


def make_split(split, *, positives, var_names: Sequence[str], tf_index: np.ndarray,
               fractions: Sequence[float], seed: int) -> LinkSplit:
    """The link split of :meth:`GRNPredictor.train`: a given :class:`LinkSplit`, given pair
    tables, or a split of ``positives()`` (a callable, so that the positives are computed only
    when needed); fractions ``(1, 0, 0)`` keep every positive for training."""
    n_genes = len(var_names)
    if isinstance(split, LinkSplit):
        return split
    if isinstance(split, Mapping):
        return split_from_pairs(split, genes=var_names, tf_index=tf_index)
    check_choice(split, SPLIT_METHODS, "split")
    fr = check_fractions(fractions, "fractions")
    pos = positives()
    if fr[1] == 0 and fr[2] == 0:
        pos = np.unique(pos[:, pos[0] != pos[1]], axis=1)
        empty = np.zeros((2, 0), np.int64)
        return LinkSplit(n_genes, tf_index, pos, empty, np.zeros(0), empty, np.zeros(0),
                         neg_sources=tf_index, neg_targets=np.arange(n_genes), method="none")
    return split_edges(pos, n_genes=n_genes, tf_index=tf_index, method=split, fractions=fr,
                       seed=seed)


def check_architecture(*, conv: str, decoder: str, n_layers: int, n_hidden: int, n_latent: int,
                       heads: int, coexpression_k: int | None, pair_features) -> None:
    """Raise :class:`InputError` for an invalid :class:`GRNPredictor` architecture."""
    from ..nn import CONVS, DECODERS
    from ._grn_pair_features import resolve_pair_features

    check_choice(conv, CONVS, "conv")
    check_choice(decoder, DECODERS, "decoder")
    if n_layers < 1 or n_layers > 5:
        raise InputError(f"n_layers must be 1-5, got {n_layers}.")
    if coexpression_k is not None and coexpression_k < 0:
        raise InputError(f"coexpression_k must be >= 0, got {coexpression_k}.")
    if conv != "gcn" and (n_hidden % heads or n_latent % heads):
        raise InputError(f"n_hidden={n_hidden} and n_latent={n_latent} must be divisible by "
                         f"heads={heads} for conv={conv!r}; change heads or the sizes.")
    resolve_pair_features(pair_features, None)  # checked now, resolved at training


def training_split(prior, split, *, X, var_names: Sequence[str], tf_index: np.ndarray,
                   fractions: Sequence[float], seed: int, self_supervised_fraction: float
                   ) -> tuple[str, LinkSplit]:
    """``(mode, split)`` of :meth:`GRNPredictor.train`: ``"supervised"`` on a prior or given
    split, else ``"self-supervised"`` on the top co-expression pairs."""
    given = isinstance(split, LinkSplit | Mapping)
    mode = "self-supervised" if prior is None and not given else "supervised"
    positives = ((lambda: prior_positives(prior, var_names, tf_index)) if mode == "supervised"
                 else (lambda: coexpression_positives(X, tf_index, self_supervised_fraction)))
    return mode, make_split(split, var_names=var_names, tf_index=tf_index, fractions=fractions,
                            seed=seed, positives=positives)


def default_regulators(adata) -> list[str]:
    """The genes marked in ``adata.var["is_tf"]``, else every gene (with a log line)."""
    if keys.IS_TF_KEY in adata.var:
        return adata.var_names[adata.var[keys.IS_TF_KEY].astype(bool)].tolist()
    logger.info(f"no TF list: every one of the {adata.n_vars} genes is a candidate regulator "
                f"(mark TFs with gnngeno.pp.mark_tfs or pass tfs=).")
    return [str(g) for g in adata.var_names]


def validation_set(split: LinkSplit, candidates: float | None, *, seed: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Validation pairs and labels, plus ``candidates`` random candidate negatives per
    validation positive (drawn with replacement from the TF x gene pairs that are neither
    training nor validation positives, with ``seed``). ``None`` (auto): 10 for a legacy split
    (given pair tables), 0 otherwise."""
    pairs = np.asarray(split.val_pairs, np.int64)
    labels = np.asarray(split.val_labels, float)
    if candidates is None:
        candidates = 10.0 if split.method == "legacy" else 0.0
    if candidates < 0:
        raise InputError(f"validation_candidates must be >= 0 or None, got {candidates}.")
    num = int(round(candidates * int(labels.sum())))
    if num == 0:
        return pairs, labels
    n_genes = split.n_genes
    known = np.concatenate([np.asarray(split.train_pos, np.int64), pairs[:, labels == 1]],
                           axis=1)
    rng = np.random.default_rng(int(seed))
    src, tgt = np.asarray(split.neg_sources), np.asarray(split.neg_targets)
    draw = np.stack([rng.choice(src, 3 * num + 100), rng.choice(tgt, 3 * num + 100)])
    bad = np.isin(draw[0] * n_genes + draw[1], known[0] * n_genes + known[1])
    extra = draw[:, ~bad & (draw[0] != draw[1])][:, :num]
    return (np.concatenate([pairs, extra], axis=1),
            np.concatenate([labels, np.zeros(extra.shape[1])]))


__all__ = ["GeneGraph", "auprc", "auroc", "check_architecture", "coexpression_positives", "default_regulators",
           "degree_prior", "degrees", "make_split", "node_features", "prior_positives",
           "resolve_options", "training_split", "validation_set"]
