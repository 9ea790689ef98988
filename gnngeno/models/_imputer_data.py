"""GraphImputer's data: the cells' inputs on the cell graph and the masked-entry training data.

:class:`ImputerGraph` holds what the model reads (the sparse expression, library sizes, the
GCN-normalised cell graph and, for ``conv="sgc"``, each cell's graph features) and builds the
tensors of a batch of cells with their graph neighbourhood (:mod:`gnngeno.data` batching).
:class:`MaskedTrainingData` is what :class:`gnngeno.train.TrainingPlan` trains on: every epoch's
batches, each hiding a random fraction of its entries from the input and scoring exactly those,
and fixed validation entries hidden throughout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import scipy.sparse as sp
import torch

from .._validate import InputError
from ..data import cell_batches, graph_parts, neighbourhood
from ..nn import to_torch_csr
from ..pp._mask import log1p_normalized
from ..train import Batch

TARGET_SUM = 1e4


def neighbour_mean_pca(counts: sp.csr_matrix, adj: sp.csr_matrix, *, n_pcs: int,
                       seed: int, normalize: bool = True) -> np.ndarray:
    """Graph features of ``conv="sgc"``: for every cell, the weighted mean of its graph
    neighbours' PCA coordinates, the cell itself excluded, divided by one global scale.

    The PCA (``n_pcs`` components) is of ``log1p`` of the counts normalised to 1e4 (of the
    values themselves with ``normalize=False``), computed by
    :func:`gnngeno.pp.chunked_pca` without densifying or centring the counts. Leaving the
    cell out of its own summary means that no entry hidden from a cell's input (by the
    training masks or the validation split) can reach that cell's prediction through it.

    Returns
    -------
    ``(cells, n_pcs)`` float32 (``n_pcs`` capped by the matrix size); rows of cells without
    neighbours are zero.
    """
    import anndata as ad

    from ..pp import chunked_pca

    n_comps = int(min(n_pcs, counts.shape[0] - 1, counts.shape[1] - 1))
    if n_comps < 1:
        raise InputError("too few cells or genes for conv='sgc' (its graph features are a PCA); "
                         "use conv='gcn'.")
    scores, _ = chunked_pca(ad.AnnData(X=counts), n_comps=n_comps, normalize=normalize,
                            target_sum=TARGET_SUM, seed=seed)
    return neighbour_mean(scores, adj)


def neighbour_mean(scores: np.ndarray, adj: sp.csr_matrix) -> np.ndarray:
    """Weighted mean of each cell's graph neighbours' rows of ``scores`` (the cell itself
    excluded), divided by one global scale (float32)."""
    W = sp.csr_matrix(adj, dtype=np.float32, copy=True)
    W.setdiag(0)
    W.eliminate_zeros()
    deg = np.asarray(W.sum(axis=1)).ravel()
    W = sp.diags(np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)) @ W
    feats = np.asarray(W @ scores, dtype=np.float32)
    scale = float(feats.std())
    return feats / scale if scale > 0 else feats


class ImputerGraph:
    """The model's input: counts, library sizes, normalised cell graph, graph features.

    Parameters
    ----------
    counts
        ``(cells, genes)`` float32 CSR counts (sorted indices, no stored zeros).
    adj
        ``(cells, cells)`` GCN-normalised adjacency (CSR, self-loops included).
    n_layers
        Graph layers of the network (the hops of a batch's neighbourhood).
    likelihood
        ``"nb"``, ``"zinb"`` or ``"gaussian"`` (targets are log-normalised values).
    graph_features
        ``(cells, F)`` float32 tensor (``conv="sgc"``) or ``None``.
    scale
        ``"counts"`` (inputs are ``log1p`` of the visible counts normalised to 1e4 per cell) or
        ``"log"`` (``counts`` holds log-normalised values, read as they are).
    """

    def __init__(self, counts: sp.csr_matrix, adj: sp.csr_matrix, *, n_layers: int,
                 likelihood: str, graph_features: torch.Tensor | None = None,
                 scale: str = "counts") -> None:
        self.scale = scale
        self.counts = counts
        self.adj = adj
        self.n_layers = int(n_layers)
        self.likelihood = likelihood
        self.graph_features = graph_features
        self.library = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
        self.library_t = torch.from_numpy(self.library.astype(np.float32))

    @property
    def n_cells(self) -> int:
        return self.counts.shape[0]

    def transform(self, X: sp.csr_matrix) -> sp.csr_matrix:
        """The network's input scale: ``log1p`` of counts normalised to 1e4 per cell, or
        log-normalised input as it is."""
        if self.scale == "log":
            return sp.csr_matrix(X, dtype=np.float32)
        return log1p_normalized(X, target_sum=TARGET_SUM)

    def gene_means(self, exclude: sp.spmatrix | None = None) -> np.ndarray:
        """``(genes,)`` float32 mean of every gene on the network's (log) scale, over the
        entries not in the boolean (cells, genes) matrix ``exclude``."""
        T = self.transform(self.counts)
        total = np.asarray(T.sum(axis=0), dtype=np.float64).ravel()
        n = np.full(T.shape[1], float(T.shape[0]))
        if exclude is not None and exclude.nnz:
            E = sp.csr_matrix(exclude, dtype=np.float32)
            total -= np.asarray(T.multiply(E).sum(axis=0), dtype=np.float64).ravel()
            n -= np.asarray(E.sum(axis=0), dtype=np.float64).ravel()
        return np.divide(total, n, out=np.zeros_like(total), where=n > 0).astype(np.float32)

    def features(self, rows) -> torch.Tensor:
        """Input rows on the network's scale as a torch CSR tensor (CPU)."""
        return to_torch_csr(self.transform(self.counts[rows]))

    def adj_rows(self, rows) -> torch.Tensor:
        """Rows of the normalised adjacency as a torch CSR tensor (CPU)."""
        return to_torch_csr(self.adj[rows])

    def graph_rows(self, cells, device) -> torch.Tensor | None:
        """``conv="sgc"``: the graph features of ``cells`` (``None`` otherwise)."""
        if self.graph_features is None:
            return None
        return self.graph_features[torch.as_tensor(np.asarray(cells))].to(device)

    def targets(self, cells: np.ndarray, device) -> torch.Tensor:
        """``(len(cells), genes)`` targets: counts, or log-normalised values (gaussian)."""
        Y = self.counts[cells].toarray()
        if self.likelihood == "gaussian" and self.scale == "counts":
            Y = np.log1p(Y * (TARGET_SUM / self.library[cells])[:, None])
        return torch.from_numpy(Y.astype(np.float32)).to(device)

    def inputs(self, cells: np.ndarray, device, *, hide: np.ndarray | None = None,
               max_neighbors: int | None = None, rng: np.random.Generator | None = None,
               held_out: Callable | None = None) -> dict:
        """The network's inputs for ``cells`` plus their neighbourhood.

        ``hide`` (len(cells) x genes bool) removes entries of the target cells from the input;
        ``held_out(rows, cols) -> bool`` names further entries (any node of the neighbourhood)
        to remove, e.g. the validation entries; the stored counts are never changed.
        ``max_neighbors``: sample at most that many neighbours per cell and hop (with ``rng``);
        ``None``: the exact neighbourhood. Returns the keyword arguments ``x``, ``adj``,
        ``target``, ``library``, ``symmetric`` and ``graph_features`` of the network.
        """
        nodes, sub_adj = neighbourhood(self.adj, cells, self.n_layers,
                                       max_neighbors=max_neighbors, rng=rng)
        sub = sp.csr_matrix(self.counts[nodes])
        if hide is not None or held_out is not None:
            r = np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))
            drop = np.zeros(r.size, dtype=bool)
            if hide is not None:
                in_batch = r < len(cells)
                drop[in_batch] = hide[r[in_batch], sub.indices[in_batch]]
            if held_out is not None:
                drop |= held_out(nodes[r], sub.indices)
            data = sub.data.copy()
            data[drop] = 0.0
            sub = sp.csr_matrix((data, sub.indices, sub.indptr), shape=sub.shape)
            sub.eliminate_zeros()
        return {"x": to_torch_csr(self.transform(sub), device),
                "adj": to_torch_csr(sub_adj, device),
                "target": torch.arange(len(cells), device=device),
                "library": self.library_t[cells].to(device),
                "symmetric": max_neighbors is None or self.n_layers == 0,
                "graph_features": self.graph_rows(cells, device)}

    def subgraph(self, rows: slice) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(x, adj, target)`` of a chunk of cells with their exact neighbourhood (CPU)."""
        b = self.inputs(np.arange(rows.start, rows.stop), None)
        return b["x"], b["adj"], b["target"]


class MaskedTrainingData:
    """Masked-entry reconstruction batches and validation for :class:`~gnngeno.train.TrainingPlan`.

    Parameters
    ----------
    graph
        The model's :class:`ImputerGraph`.
    module
        The network (its ``log_likelihood`` and ``normalized_expression`` score validation).
    device
        Where the batch tensors go.
    batch_size
        Target cells per step.
    mask_fraction
        Fraction of a batch's entries hidden from the input and scored each step.
    visible_weight
        Weight of the loss on the visible entries.
    validation_fraction, max_validation_cells
        Cells whose ``mask_fraction`` of entries is held out for the whole of training.
    batch_sampling
        ``"random"`` or ``"cluster"`` (:func:`gnngeno.data.graph_parts`).
    max_neighbors
        Neighbours sampled per cell and layer in training steps (``None``: every one).
    seed
        Random seed of the validation split, the batches and the neighbour sampling.
    generator
        Torch generator of the batches and masks (its state is checkpointed by the plan).
    rank, world_size
        This process's share of each batch under data-parallel training.
    """

    def __init__(self, graph: ImputerGraph, module, *, device, batch_size: int,
                 mask_fraction: float, visible_weight: float, validation_fraction: float,
                 max_validation_cells: int, batch_sampling: str, max_neighbors: int | None,
                 seed: int, generator: torch.Generator, rank: int = 0,
                 world_size: int = 1) -> None:
        self.graph, self.module, self.device = graph, module, device
        self.batch_size, self.mask_fraction = batch_size, mask_fraction
        self.visible_weight, self.max_neighbors = visible_weight, max_neighbors
        self.gen, self.rank, self.world = generator, rank, world_size
        self.rng = np.random.default_rng(seed)
        n, G = graph.counts.shape
        # fixed validation entries: hidden from every input and from the training loss
        n_val = int(min(max_validation_cells, round(validation_fraction * n)))
        if validation_fraction > 0 and n_val < 1:
            n_val = 1
        self.val_cells = (np.sort(self.rng.choice(n, size=n_val, replace=False)) if n_val
                          else np.array([], int))
        self.val_mask = self.rng.random((n_val, G)) < mask_fraction
        self.val_pos = np.full(n, -1, dtype=np.int64)
        self.val_pos[self.val_cells] = np.arange(n_val)
        if n_val:  # a validation cell would lose all its counts: keep it whole
            sub = graph.counts[self.val_cells]
            r = np.repeat(np.arange(n_val), np.diff(sub.indptr))
            left = np.bincount(r[~self.val_mask[r, sub.indices]], minlength=n_val)
            self.val_mask[left == 0] = False
        self.has_validation = bool(n_val)
        self.parts = (graph_parts(graph.adj, batch_size, seed=seed)
                      if batch_sampling == "cluster" and batch_size < n else None)

    def validation_mask(self) -> sp.csr_matrix:
        """The held-out entries as a sparse boolean (cells, genes) matrix."""
        r, c = np.nonzero(self.val_mask)
        return sp.csr_matrix((np.ones(r.size, dtype=bool), (self.val_cells[r], c)),
                             shape=self.graph.counts.shape)

    def held_out(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The validation entries among (rows, cols): hidden from every input."""
        p = self.val_pos[rows]
        out = p >= 0
        out[out] = self.val_mask[p[out], cols[out]]
        return out

    def batches(self, epoch: int) -> Iterator[Batch]:
        """This process's share of every batch of the epoch, with its masks."""
        G = self.graph.counts.shape[1]
        held = self.held_out if self.has_validation else None
        for cells in cell_batches(self.graph.n_cells, self.batch_size, generator=self.gen,
                                  parts=self.parts):
            # the same draws on every process; each process then takes its share
            hide = (torch.rand(len(cells), G, generator=self.gen) < self.mask_fraction).numpy()
            if self.world > 1:
                mine = np.arange(self.rank, len(cells), self.world)
                mine = mine if mine.size else np.arange(1)  # every process must step
                cells, hide = cells[mine], hide[mine]
            loss_mask = hide.copy()
            pos = self.val_pos[cells]
            isval = pos >= 0
            if isval.any():
                loss_mask[isval] &= ~self.val_mask[pos[isval]]
            kw = self.graph.inputs(cells, self.device, hide=hide, max_neighbors=self.max_neighbors,
                                   rng=self.rng, held_out=held)
            kw["y"] = self.graph.targets(cells, self.device)
            kw["mask"] = torch.from_numpy(loss_mask).to(self.device)
            kw["visible_weight"] = self.visible_weight
            yield Batch(kw, n=float(len(cells)))

    def validate(self) -> dict[str, float]:
        """``val_loss`` (mean negative log-likelihood of the validation entries) and
        ``val_l1`` (median absolute error on the non-zero ones, log-normalised)."""
        module, dev, g = self.module, self.device, self.graph
        losses, errs = [], []
        for start in range(0, self.val_cells.size, 512):
            cells = self.val_cells[start:start + 512]
            kw = g.inputs(cells, dev, held_out=self.held_out)
            out = module(kw["x"], kw["adj"], kw["target"], kw["library"],
                         graph_features=kw["graph_features"])
            y = g.targets(cells, dev)
            m = torch.from_numpy(self.val_mask[start:start + 512]).to(dev)
            losses.append(float(-(module.log_likelihood(y, out) * m).sum()))
            pred = module.normalized_expression(out, TARGET_SUM)
            true = y if module.likelihood == "gaussian" else torch.log1p(
                y / kw["library"].unsqueeze(1) * TARGET_SUM)
            errs.append((pred - true).abs()[m & (y > 0)].cpu().numpy())
        e = np.concatenate(errs) if errs else np.array([np.nan])
        return {"val_loss": sum(losses) / max(int(self.val_mask.sum()), 1),
                "val_l1": float(np.median(e)) if e.size else float("nan")}


__all__ = ["ImputerGraph", "MaskedTrainingData", "TARGET_SUM", "neighbour_mean",
           "neighbour_mean_pca"]
