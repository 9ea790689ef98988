"""Training data of the :class:`~gnngeno.models.Embedder` for :class:`gnngeno.train.TrainingPlan`.

Three kinds of epochs, each a class with ``batches(epoch)`` (the module's ``loss`` keyword
arguments, this process's share under data-parallel training) and ``validate()``:

- :class:`AutoencoderData`: mini-batches of cells for the (variational) autoencoders;
- :class:`FullGraphSteps`: one step per epoch over the whole graph (GCN/GAT graph encoders);
- :class:`GraphMiniBatches`: mini-batches of rows of the ``"sgc"`` propagation ``Â^K X`` and of
  the training edges.

Every random draw comes from one seeded :class:`torch.Generator`, in a fixed order, so that a
seeded run repeats exactly (and every process of a data-parallel run draws the same numbers).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from ..train import Batch
from ._embedder_inputs import EmbedderInputs, dense_rows

VALIDATION_CHUNK = 1024
"""Cells per forward pass when the autoencoders' validation loss is computed."""
DEFAULT_BATCH_SIZE = 128
"""Cells (or nodes) per mini-batch when ``batch_size`` is not given (scVI's default)."""


def default_max_epochs(n_obs: int, *, full_graph: bool = False) -> int:
    """Default epochs: scVI's rule ``min(400, 400 * 20000 / n_cells)`` (at least 20) for
    mini-batch training; 300 steps for full-graph training (graph kinds with GCN/GAT)."""
    if full_graph:
        return 300
    return int(max(20, min(400, round(400 * 20_000 / max(n_obs, 1)))))


def kl_weight(epoch: int, kl_warmup: int) -> float:
    """KL weight of ``epoch``: rises linearly from ``1 / kl_warmup`` to 1 over ``kl_warmup``
    epochs (1 throughout when ``kl_warmup <= 0``)."""
    return 1.0 if kl_warmup <= 0 else min(1.0, (epoch + 1) / kl_warmup)


class _Split:
    """What every kind shares: module, inputs, node split, generator, device and process."""

    def __init__(self, module: torch.nn.Module, inputs: EmbedderInputs, *,
                 train_idx: torch.Tensor, val_idx: torch.Tensor, kl_warmup: int,
                 generator: torch.Generator, device: torch.device, rank: int = 0,
                 world_size: int = 1) -> None:
        self.module, self.inputs = module, inputs
        self.train_idx, self.val_idx = train_idx, val_idx
        self.kl_warmup, self.gen, self.device = int(kl_warmup), generator, device
        self.rank, self.world = int(rank), int(world_size)

    @property
    def has_validation(self) -> bool:
        return len(self.val_idx) > 0


class AutoencoderData(_Split):
    """Mini-batches of ``batch_size`` cells (shuffled every epoch) for the autoencoders' loss
    ``loss(x, size_factor, kl_weight=, encoder_input=)``; under data-parallel training every
    process takes its share of each batch. Batches of fewer than two cells per process are
    skipped (batch normalisation needs two)."""

    def __init__(self, module, inputs, *, batch_size: int, **kw) -> None:
        super().__init__(module, inputs, **kw)
        self.batch_size = int(batch_size)

    def _tensors(self, idx) -> dict[str, torch.Tensor | None]:
        sf, enc, dev = self.inputs.size_factor, self.inputs.encoder_input, self.device
        return {"x": dense_rows(self.inputs.x, idx).to(dev),
                "size_factor": None if sf is None else sf[idx].to(dev),
                "encoder_input": None if enc is None else enc[idx].to(dev)}

    def batches(self, epoch: int) -> Iterator[Batch]:
        order = self.train_idx[torch.randperm(len(self.train_idx), generator=self.gen)]
        weight = kl_weight(epoch, self.kl_warmup)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            if len(idx) < 2 * self.world:  # batch norm needs two cells (per process)
                continue
            idx = idx[self.rank::self.world]  # this process's share of the batch
            yield Batch(kwargs={**self._tensors(idx), "kl_weight": weight}, n=len(idx))

    def validate(self) -> dict[str, float]:
        """Loss of the held-out cells with KL weight 1."""
        tot, count = 0.0, 0
        for start in range(0, len(self.val_idx), VALIDATION_CHUNK):
            idx = self.val_idx[start:start + VALIDATION_CHUNK]
            out = self.module.loss(**self._tensors(idx), kl_weight=1.0)
            tot += out["loss"].item() * len(idx)
            count += len(idx)
        return {"val_loss": tot / count}


