"""Sparse products: CSR propagation and sparse linear layers match their dense versions."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from gnngeno.nn import propagate, sparse_linear, to_torch_csr


def test_to_torch_csr_round_trip():
    A = sp.random(5, 4, density=0.4, format="csr", random_state=0, dtype=np.float64)
    T = to_torch_csr(A)
    assert T.layout == torch.sparse_csr and T.dtype == torch.float32
    np.testing.assert_allclose(T.to_dense().numpy(), A.toarray(), rtol=1e-6)


def test_propagate_on_hand_written_graph():
    A = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]],
                               dtype=np.float32))
    X = torch.arange(8, dtype=torch.float32).reshape(4, 2).requires_grad_()
    out = propagate(to_torch_csr(A), X)
    torch.testing.assert_close(out, torch.from_numpy(A.toarray()) @ X.detach())
    out.sum().backward()  # d/dX sum(A X) = A^T 1 = row sums of the symmetric A
    torch.testing.assert_close(X.grad[:, 0], torch.tensor([2.0, 3.0, 3.0, 2.0]))


def test_sparse_linear_gradients_match_dense():
    torch.manual_seed(0)
    Xs = sp.random(30, 12, density=0.2, format="csr", random_state=1, dtype=np.float32)
    lin = torch.nn.Linear(12, 5)
    G = torch.randn(30, 5)
    out = sparse_linear(to_torch_csr(Xs), lin.weight, lin.bias)
    (out * G).sum().backward()
    gw, gb = lin.weight.grad.clone(), lin.bias.grad.clone()
    lin.zero_grad()
    ref = lin(torch.from_numpy(Xs.toarray()))
    (ref * G).sum().backward()
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(gw, lin.weight.grad)
    torch.testing.assert_close(gb, lin.bias.grad)


def test_propagate_on_a_gcn_normalised_graph_matches_dense_gradients():
    from gnngeno.nn import gcn_adjacency

    A = sp.random(40, 40, density=0.1, random_state=2, dtype=np.float32, format="csr")
    An = gcn_adjacency(A, layout="torch_csr")  # symmetric: the backward reuses it
    X = torch.randn(40, 3, requires_grad=True)
    W = torch.randn(40, 3)
    (propagate(An, X) * W).sum().backward()
    g = X.grad.clone()
    X.grad = None
    (An.to_dense() @ X * W).sum().backward()
    torch.testing.assert_close(g, X.grad)
