"""Mini-batches of cells for graph models on graphs too large for one batch.

No ``pyg-lib``/``torch-sparse`` needed (PyG's ``NeighborLoader``/``ClusterData`` need them):
everything here slices a SciPy CSR adjacency.

- :func:`partition_cells` splits the cells into balanced parts (k-means on a representation
  such as PCA, a reverse Cuthill-McKee ordering of the graph cut into equal blocks, or random);
- :class:`ClusterLoader` yields one or several parts per batch with their ``n_hops`` halo
  (Cluster-GCN with the halo kept, so the targets' neighbourhoods are exact);
- :class:`NeighborhoodLoader` yields random target cells with their ``n_hops`` halo;
- :func:`stream_batches` / :func:`predict_in_chunks` stream inference over contiguous chunks
  of cells (results written chunk by chunk, e.g. into an HDF5 dataset);
- :func:`to_torch_csr` and :func:`propagate` do the sparse product ``A @ X`` with torch's CSR
  kernel and a backward pass that reuses ``A`` for symmetric graphs (no transpose).

Every loader takes ``rank``/``world_size`` (default: the active :mod:`torch.distributed`
group) and gives each process the same number of batches, as DDP requires.

A batch's nodes are its targets first, then the halo: for a model with ``L`` graph layers and
``n_hops >= L``, the outputs of the first ``n_targets`` rows equal those of a full-graph pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from .._settings import resolve_seed
from ..nn._sparse import propagate, sparse_linear, to_torch_csr  # noqa: F401 (re-exported)

PARTITION_METHODS = ("auto", "kmeans", "bfs", "rcm", "random")


# --------------------------------------------------------------------------- graph helpers
def _csr(adj) -> sp.csr_matrix:
    A = adj if sp.isspmatrix_csr(adj) or isinstance(adj, sp.csr_array) else sp.csr_matrix(adj)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"the adjacency must be square (cells x cells), got {A.shape}.")
    return A


def khop_nodes(adj: sp.spmatrix, seeds: np.ndarray, n_hops: int = 1) -> np.ndarray:
    """``seeds`` followed by every other node within ``n_hops`` hops (ordered by hop).

    Parameters
    ----------
    adj
        Sparse ``(N, N)`` adjacency (CSR; row ``i`` lists the nodes ``i`` reads from).
    seeds
        Target node indices (kept first, in the given order).
    n_hops
        Hops of halo to add (0: the seeds only).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> A = sp.csr_matrix(([1, 1, 1, 1], ([0, 1, 1, 2], [1, 0, 2, 1])), shape=(4, 4))
    >>> khop_nodes(A, np.array([0]), 2).tolist()
    [0, 1, 2]
    """
    A = _csr(adj)
    seeds = np.asarray(seeds, dtype=np.int64)
    seen = np.zeros(A.shape[0], dtype=bool)
    seen[seeds] = True
    out, frontier = [seeds], seeds
    for _ in range(int(n_hops)):
        if frontier.size == 0:
            break
        nb = A[frontier].indices
        new = np.unique(nb[~seen[nb]]).astype(np.int64)
        seen[new] = True
        out.append(new)
        frontier = new
    return np.concatenate(out)


def induced_subgraph(adj: sp.spmatrix, nodes: np.ndarray) -> sp.csr_matrix:
    """``adj[nodes][:, nodes]`` as CSR, computed from the rows of ``nodes`` only (no pass over
    the whole matrix): the cost is the number of non-zeros in those rows."""
    A = _csr(adj)
    nodes = np.asarray(nodes, dtype=np.int64)
    pos = np.full(A.shape[0], -1, dtype=np.int64)
    pos[nodes] = np.arange(nodes.size)
    rows = A[nodes]
    col = pos[rows.indices]
    keep = col >= 0
    r = np.repeat(np.arange(nodes.size), np.diff(rows.indptr))[keep]
    sub = sp.csr_matrix((rows.data[keep], (r, col[keep])), shape=(nodes.size, nodes.size))
    sub.sort_indices()
    return sub


# --------------------------------------------------------------------------- partitions
def partition_cells(adj: sp.spmatrix | None = None, *, rep: np.ndarray | None = None,
                    n_parts: int, method: str = "auto", seed: int | None = None) -> np.ndarray:
    """Split cells into ``n_parts`` parts whose members are mostly each other's neighbours.

    METIS (PyG's ``ClusterData``) needs ``torch-sparse``; these methods need only SciPy and
    scikit-learn.

    Parameters
    ----------
    adj
        Cell graph ``(N, N)`` (for ``"bfs"`` and ``"rcm"``).
    rep
        Cell representation ``(N, d)``, e.g. PCA (for ``"kmeans"``).
    n_parts
        Number of parts.
    method
        ``"kmeans"``: :class:`sklearn.cluster.MiniBatchKMeans` on ``rep`` (parts of unequal
        size; the fewest cut edges on kNN graphs); ``"bfs"``: graph-grown balls: from a random
        unassigned cell, breadth-first over unassigned cells until the part holds
        ``ceil(N / n_parts)`` cells (compact parts with small boundaries on kNN graphs, one
        ``O(nnz)`` pass; the small leftovers of the last balls are merged, so parts are at most
        that size); ``"rcm"``: reverse Cuthill-McKee ordering of the graph (a breadth-first,
        bandwidth-reducing order), cut into ``n_parts`` equal blocks (its global breadth-first
        levels are thin shells with large boundaries on kNN graphs); ``"random"``: balanced
        random parts (a baseline: most edges are cut); ``"auto"``: ``"kmeans"`` when ``rep`` is
        given, else ``"bfs"``.
    seed
        Random seed (default ``settings.seed``).

    Returns
    -------
    ``(N,)`` int64 part labels ``0, 1, ...``: in ``range(n_parts)`` (a part may be empty with
    k-means), except ``"bfs"``, whose parts hold at most ``ceil(N / n_parts)`` cells and may
    number a few more than ``n_parts``.
    """
    if method not in PARTITION_METHODS:
        raise ValueError(f"method={method!r} is not supported; choose one of "
                         f"{list(PARTITION_METHODS)}.")
    if method == "auto":
        method = "kmeans" if rep is not None else "bfs"
    seed = resolve_seed(seed)
    n = rep.shape[0] if rep is not None else (adj.shape[0] if adj is not None else None)
    if n is None:
        raise ValueError("partition_cells needs adj= (graph) or rep= (representation).")
    n_parts = int(max(1, min(n_parts, n)))
    if n_parts == 1:
        return np.zeros(n, dtype=np.int64)
    if method == "kmeans":
        if rep is None:
            raise ValueError("method='kmeans' needs rep= (e.g. adata.obsm['X_pca']).")
        from sklearn.cluster import MiniBatchKMeans

        km = MiniBatchKMeans(n_clusters=n_parts, random_state=seed, batch_size=4096,
                             n_init=1, max_iter=20, max_no_improvement=5)
        return km.fit_predict(np.asarray(rep, dtype=np.float32)).astype(np.int64)
    if method == "bfs":
        if adj is None:
            raise ValueError("method='bfs' needs adj= (the cell graph).")
        return _bfs_parts(_csr(adj), math.ceil(n / n_parts), np.random.default_rng(seed))
    if method == "rcm":
        if adj is None:
            raise ValueError("method='rcm' needs adj= (the cell graph).")
        from scipy.sparse.csgraph import reverse_cuthill_mckee

        A = _csr(adj)
        A = (A + A.T).tocsr()
        order = reverse_cuthill_mckee(A, symmetric_mode=True)
        labels = np.empty(n, dtype=np.int64)
        labels[order] = np.arange(n, dtype=np.int64) * n_parts // n
        return labels
    rng = np.random.default_rng(seed)
    labels = np.arange(n, dtype=np.int64) * n_parts // n
    return rng.permutation(labels)


def _bfs_parts(A: sp.csr_matrix, size: int, rng: np.random.Generator) -> np.ndarray:
    """Labels of graph-grown balls of at most ``size`` cells (see :func:`partition_cells`)."""
    n = A.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    sizes: list[int] = []
    for start in rng.permutation(n):
        if labels[start] >= 0:
            continue
        part = len(sizes)
        labels[start] = part
        count, frontier = 1, np.array([start])
        while count < size and frontier.size:
            nb = np.unique(A[frontier].indices)
            nb = nb[labels[nb] < 0][: size - count]
            labels[nb] = part
            count += nb.size
            frontier = nb
        sizes.append(count)
    # merge the small balls left at the end (cells whose neighbours were all taken) greedily
    # into parts of at most ``size`` cells
    sizes_arr = np.asarray(sizes)
    new = np.arange(len(sizes), dtype=np.int64)
    small = np.flatnonzero(sizes_arr < size // 2)
    if small.size:
        group, filled = small[0], 0
        for p in small:
            if filled + sizes_arr[p] > size:
                group, filled = p, 0
            new[p] = group
            filled += sizes_arr[p]
    _, labels_out = np.unique(new[labels], return_inverse=True)
    return labels_out.astype(np.int64)


# --------------------------------------------------------------------------- batches
@dataclass
class SubgraphBatch:
    """Target cells with their halo.

    Attributes
    ----------
    nodes
        Global indices of the batch's nodes: the ``n_targets`` targets first, then the halo.
    n_targets
        Number of targets (outputs and losses are read from the first ``n_targets`` rows).
    adj
        Induced ``(len(nodes), len(nodes))`` CSR adjacency among ``nodes``.
    """

    nodes: np.ndarray
    n_targets: int
    adj: sp.csr_matrix

    @property
    def targets(self) -> np.ndarray:
        """Global indices of the targets."""
        return self.nodes[: self.n_targets]

    @property
    def n_nodes(self) -> int:
        return int(self.nodes.size)

    def adj_tensor(self, device: torch.device | str | None = None) -> torch.Tensor:
        """The adjacency as a torch CSR tensor (see :func:`to_torch_csr`)."""
        return to_torch_csr(self.adj, device)

    def edge_index(self, device: torch.device | str | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(edge_index (2, E), edge_weight (E,))`` of the batch graph in PyG's convention
        (``edge_index[0]`` = source = column of ``adj``)."""
        coo = self.adj.tocoo()
        ei = torch.from_numpy(np.vstack([coo.col, coo.row]).astype(np.int64))
        w = torch.from_numpy(coo.data.astype(np.float32))
        return (ei, w) if device is None else (ei.to(device), w.to(device))


def _make_batch(A: sp.csr_matrix, targets: np.ndarray, n_hops: int) -> SubgraphBatch:
    nodes = khop_nodes(A, targets, n_hops)
    return SubgraphBatch(nodes, int(len(targets)), induced_subgraph(A, nodes))


def _dist_defaults(rank: int | None, world_size: int | None) -> tuple[int, int]:
    from ..train._distributed import get_rank, get_world_size

    return (get_rank() if rank is None else int(rank),
            get_world_size() if world_size is None else int(world_size))


class ClusterLoader:
    """Batches of whole parts (clusters) of cells with their ``n_hops`` halo.

    Parameters
    ----------
    adj
        Cell graph ``(N, N)`` used by the model (e.g. GCN-normalised), CSR.
    parts
        ``(N,)`` part label per cell (:func:`partition_cells`).
    n_hops
        Halo hops (the number of graph layers of the model for exact target outputs; 0 drops
        the edges leaving the batch, as the original Cluster-GCN).
    parts_per_batch
        Parts merged into one batch (several small random parts per batch reduce the bias of
        training on one cluster at a time).
    cells
        Restrict the targets to these cells (e.g. the training cells); halo nodes may be any.
    shuffle
        Shuffle the order of the parts every epoch (:meth:`set_epoch`).
    seed
        Shuffling seed (default ``settings.seed``).
    rank, world_size
        Share the batches among processes (default: the active process group). Every process
        gets ``ceil(n_batches / world_size)`` batches.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> A = sp.csr_matrix(np.eye(6, k=1) + np.eye(6, k=-1))
    >>> loader = ClusterLoader(A, np.array([0, 0, 0, 1, 1, 1]), n_hops=1, shuffle=False)
    >>> [(b.targets.tolist(), b.nodes.tolist()) for b in loader]
    [([0, 1, 2], [0, 1, 2, 3]), ([3, 4, 5], [3, 4, 5, 2])]
    """

    def __init__(self, adj: sp.spmatrix, parts: np.ndarray, *, n_hops: int = 1,
                 parts_per_batch: int = 1, cells: np.ndarray | None = None,
                 shuffle: bool = True, seed: int | None = None, rank: int | None = None,
                 world_size: int | None = None) -> None:
        self.adj = _csr(adj)
        parts = np.asarray(parts, dtype=np.int64)
        if parts.shape != (self.adj.shape[0],):
            raise ValueError(f"parts has shape {parts.shape}; expected ({self.adj.shape[0]},).")
        keep = np.ones(parts.size, bool) if cells is None else np.isin(
            np.arange(parts.size), np.asarray(cells))
        order = np.argsort(parts, kind="stable")
        order = order[keep[order]]
        labels, starts = np.unique(parts[order], return_index=True)
        self.members = np.split(order, starts[1:]) if order.size else []
        self.n_hops = int(n_hops)
        self.parts_per_batch = int(max(1, parts_per_batch))
        self.shuffle = shuffle
        self.seed = resolve_seed(seed)
        self.rank, self.world_size = _dist_defaults(rank, world_size)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle for ``epoch`` (call before iterating, as with ``DistributedSampler``)."""
        self.epoch = int(epoch)

    @property
    def n_batches(self) -> int:
        """Batches over all processes."""
        return math.ceil(len(self.members) / self.parts_per_batch)

    def __len__(self) -> int:
        return math.ceil(self.n_batches / self.world_size)

    def _groups(self) -> list[np.ndarray]:
        from ..train._distributed import shard_indices

        ids = np.arange(len(self.members))
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            ids = ids[torch.randperm(len(ids), generator=g).numpy()]
        groups = [ids[i:i + self.parts_per_batch] for i in range(0, len(ids), self.parts_per_batch)]
        mine = shard_indices(len(groups), rank=self.rank, world_size=self.world_size,
                             shuffle=False)
        return [groups[i] for i in mine]

    def __iter__(self) -> Iterator[SubgraphBatch]:
        for group in self._groups():
            targets = np.sort(np.concatenate([self.members[i] for i in group]))
            yield _make_batch(self.adj, targets, self.n_hops)


class NeighborhoodLoader:
    """Random batches of target cells with their ``n_hops`` halo (exact k-hop subgraphs).

    Parameters
    ----------
    adj
        Cell graph ``(N, N)``, CSR.
    batch_size
        Targets per batch (over all processes: each process takes ``batch_size // world_size``
        of the same shuffled order, so a distributed step covers the same cells as a
        single-process step).
    n_hops
        Halo hops.
    cells
        Candidate targets (default: every cell).
    shuffle, seed
        Reshuffle every epoch (:meth:`set_epoch`) from ``seed``.
    rank, world_size
        Process share (default: the active process group).
    """

    def __init__(self, adj: sp.spmatrix, *, batch_size: int, n_hops: int = 1,
                 cells: np.ndarray | None = None, shuffle: bool = True,
                 seed: int | None = None, rank: int | None = None,
                 world_size: int | None = None) -> None:
        self.adj = _csr(adj)
        self.cells = np.arange(self.adj.shape[0]) if cells is None else np.asarray(cells)
        self.rank, self.world_size = _dist_defaults(rank, world_size)
        if batch_size < self.world_size:
            raise ValueError(f"batch_size={batch_size} must be >= world_size={self.world_size}.")
        self.batch_size = int(batch_size)
        self.local_batch = self.batch_size // self.world_size
        self.n_hops = int(n_hops)
        self.shuffle = shuffle
        self.seed = resolve_seed(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        per_rank = math.ceil(len(self.cells) / self.world_size)
        return math.ceil(per_rank / self.local_batch)

    def __iter__(self) -> Iterator[SubgraphBatch]:
        from ..train._distributed import shard_indices

        mine = shard_indices(self.cells, rank=self.rank, world_size=self.world_size,
                             shuffle=self.shuffle, seed=self.seed, epoch=self.epoch)
        for start in range(0, len(mine), self.local_batch):
            yield _make_batch(self.adj, np.sort(mine[start:start + self.local_batch]),
                              self.n_hops)


# --------------------------------------------------------------------------- streaming
def iter_slices(n: int, chunk_size: int) -> Iterator[slice]:
    """Consecutive ``slice`` objects covering ``range(n)`` in chunks of ``chunk_size``."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}.")
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