class _GraphData(_Split):
    """Graph kinds: nodes (feature term) and undirected edges (edge term) split into training
    and validation parts; the encoder passes messages on the training edges only. Validation
    scores the held-out edges against a fixed, seeded set of non-edges (one per edge, to a
    uniformly drawn node), so its value moves only with the model."""

    def __init__(self, module, inputs, *, validation_fraction: float,
                 edge_weights_used: bool, **kw) -> None:
        super().__init__(module, inputs, **kw)
        n, gen, dev = inputs.n_obs, self.gen, self.device
        self.x = inputs.x.to(dev)
        ei, ew = inputs.edge_index, inputs.edge_weight
        upper = ei[0] < ei[1]  # split undirected pairs (i < j), keep both directions
        pairs, wts = ei[:, upper], ew[upper]
        self.n_val_edges = int(round(validation_fraction * pairs.shape[1]))
        eperm = torch.randperm(pairs.shape[1], generator=gen)
        self.val_pos = pairs[:, eperm[:self.n_val_edges]]
        self.val_neg = torch.stack([self.val_pos[0],
                                    torch.randint(0, n, (self.n_val_edges,), generator=gen)])
        self.train_pairs = pairs[:, eperm[self.n_val_edges:]]
        tr_w = wts[eperm[self.n_val_edges:]]
        self.train_edges = torch.cat([self.train_pairs, self.train_pairs.flip(0)], 1)
        self.edge_weight = torch.cat([tr_w, tr_w]).to(dev) if edge_weights_used else None

    def feature_rows(self, nodes: torch.Tensor):
        """Targets of the feature term (counts densified here, or the node features
        themselves for the Gaussian one) and size factors of ``nodes``."""
        if self.module.feature_decoder is None:
            return None, None
        if self.inputs.target is None:
            return self.x[nodes.to(self.device)], None
        sf = self.inputs.size_factor
        return (dense_rows(self.inputs.target, nodes).to(self.device),
                None if sf is None else sf[nodes].to(self.device))

    def latent_rows(self):
        """A function from node indices to their latent rows (eval mode)."""
        raise NotImplementedError

    def validate(self) -> dict[str, float]:
        """Held-out edges and nodes, scored in chunks of latent rows (eval mode)."""
        module, dev, n_val_e, val_idx = self.module, self.device, self.n_val_edges, self.val_idx
        if len(val_idx) == 0 and n_val_e == 0:
            return {"val_loss": float("nan")}
        edges = feats = kl = 0.0
        latent_rows = self.latent_rows()
        chunk = 65_536
        for s in range(0, n_val_e, chunk):
            pos, neg = self.val_pos[:, s:s + chunk], self.val_neg[:, s:s + chunk]
            rows = torch.cat([pos[0], pos[1], neg[1]]).to(dev)
            m = pos.shape[1]
            ar = torch.arange(m, device=dev)
            z = latent_rows(rows)
            edges += float(module.edge_loss(z, torch.stack([ar, m + ar]),
                                            torch.stack([ar, 2 * m + ar]))) * m
        for s in range(0, len(val_idx), 8192):
            nodes = val_idx[s:s + 8192]
            z = latent_rows(nodes.to(dev))
            if module.feature_decoder is not None:
                feats += float(module.feature_loss(z, *self.feature_rows(nodes))) * len(nodes)
            if module.variational:
                kl += float(module.gae.kl_loss()) * len(nodes)
        edges /= max(n_val_e, 1)
        feats /= max(len(val_idx), 1)
        kl /= max(len(val_idx), 1) * self.inputs.n_obs
        return {"val_loss": edges + module.feature_weight * feats + kl}


class FullGraphSteps(_GraphData):
    """One step per epoch: the encoder passes messages over the whole training graph and the
    loss scores at most ``max_nodes`` sampled training nodes (feature term) and ``max_edges``
    sampled training edges (edge term), so its memory stays bounded on large graphs. Under
    data-parallel training every process encodes the whole graph and scores its share of the
    sampled nodes and edges (the draws are the same everywhere)."""

    def __init__(self, module, inputs, *, max_nodes: int, max_edges: int, **kw) -> None:
        super().__init__(module, inputs, **kw)
        self.max_nodes, self.max_edges = int(max_nodes), int(max_edges)
        self.train_edges_dev = self.train_edges.to(self.device)

    def _at_most(self, t: torch.Tensor, cap: int) -> torch.Tensor:
        if t.shape[-1] <= cap:
            return t
        return t[..., torch.randperm(t.shape[-1], generator=self.gen)[:cap]]

    def batches(self, epoch: int) -> Iterator[Batch]:
        nodes = self._at_most(self.train_idx, self.max_nodes)[self.rank::self.world]
        pos = self._at_most(self.train_edges, self.max_edges)[:, self.rank::self.world]
        tgt, sf = self.feature_rows(nodes)
        yield Batch(kwargs=dict(
            x=self.x, edge_index=self.train_edges_dev, pos_edge_index=pos.to(self.device),
            edge_weight=self.edge_weight, target=tgt, size_factor=sf,
            nodes=nodes.to(self.device), kl_weight=kl_weight(epoch, self.kl_warmup)))

    def latent_rows(self):
        z = self.module.encode(self.x, self.train_edges_dev, self.edge_weight)
        return lambda rows: z[rows]


