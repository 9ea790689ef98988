"""Mini-batches of cells for graph models on graphs too large for one batch.

No ``pyg-lib``/``torch-sparse`` needed (PyG's ``NeighborLoader``/``ClusterData`` need them):
everything here slices a SciPy CSR adjacency.

- :func:`khop_nodes` / :func:`induced_subgraph`: a batch of target cells with their exact
  ``n_hops`` halo (targets first), as PyG's ``k_hop_subgraph``;
- :func:`sample_neighbourhood`: the same with at most ``max_neighbors`` random neighbours per
  cell and hop (GraphSAGE, Hamilton et al. 2017), weights rescaled so that ``A h`` is
  estimated without bias; :func:`neighbourhood` picks the exact or the sampled one;
- :func:`partition_cells`: balanced parts of mostly neighbouring cells (graph-grown balls,
  reverse Cuthill-McKee blocks, k-means on a representation, or random), and
  :func:`graph_parts` the parts of at most ``batch_size`` cells used as cluster batches
  (Cluster-GCN, Chiang et al. 2019, with the halo kept);
- :func:`cell_batches`: one epoch's batches of target cells, random or whole parts in a
  random order.

A batch's nodes are its targets first, then the halo: for a model with ``L`` graph layers and
``n_hops >= L``, the outputs of the first ``len(targets)`` rows equal those of a full-graph
pass.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import torch

from .._settings import resolve_seed

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
def sample_neighbourhood(adj: sp.spmatrix, cells: np.ndarray, n_hops: int, max_neighbors: int,
                         rng: np.random.Generator) -> tuple[np.ndarray, sp.csr_matrix]:
    """``cells`` and at most ``max_neighbors`` random neighbours per cell and hop.

    GraphSAGE-style sampling (Hamilton et al. 2017): each sampled row keeps its self-loop and
    scales its kept neighbour weights by ``(neighbours) / (kept)``, so that ``A h`` is estimated
    without bias. Rows of the last hop's nodes are empty (their outputs are not used).

    Parameters
    ----------
    adj
        ``(N, N)`` adjacency (CSR; row ``i`` lists the nodes ``i`` reads from).
    cells
        Target nodes (kept first, in the given order).
    n_hops
        Hops to sample.
    max_neighbors
        Neighbours kept per node and hop (the self-loop not counted).
    rng
        Random generator of the sampling.

    Returns
    -------
    ``(nodes, sub_adj)``: global indices of the batch's nodes (targets first) and their
    ``(len(nodes), len(nodes))`` CSR adjacency, which is not symmetric.
    """
    A = _csr(adj)
    cells = np.asarray(cells, dtype=np.int64)
    pos = np.full(A.shape[0], -1, dtype=np.int64)
    pos[cells] = np.arange(cells.size)
    nodes, rows, cols, vals = [cells], [], [], []
    frontier, n_nodes = cells, cells.size
    for _ in range(int(n_hops)):
        sub = A[frontier]
        r = np.repeat(np.arange(frontier.size), np.diff(sub.indptr))
        c, w = sub.indices.astype(np.int64), sub.data.astype(np.float32)
        is_self = c == frontier[r]
        key = rng.random(c.size)
        key[is_self] = -1.0  # the self-loop is always kept
        order = np.lexsort((key, r))
        r, c, w, is_self = r[order], c[order], w[order], is_self[order]
        starts = np.searchsorted(r, np.arange(frontier.size))
        rank = np.arange(r.size) - starts[r]
        n_self = np.bincount(r[is_self], minlength=frontier.size)
        n_other = np.bincount(r, minlength=frontier.size) - n_self
        keep = rank < n_self[r] + max_neighbors
        r, c, w, is_self = r[keep], c[keep], w[keep], is_self[keep]
        kept_other = np.minimum(n_other, max_neighbors)
        scale = np.divide(n_other, kept_other, out=np.ones(frontier.size, np.float64),
                          where=kept_other > 0)
        w = np.where(is_self, w, w * scale[r]).astype(np.float32)
        new = np.unique(c[pos[c] < 0])
        pos[new] = np.arange(new.size) + n_nodes
        n_nodes += new.size
        nodes.append(new)
        rows.append(pos[frontier][r])
        cols.append(pos[c])
        vals.append(w)
        frontier = new
    nodes_arr = np.concatenate(nodes)
    if not vals:
        return nodes_arr, sp.csr_matrix((nodes_arr.size, nodes_arr.size), dtype=np.float32)
    sub_adj = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                            shape=(nodes_arr.size, nodes_arr.size), dtype=np.float32)
    sub_adj.sort_indices()
    return nodes_arr, sub_adj


def neighbourhood(adj: sp.spmatrix, cells: np.ndarray, n_hops: int, *,
                  max_neighbors: int | None = None, rng: np.random.Generator | None = None
                  ) -> tuple[np.ndarray, sp.csr_matrix]:
    """``cells`` with their ``n_hops`` halo and its adjacency: exact
    (:func:`khop_nodes`, :func:`induced_subgraph`) when ``max_neighbors`` is ``None``,
    else sampled (:func:`sample_neighbourhood` with ``rng``).

    Returns
    -------
    ``(nodes, sub_adj)``, targets first.

    Examples
    --------
    >>> A = sp.csr_matrix(np.eye(4, k=1) + np.eye(4, k=-1))
    >>> nodes, sub = neighbourhood(A, np.array([0]), 1)
    >>> nodes.tolist(), sub.toarray().tolist()
    ([0, 1], [[0.0, 1.0], [1.0, 0.0]])
    """
    if max_neighbors is None or int(n_hops) == 0:
        nodes = khop_nodes(adj, cells, n_hops)
        return nodes, induced_subgraph(adj, nodes)
    if rng is None:
        raise ValueError("neighbourhood(max_neighbors=...) needs rng= (a numpy Generator).")
    return sample_neighbourhood(adj, cells, n_hops, int(max_neighbors), rng)


def graph_parts(adj: sp.spmatrix, batch_size: int, *, seed: int | None = None
                ) -> list[np.ndarray]:
    """Cluster batches: parts of at most ``batch_size`` neighbouring cells (graph-grown balls,
    :func:`partition_cells` with ``method="bfs"``), each sorted.

    Examples
    --------
    >>> A = sp.csr_matrix(np.eye(6, k=1) + np.eye(6, k=-1))
    >>> sorted(len(p) for p in graph_parts(A, 3, seed=0))
    [3, 3]
    """
    n = _csr(adj).shape[0]
    labels = partition_cells(adj, n_parts=max(1, math.ceil(n / batch_size)), method="bfs",
                             seed=seed)
    order = np.argsort(labels, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)


def cell_batches(n: int, batch_size: int, *, generator: torch.Generator,
                 parts: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """One epoch's batches of target cells, each sorted.

    Parameters
    ----------
    n
        Number of cells.
    batch_size
        Cells per batch (random batches).
    generator
        Torch generator of the shuffling (its state advances, so epochs differ).
    parts
        Cluster batches (:func:`graph_parts`): the parts in a new random order. ``None``:
        a random permutation of the cells cut into batches of ``batch_size``.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> sorted(len(b) for b in cell_batches(10, 4, generator=g))
    [2, 4, 4]
    """
    if parts is not None:
        return [np.sort(parts[i]) for i in torch.randperm(len(parts), generator=generator)]
    perm = torch.randperm(n, generator=generator).numpy()
    return [np.sort(perm[start:start + batch_size]) for start in range(0, n, batch_size)]


__all__ = [
    "PARTITION_METHODS", "cell_batches", "graph_parts", "induced_subgraph", "khop_nodes",
    "neighbourhood", "partition_cells", "sample_neighbourhood",
]

