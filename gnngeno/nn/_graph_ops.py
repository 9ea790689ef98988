"""Graph operators shared by the graph layers: the GCN normalisation and SGC propagation.

- :func:`gcn_adjacency`: ``Â = D^-1/2 (A + I) D^-1/2`` (Kipf & Welling 2017), the package's
  one GCN normalisation. For an edge list it is PyTorch Geometric's ``gcn_norm``, returned as a
  torch sparse CSR tensor (for ``GCNConv(normalize=False)``, :func:`propagate_features` and
  :func:`gnngeno.nn.propagate`), a SciPy CSR matrix or PyG's ``(edge_index, edge_weight)``;
  a SciPy adjacency (e.g. kNN connectivities, symmetrised) gives the SciPy matrix that the
  mini-batch loaders cut row blocks from.
- :func:`sgc_propagate` / :func:`propagate_features`: ``Â^K x`` (SGC, Wu et al. 2019).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch

from .._validate import InputError
from ._sparse import to_torch_csr

LAYOUTS = ("torch_csr", "scipy", "edge_index")


def gcn_adjacency(edge_index, edge_weight: torch.Tensor | None = None,
                  num_nodes: int | None = None, *, add_self_loops: bool = True,
                  layout: str | None = None):
    """GCN-normalised adjacency ``Â = D^-1/2 (A + I) D^-1/2`` of a graph.

    An edge list is normalised by PyG's ``gcn_norm`` (in-degrees, i.e. column sums, with
    the self-loops). A SciPy ``(N, N)`` adjacency is first made symmetric (``max(A, A^T)``,
    e.g. kNN connectivities) with its diagonal replaced by unit self-loops, and normalised in
    SciPy (degrees are NumPy's pairwise row sums, so an entry can differ from the edge-list
    path's in the last float32 bit); the result is symmetric and its row blocks (induced
    subgraphs of the mini-batch loaders) can be propagated with :func:`gnngeno.nn.propagate`.

    Parameters
    ----------
    edge_index
        ``(2, E)`` edge tensor (``edge_index[0]`` = source, ``edge_index[1]`` = target), or
        a non-negative SciPy (or NumPy) ``(N, N)`` adjacency.
    edge_weight
        ``(E,)`` non-negative weights of an edge list (default: 1).
    num_nodes
        Number of nodes ``N`` of an edge list (default: ``edge_index.max() + 1``).
    add_self_loops
        Edge lists: add a unit self-loop to every node without one; ``False`` when the loops
        are already in the list.
    layout
        ``"torch_csr"`` (a float sparse CSR tensor in PyG's transposed layout, row = target,
        as ``GCNConv(normalize=False)`` reads it), ``"scipy"`` (a float32 SciPy CSR matrix with
        sorted indices, row = target) or ``"edge_index"`` (PyG's ``(edge_index,
        edge_weight)``; edge lists only). Default: ``"torch_csr"`` for an edge list,
        ``"scipy"`` for a SciPy matrix.

    Returns
    -------
    The normalised adjacency in the chosen layout.

    Shapes
    ------
    ``edge_index`` (2, E), ``edge_weight`` (E,), or a SciPy (N, N) -> sparse (N, N), or
    (2, E'), (E',) with ``E' <= E + N``.

    Examples
    --------
    >>> import torch
    >>> gcn_adjacency(torch.tensor([[0, 1], [1, 0]]), num_nodes=2).to_dense()
    tensor([[0.5000, 0.5000],
            [0.5000, 0.5000]])
    """
    is_scipy = not isinstance(edge_index, torch.Tensor)  # a SciPy (or NumPy) adjacency
    layout = layout or ("scipy" if is_scipy else "torch_csr")
    if layout not in LAYOUTS or (is_scipy and layout == "edge_index"):
        allowed = [k for k in LAYOUTS if not (is_scipy and k == "edge_index")]
        raise InputError(f"gcn_adjacency: layout={layout!r} is not supported for this input; "
                         f"choose one of {allowed}.")
    if is_scipy:
        A = _gcn_normalize_scipy(edge_index)
        return A if layout == "scipy" else to_torch_csr(A)
    from torch_geometric.nn.conv.gcn_conv import gcn_norm

    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
    ei, w = gcn_norm(edge_index, edge_weight, num_nodes, add_self_loops=add_self_loops)
    if layout == "edge_index":
        return ei, w
    if layout == "scipy":
        A = sp.csr_matrix((w.detach().cpu().numpy().astype(np.float32, copy=False),
                           (ei[1].cpu().numpy(), ei[0].cpu().numpy())),
                          shape=(num_nodes, num_nodes))
        A.sort_indices()
        return A
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
        adj = torch.sparse_coo_tensor(torch.stack([ei[1], ei[0]]), w, (num_nodes, num_nodes))
        return adj.coalesce().to_sparse_csr()


def _gcn_normalize_scipy(A: sp.spmatrix) -> sp.csr_matrix:
    """:func:`gcn_adjacency` of a SciPy adjacency (symmetrised, unit self-loops)."""
    A = sp.csr_matrix(A, dtype=np.float32)
    if A.shape[0] != A.shape[1]:
        raise InputError(f"gcn_adjacency: the adjacency must be square, got shape {A.shape}; "
                         "pass the (N, N) cell or gene graph.")
    A = A.maximum(A.T)
    A.setdiag(0)
    A.eliminate_zeros()
    A = A + sp.identity(A.shape[0], dtype=np.float32, format="csr")
    deg = np.asarray(A.sum(axis=1)).ravel()
    d = 1.0 / np.sqrt(deg)
    A = sp.diags(d) @ A @ sp.diags(d)
    A = sp.csr_matrix(A, dtype=np.float32)
    A.sort_indices()
    return A


def propagate_features(adj: torch.Tensor, x: torch.Tensor, hops: int) -> torch.Tensor:
    """``Â^hops x``: ``hops`` products of the (normalised, sparse) adjacency ``adj`` with ``x``.

    Parameters
    ----------
    adj
        Sparse ``(N, N)`` normalised adjacency, e.g. from :func:`gcn_adjacency`.
    x
        Dense ``(N, F)`` node features.
    hops
        Number of products (0 returns ``x``).

    Shapes
    ------
    ``adj`` sparse (N, N), ``x`` (N, F) -> (N, F).
    """
    for _ in range(int(hops)):
        x = adj @ x
    return x


def sgc_propagate(x: torch.Tensor, edge_index: torch.Tensor,
                  edge_weight: torch.Tensor | None = None, hops: int = 2) -> torch.Tensor:
    """SGC's parameter-free smoothing ``Â^hops x`` (Wu et al. 2019) with the GCN-normalised
    adjacency of the graph (:func:`gcn_adjacency`, self-loops added).

    Parameters
    ----------
    x
        Node features ``(N, F)``.
    edge_index, edge_weight
        The graph (``(2, E)``, ``(E,)``).
    hops
        Propagation steps ``K`` (0 returns ``x``).

    Shapes
    ------
    ``x`` (N, F), ``edge_index`` (2, E), ``edge_weight`` (E,) -> (N, F).

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[1.0], [0.0]])
    >>> sgc_propagate(x, torch.tensor([[0, 1], [1, 0]]), hops=1)
    tensor([[0.5000],
            [0.5000]])
    """
    if int(hops) < 0:
        raise InputError(f"sgc_propagate: hops must be >= 0, got {hops}.")
    if int(hops) == 0:
        return x
    return propagate_features(gcn_adjacency(edge_index, edge_weight, x.shape[0]), x, hops)


__all__ = ["LAYOUTS", "gcn_adjacency", "propagate_features", "sgc_propagate"]
