"""Training data of :class:`GRNPredictor` for :class:`gnngeno.train.TrainingPlan`: each epoch
one full-graph batch of scored pairs (training positives, re-drawn negatives, ranking pairs),
and validation AUPRC / AUROC."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from .._validate import InputError
from ..data._link_split import LinkSplit, sample_negatives, sample_ranking_pairs
from ..train import Batch
from ._grn_features import GeneGraph, auprc, auroc


@contextmanager
def keep_random_state() -> Iterator[None]:
    """Restore python's, numpy's and torch's global random states on exit, so that what runs
    inside (e.g. a library imported for the first time, which may draw from python's
    ``random``) cannot change the random draws of training."""
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])


class GRNTrainingData:
    """The pairs of every epoch and the validation of :class:`GRNPredictor`.

    Each epoch is one full-graph batch for :meth:`gnngeno.nn.LinkPredictor.loss`: with
    ``supervision_fraction > 0`` a random share of the training positives is scored and left
    out of message passing and degrees (the rest carry messages; their degrees are rescaled to
    the full graph); otherwise every positive is scored and its pair's degrees leave its own
    edge out. ``negative_ratio`` negatives per scored positive are re-drawn from the split's
    candidate negatives, and, with given training negatives and ``ranking_weight > 0``, as many
    ranking pairs (a given negative and a positive of the same TF) are appended. Under
    data-parallel training every process makes the same draws and scores its share of the
    pairs.

    Parameters
    ----------
    module
        The :class:`gnngeno.nn.LinkPredictor` (used by :meth:`validate`).
    graph
        The gene graph of the training positives.
    split
        The link split (negative candidates, given negatives).
    val_pairs, val_labels
        Validation pairs ``(2, E)`` and 0/1 labels.
    device
        Where the tensors live (the plan's device).
    rank, world_size
        This process's share of the pairs.
    supervision_fraction, negative_ratio, ranking_weight
        See :meth:`GRNPredictor.train`.
    """

    def __init__(self, module: torch.nn.Module, graph: GeneGraph, split: LinkSplit, *,
                 val_pairs: np.ndarray, val_labels: np.ndarray, device: torch.device,
                 rank: int = 0, world_size: int = 1, supervision_fraction: float = 0.0,
                 negative_ratio: float = 1.0, ranking_weight: float = 0.0):
        self.module = module
        self.graph = graph
        self.split = split
        self.device = device
        self.rank, self.world_size = rank, world_size
        self.supervision_fraction = float(supervision_fraction)
        self.negative_ratio = float(negative_ratio)
        self.ranking_weight = float(ranking_weight)
        self.given_neg = None
        if split.train_neg is not None and split.train_neg.shape[1] and ranking_weight > 0:
            if world_size > 1:
                raise InputError("ranking_weight > 0 is not supported with distributed=True; "
                                 "pass ranking_weight=0.")
            self.given_neg = torch.as_tensor(np.asarray(split.train_neg, np.int64))
        self.x, self.edge_index, deg = graph.inputs(device)
        self.deg = torch.as_tensor(deg, device=device)
        self.pos = torch.as_tensor(graph.train_pos, device=device)
        self.val_pairs = torch.as_tensor(val_pairs, device=device)
        self.val_labels = val_labels
        self.has_validation = bool(self.val_pairs.shape[1] > 0
                                   and 0 < val_labels.sum() < val_labels.size)

    def _scored_graph(self):
        """Positives to score, and the message graph, node inputs and degrees without them."""
        if self.supervision_fraction == 0:
            return self.pos, self.edge_index, self.x, self.deg
        n_pos = self.pos.shape[1]
        perm = torch.randperm(n_pos)
        n_sup = max(1, int(round(self.supervision_fraction * n_pos)))
        target_pos = self.pos[:, perm[:n_sup].to(self.device)]
        kept = self.graph.train_pos[:, perm[n_sup:].numpy()]
        msg = self.graph.message_graph(kept).to(self.device)
        # degrees of the message graph, rescaled to the full graph: the scored positives are
        # not counted (as a test edge is not), in features and decoder
        deg = self.graph.degrees(kept, scale=n_pos / max(kept.shape[1], 1))
        return (target_pos, msg, self.graph.node_inputs(deg, self.device),
                torch.as_tensor(deg, device=self.device))

    def batches(self, epoch: int) -> Iterator[Batch]:
        """One batch: the kwargs of :meth:`gnngeno.nn.LinkPredictor.loss`."""
        dev = self.device
        target_pos, msg, x, deg = self._scored_graph()
        n_t = target_pos.shape[1]
        sp_ = self.split
        neg = sample_negatives(self.graph.train_pos, sources=sp_.neg_sources,
                               targets=sp_.neg_targets,
                               num=max(1, int(round(self.negative_ratio * n_t)))).to(dev)
        pairs = torch.cat([target_pos, neg], dim=1)
        labels = torch.cat([torch.ones(n_t, device=dev), torch.zeros(neg.shape[1], device=dev)])
        # leave-one-out: with every positive in the graph, a scored positive does not count
        # itself in its pair's degrees
        loo = labels if self.supervision_fraction == 0 else None
        n_r = 0
        if self.given_neg is not None:  # a given negative vs a positive of its TF
            rank_neg, rank_pos = sample_ranking_pairs(target_pos.cpu(), self.given_neg, n_t)
            n_r = rank_pos.shape[1]
            if n_r:
                pairs = torch.cat([pairs, torch.cat([rank_pos, rank_neg], dim=1).to(dev)], dim=1)
                if loo is not None:
                    loo = torch.cat([loo, torch.ones(n_r, device=dev),
                                     torch.zeros(n_r, device=dev)])
        n_all = labels.shape[0]
        if self.world_size > 1:  # same draws on every process; each scores its share
            r, w = self.rank, self.world_size
            pairs, labels = pairs[:, r::w], labels[r::w]
            loo = None if loo is None else loo[r::w]
        yield Batch({"x": x, "edge_index": msg, "pairs": pairs, "labels": labels,
                     "pair_features": self.graph.pair_features(pairs, deg, loo),
                     "n_ranking": n_r, "ranking_weight": self.ranking_weight},
                    n=float(labels.shape[0]), n_total=float(n_all))

    def validate(self) -> dict[str, float]:
        """Validation AUPRC and AUROC of the full training graph's scores (the global random
        states are left as they were)."""
        with keep_random_state():
            logits = self.module(self.x, self.edge_index, self.val_pairs,
                                 self.graph.pair_features(self.val_pairs, self.deg))
            s = logits.cpu().numpy()
            return {"val_auprc": auprc(self.val_labels, s), "val_auroc": auroc(self.val_labels, s)}


__all__ = ["GRNTrainingData", "keep_random_state"]