class GraphMiniBatches(_GraphData):
    """Mini-batches of ``batch_size`` rows of the ``"sgc"`` propagation ``Â^K X`` (computed
    once over the training graph, so a batch is exact, without neighbourhood sampling). An
    epoch passes once over the training nodes (feature term) and once over the training edges
    (edge term) in the same number of batches: the inner-product decoder is symmetric, so each
    undirected pair is scored once, from a randomly chosen end, against a non-edge from that
    end to a uniformly drawn node."""

    def __init__(self, module, inputs, *, batch_size: int, **kw) -> None:
        super().__init__(module, inputs, **kw)
        self.batch_size = int(batch_size)
        with torch.no_grad():
            self.smoothed = module.gae.encoder.smooth(self.x, self.train_edges.to(self.device),
                                                      self.edge_weight)
        self.n_batches = max(1, math.ceil(len(self.train_idx) / self.batch_size))
        self.edges_per_batch = math.ceil(self.train_pairs.shape[1] / self.n_batches)

    def batches(self, epoch: int) -> Iterator[Batch]:
        gen, dev, n, bs = self.gen, self.device, self.inputs.n_obs, self.batch_size
        n_pairs, e_per = self.train_pairs.shape[1], self.edges_per_batch
        nodes_order = self.train_idx[torch.randperm(len(self.train_idx), generator=gen)]
        edge_order = torch.randperm(n_pairs, generator=gen)
        flip = torch.randint(0, 2, (n_pairs,), generator=gen).bool()
        oriented = torch.where(flip, self.train_pairs.flip(0), self.train_pairs)
        weight = kl_weight(epoch, self.kl_warmup)
        for b in range(self.n_batches):
            nodes = nodes_order[b * bs:(b + 1) * bs]
            if len(nodes) < 2 * self.world:  # batch norm needs two rows (per process)
                continue
            edges = edge_order[b * e_per:(b + 1) * e_per]
            neg_dst = torch.randint(0, n, (len(edges),), generator=gen)[self.rank::self.world]
            # this process's share (every process draws the same permutations)
            nodes, pos = nodes[self.rank::self.world], oriented[:, edges[self.rank::self.world]]
            nb, n_pos = len(nodes), pos.shape[1]
            rows = torch.cat([nodes, pos[0], pos[1], neg_dst]).to(dev)
            ar = torch.arange(n_pos, device=dev)
            tgt, sf = self.feature_rows(nodes)
            yield Batch(kwargs=dict(
                x=self.smoothed[rows], edge_index=None,
                pos_edge_index=torch.stack([nb + ar, nb + n_pos + ar]),
                neg_edge_index=torch.stack([nb + ar, nb + 2 * n_pos + ar]),
                target=tgt, size_factor=sf, nodes=torch.arange(nb, device=dev), num_nodes=n,
                kl_weight=weight), n=nb)

    def latent_rows(self):
        return lambda rows: self.module.encode(self.smoothed[rows], None)


def training_data(module, inputs: EmbedderInputs, *, is_graph: bool, validation_fraction: float,
                  batch_size: int | None, edge_weights_used: bool, max_nodes: int,
                  max_edges: int, **kw):
    """The plan's data: nodes (cells, or genes) split into training and validation (the first
    draw of ``kw["generator"]``), then :class:`AutoencoderData`, :class:`FullGraphSteps`
    (graph kinds with ``batch_size=None``) or :class:`GraphMiniBatches`. ``kw``: ``kl_warmup``,
    ``generator``, ``device``, ``rank``, ``world_size``."""
    from .._validate import InputError

    n = inputs.n_obs
    n_val = int(round(validation_fraction * n))
    perm = torch.randperm(n, generator=kw["generator"])
    val_idx, train_idx = perm[:n_val], perm[n_val:]
    if len(train_idx) < 2:
        raise InputError("too few cells left for training; lower validation_fraction.")
    kw.update(train_idx=train_idx, val_idx=val_idx)
    if not is_graph:
        return AutoencoderData(module, inputs, batch_size=batch_size, **kw)
    kw.update(validation_fraction=validation_fraction, edge_weights_used=edge_weights_used)
    if batch_size is None:
        return FullGraphSteps(module, inputs, max_nodes=max_nodes, max_edges=max_edges, **kw)
    return GraphMiniBatches(module, inputs, batch_size=batch_size, **kw)


__all__ = ["AutoencoderData", "DEFAULT_BATCH_SIZE", "FullGraphSteps", "GraphMiniBatches",
           "default_max_epochs", "kl_weight", "training_data"]
