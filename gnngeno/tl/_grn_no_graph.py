"""The no-message-passing ablation of :class:`gnngeno.models.GRNPredictor` used by
:func:`gnngeno.tl.benchmark_grn`.

The model's encoder needs at least one graph layer; with an empty message-passing graph each
layer sees only the gene itself (the convolutions' self-loops), so the encoder is a per-gene
network on the same features, degrees, decoder and training: what the graph adds is the
difference between the two rows.
"""

from __future__ import annotations

import torch

from ..models import GRNPredictor
from ..models._grn_features import GeneGraph


class _NoMessages(GeneGraph):
    """A gene graph whose message-passing edge set is empty (degrees are kept)."""

    def message_graph(self, pos=None) -> torch.Tensor:  # noqa: ARG002 - same signature
        return torch.zeros((2, 0), dtype=torch.long)


class NoGraphGRNPredictor(GRNPredictor):
    """:class:`gnngeno.models.GRNPredictor` without message passing (an ablation)."""

    def _graph(self) -> GeneGraph:
        g = super()._graph()
        return _NoMessages(g.features, g.train_pos, g.degree_features, g.coexpression)


__all__ = ["NoGraphGRNPredictor"]