def stream_batches(adj: sp.spmatrix, *, chunk_size: int = 4096, n_hops: int = 1,
                   rank: int = 0, world_size: int = 1) -> Iterator[tuple[slice, SubgraphBatch]]:
    """Contiguous chunks of cells with their halo, for inference.

    Yields ``(rows, batch)`` with ``rows`` the slice of cells that ``batch.targets`` covers.
    With ``world_size > 1``, process ``rank`` gets chunks ``rank, rank + world_size, ...``.
    """
    A = _csr(adj)
    for i, s in enumerate(iter_slices(A.shape[0], chunk_size)):
        if i % world_size == rank:
            yield s, _make_batch(A, np.arange(s.start, s.stop), n_hops)


def predict_in_chunks(fn: Callable[[SubgraphBatch], np.ndarray | torch.Tensor],
                      adj: sp.spmatrix, *, chunk_size: int = 4096, n_hops: int = 1,
                      out=None, progress_desc: str | None = "predicting"):
    """Run ``fn`` over contiguous chunks of cells and collect or write the outputs.

    Parameters
    ----------
    fn
        ``fn(batch) -> (batch.n_targets, ...)`` outputs of the batch's targets (e.g. a model's
        forward pass on the batch's subgraph, under ``torch.no_grad``).
    adj
        Cell graph ``(N, N)``.
    chunk_size
        Targets per chunk (memory: the chunk's halo and outputs).
    n_hops
        Halo hops (the model's number of graph layers).
    out
        Where to put the outputs: ``None`` (a new in-memory array), an array-like supporting
        ``out[start:stop] = values`` (a NumPy array, ``np.memmap`` or an ``h5py`` dataset,
        which keeps the output out of memory), or a callable ``out(rows: slice, values)``.
    progress_desc
        Progress-bar label (``None``: no bar).

    Returns
    -------
    The filled array (``out`` itself when given as an array, the new array when ``None``), or
    ``None`` when ``out`` is a callable.
    """
    from .._logging import progress

    A = _csr(adj)
    n = A.shape[0]
    result = out
    it = stream_batches(A, chunk_size=chunk_size, n_hops=n_hops)
    if progress_desc:
        it = progress(it, total=math.ceil(n / chunk_size), desc=progress_desc)
    for rows, batch in it:
        values = fn(batch)
        if isinstance(values, torch.Tensor):
            values = values.detach().cpu().numpy()
        if result is None:
            result = np.empty((n,) + values.shape[1:], dtype=values.dtype)
        if callable(result) and not hasattr(result, "__setitem__"):
            result(rows, values)
        else:
            result[rows] = values
    return None if callable(out) and not hasattr(out, "__setitem__") else result


__all__ = [
    "ClusterLoader", "NeighborhoodLoader", "PARTITION_METHODS", "SubgraphBatch",
    "induced_subgraph", "iter_slices", "khop_nodes", "partition_cells", "predict_in_chunks",
    "propagate", "sparse_linear", "stream_batches", "to_torch_csr",
]
