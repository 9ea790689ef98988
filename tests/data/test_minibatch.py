"""Mini-batches for graph models without pyg-lib/torch-sparse."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from gnngeno.data import (
    ClusterLoader,
    NeighborhoodLoader,
    induced_subgraph,
    khop_nodes,
    partition_cells,
    predict_in_chunks,
    propagate,
    stream_batches,
    to_torch_csr,
)


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


def test_cluster_loader_targets_cover_cells_once_and_outputs_are_exact():
    A, rep = _knn()
    An = _gcn_norm(A)
    parts = partition_cells(A, rep=rep, n_parts=6, seed=0)
    X = torch.randn(A.shape[0], 5)
    full = torch.sparse.mm(to_torch_csr(An), torch.sparse.mm(to_torch_csr(An), X))
    seen = []
    for batch in ClusterLoader(An, parts, n_hops=2, parts_per_batch=2, seed=0):
        out = propagate(batch.adj_tensor(), propagate(batch.adj_tensor(), X[batch.nodes]))
        torch.testing.assert_close(out[: batch.n_targets], full[batch.targets])
        seen.append(batch.targets)
    seen = np.concatenate(seen)
    assert np.array_equal(np.sort(seen), np.arange(A.shape[0]))


def test_loaders_share_batches_between_processes():
    A, _ = _knn(n=101)
    parts = np.arange(101) % 7
    per_rank = [list(ClusterLoader(A, parts, rank=r, world_size=2, seed=3)) for r in (0, 1)]
    assert len(per_rank[0]) == len(per_rank[1]) == 4  # 7 parts padded to 8
    union = np.concatenate([b.targets for r in per_rank for b in r])
    assert set(union.tolist()) == set(range(101))
    # NeighborhoodLoader: the two ranks' batches together are the one-process batches
    one = [b.targets for b in NeighborhoodLoader(A, batch_size=20, seed=1, world_size=1, rank=0)]
    two = [[b.targets for b in NeighborhoodLoader(A, batch_size=20, seed=1, world_size=2,
                                                  rank=r)] for r in (0, 1)]
    assert len(two[0]) == len(two[1])
    for i in range(len(one) - 1):
        assert set(one[i]) == set(two[0][i]) | set(two[1][i])


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


def test_predict_in_chunks_streams_to_array_and_callable():
    An = _gcn_norm(_knn(n=150)[0])
    X = torch.randn(150, 3)
    full = torch.sparse.mm(to_torch_csr(An), X).numpy()

    def fn(batch):
        return propagate(batch.adj_tensor(), X[batch.nodes])[: batch.n_targets]

    got = predict_in_chunks(fn, An, chunk_size=40, n_hops=1, progress_desc=None)
    np.testing.assert_allclose(got, full, rtol=1e-5, atol=1e-6)
    rows = []
    predict_in_chunks(fn, An, chunk_size=64, out=lambda s, v: rows.append((s, v.shape)),
                      progress_desc=None)
    assert [r[0] for r in rows] == [slice(0, 64), slice(64, 128), slice(128, 150)]
    shares = [[s for s, _ in stream_batches(An, chunk_size=50, rank=r, world_size=2)]
              for r in (0, 1)]
    assert shares == [[slice(0, 50), slice(100, 150)], [slice(50, 100)]]
