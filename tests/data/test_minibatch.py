"""Mini-batches for graph models without pyg-lib/torch-sparse."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from gnngeno.data import (
    cell_batches,
    graph_parts,
    induced_subgraph,
    khop_nodes,
    neighbourhood,
    partition_cells,
    sample_neighbourhood,
)
from gnngeno.nn import gcn_adjacency, propagate, to_torch_csr


def _path(n: int) -> sp.csr_matrix:
    """Path graph 0 - 1 - ... - n-1 with self-loops."""
    return sp.csr_matrix(np.eye(n) + np.eye(n, k=1) + np.eye(n, k=-1), dtype=np.float32)


def _knn(n=400, k=8, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 5, (4, 3))
    rep = centers[rng.integers(0, 4, n)] + rng.normal(0, 1, (n, 3))
    from sklearn.neighbors import kneighbors_graph

    A = kneighbors_graph(rep, k, include_self=False)
    A = ((A + A.T) > 0).astype(np.float32).tocsr()
    return A, rep.astype(np.float32)


def _gcn_norm(A):
    A = A + sp.identity(A.shape[0], format="csr", dtype=np.float32)
    d = 1 / np.sqrt(np.asarray(A.sum(1)).ravel())
    return sp.csr_matrix(sp.diags(d) @ A @ sp.diags(d), dtype=np.float32)


def test_khop_and_induced_subgraph_on_hand_written_graph():
    A = _path(6)
    assert khop_nodes(A, np.array([2]), 0).tolist() == [2]
    assert khop_nodes(A, np.array([2]), 1).tolist() == [2, 1, 3]
    assert khop_nodes(A, np.array([2]), 2).tolist() == [2, 1, 3, 0, 4]
    nodes = np.array([2, 1, 3])
    np.testing.assert_array_equal(induced_subgraph(A, nodes).toarray(),
                                  A[nodes][:, nodes].toarray())


@pytest.mark.parametrize("method", ["kmeans", "bfs", "rcm", "random"])
def test_partitions_are_complete_and_local(method):
    A, rep = _knn()
    parts = partition_cells(A, rep=rep if method == "kmeans" else None, n_parts=8,
                            method=method, seed=0)
    n_max = 8 if method != "bfs" else 12  # bfs: a few more parts (merged leftovers)
    assert parts.shape == (A.shape[0],) and parts.min() >= 0 and parts.max() < n_max
    assert np.unique(parts).size == parts.max() + 1  # labels are 0..k-1, no gaps
    coo = A.tocoo()
    within = float(np.mean(parts[coo.row] == parts[coo.col]))
    if method == "random":
        assert within < 0.3
    else:  # graph-aware partitions keep most kNN edges inside a part
        assert within > 0.6, within
    if method in ("rcm", "random"):
        assert np.bincount(parts).min() == np.bincount(parts).max()  # balanced
    if method == "bfs":  # parts never exceed ceil(N / n_parts) cells
        assert np.bincount(parts).max() <= -(-A.shape[0] // 8)


def test_graph_part_batches_cover_cells_once_and_outputs_are_exact():
    """Cluster batches with their 2-hop halo give the exact outputs of a 2-layer pass."""
    A, _ = _knn()
    An = _gcn_norm(A)
    X = torch.randn(A.shape[0], 5)
    full = torch.sparse.mm(to_torch_csr(An), torch.sparse.mm(to_torch_csr(An), X))
    parts = graph_parts(An, 60, seed=0)
    assert max(len(p) for p in parts) <= 60
    seen = []
    for cells in cell_batches(A.shape[0], 60, generator=torch.Generator().manual_seed(0),
                              parts=parts):
        nodes, sub = neighbourhood(An, cells, 2)
        assert nodes[: cells.size].tolist() == cells.tolist()
        At = to_torch_csr(sub)
        out = propagate(At, propagate(At, X[nodes]))
        torch.testing.assert_close(out[: cells.size], full[cells])
        seen.append(cells)
    seen = np.concatenate(seen)
    assert np.array_equal(np.sort(seen), np.arange(A.shape[0]))


def test_random_batches_cover_cells_and_change_every_epoch():
    g = torch.Generator().manual_seed(1)
    one, two = (cell_batches(101, 20, generator=g) for _ in range(2))
    for epoch in (one, two):
        assert [len(b) for b in epoch] == [20] * 5 + [1]
        assert np.array_equal(np.sort(np.concatenate(epoch)), np.arange(101))
        assert all((np.diff(b) > 0).all() for b in epoch)  # sorted
    assert not all(np.array_equal(a, b) for a, b in zip(one, two, strict=True))
    again = cell_batches(101, 20, generator=torch.Generator().manual_seed(1))
    assert all(np.array_equal(a, b) for a, b in zip(one, again, strict=True))  # seeded


def test_sampled_neighbourhood_is_exact_or_unbiased():
    """GraphSAGE-style sampling: every neighbour kept -> the exact product; few kept -> the
    target rows of ``A H`` on average."""
    rng = np.random.default_rng(0)
    A = gcn_adjacency(_knn(n=200)[0])
    cells = np.array([3, 10, 42, 100])
    H = rng.normal(size=(A.shape[0], 5))
    exact = (A @ H)[cells]
    deg = int(np.diff(A.indptr).max())
    nodes, S = sample_neighbourhood(A, cells, 1, deg, rng)
    assert nodes[:4].tolist() == cells.tolist()
    np.testing.assert_allclose((S @ H[nodes])[:4], exact, rtol=1e-5, atol=1e-6)
    draws = []
    for _ in range(2000):  # mean of 2000 draws: sd ~0.015 per entry
        nodes, S = sample_neighbourhood(A, cells, 1, 2, rng)
        assert (np.diff(S.indptr)[:4] <= 3).all()  # self-loop + 2 neighbours
        assert S[4:].nnz == 0  # halo rows empty (outputs unused with one layer)
        draws.append((S @ H[nodes])[:4])
    np.testing.assert_allclose(np.mean(draws, axis=0), exact, atol=0.08)
    # neighbourhood(): exact without max_neighbors, sampled with it
    nodes, S = neighbourhood(A, cells, 1)
    np.testing.assert_allclose((S @ H[nodes])[:4], exact, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="rng"):
        neighbourhood(A, cells, 1, max_neighbors=2)


def test_propagate_symmetric_backward_matches_autograd():
    A, _ = _knn(n=120)
    At = to_torch_csr(_gcn_norm(A))
    X = torch.randn(120, 4, requires_grad=True)
    W = torch.randn(120, 4)
    (propagate(At, X) * W).sum().backward()
    g_fast = X.grad.clone()
    X.grad = None
    (torch.sparse.mm(At.to_dense(), X) * W).sum().backward()
    torch.testing.assert_close(g_fast, X.grad)
