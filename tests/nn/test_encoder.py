"""The graph-layer family: GCN normalisation, SGC propagation, the conv factory, the encoder
and the residual layer, on small hand-written graphs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from gnngeno.nn import (
    CONVS,
    GNNEncoder,
    GraphEncoder,
    GraphImputerModule,
    ResidualGraphLayer,
    gcn_adjacency,
    make_conv,
    sgc_propagate,
    to_torch_csr,
)

PATH = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])  # 0-1-2-3, both directions


def dense_gcn(edge_index: torch.Tensor, n: int, weight: torch.Tensor | None = None):
    """``D^-1/2 (A + I) D^-1/2`` by hand (dense), row = target."""
    A = torch.eye(n)
    w = torch.ones(edge_index.shape[1]) if weight is None else weight
    A[edge_index[1], edge_index[0]] = w
    d = A.sum(1).rsqrt()
    return d[:, None] * A * d[None, :]


# ------------------------------------------------------------------ normalisation
def test_gcn_adjacency_layouts_agree_with_the_hand_computed_matrix():
    w = torch.tensor([1.0, 1.0, 2.0, 2.0, 0.5, 0.5])
    expected = dense_gcn(PATH, 4, w)
    # degrees with the self-loop: 2, 4, 3.5, 1.5 -> entry (0, 1) = 1 / sqrt(2 * 4)
    assert expected[0, 1].item() == pytest.approx(1 / 8 ** 0.5)
    t = gcn_adjacency(PATH, w, 4)
    assert t.layout == torch.sparse_csr
    torch.testing.assert_close(t.to_dense(), expected)
    s = gcn_adjacency(PATH, w, 4, layout="scipy")
    assert sp.issparse(s) and s.dtype == np.float32 and s.has_sorted_indices
    np.testing.assert_allclose(s.toarray(), expected.numpy(), rtol=1e-6)
    ei, ew = gcn_adjacency(PATH, w, 4, layout="edge_index")
    assert ei.shape == (2, 10) and ew.shape == (10,)  # 6 edges + 4 self-loops
    with pytest.raises(ValueError, match="gcn_adjacency: layout='dense'"):
        gcn_adjacency(PATH, w, 4, layout="dense")


def test_gcn_adjacency_of_a_scipy_graph_is_symmetrised_with_unit_self_loops():
    # one direction only, and a diagonal weight that is replaced by the self-loop
    A = sp.csr_matrix(np.array([[5, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]],
                               dtype=np.float32))
    N = gcn_adjacency(A)
    assert sp.issparse(N) and N.dtype == np.float32
    np.testing.assert_allclose(N.toarray(), dense_gcn(PATH, 4).numpy(), rtol=1e-6)
    np.testing.assert_allclose(gcn_adjacency(A, layout="torch_csr").to_dense().numpy(),
                               N.toarray())
    with pytest.raises(ValueError, match="square"):
        gcn_adjacency(sp.csr_matrix((3, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="layout"):
        gcn_adjacency(A, layout="edge_index")


def test_scipy_and_edge_list_normalisations_agree_on_a_random_graph():
    A = sp.random(60, 60, density=0.1, random_state=0, dtype=np.float32, format="csr")
    S = sp.csr_matrix(A.maximum(A.T))
    S.setdiag(0)
    S.eliminate_zeros()
    coo = S.tocoo()
    ei = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
    from_edges = gcn_adjacency(ei, torch.from_numpy(coo.data), 60, layout="scipy")
    np.testing.assert_allclose(gcn_adjacency(A).toarray(), from_edges.toarray(), atol=1e-6)


def test_sgc_propagate_is_k_products_of_the_normalised_adjacency():
    torch.manual_seed(0)
    x = torch.randn(4, 3)
    dense = dense_gcn(PATH, 4)
    torch.testing.assert_close(sgc_propagate(x, PATH, hops=2), dense @ (dense @ x))
    torch.testing.assert_close(sgc_propagate(x, PATH, hops=1), dense @ x)
    assert torch.equal(sgc_propagate(x, PATH, hops=0), x)
    with pytest.raises(ValueError, match="hops"):
        sgc_propagate(x, PATH, hops=-1)


# ------------------------------------------------------------------ the conv factory
def test_make_conv_builds_each_kind_and_names_the_owner_in_errors():
    from torch_geometric.nn import GATConv, GATv2Conv, GCNConv

    assert CONVS == ("gcn", "gat", "gatv2", "sgc")
    assert isinstance(make_conv("gcn", 3, 4), GCNConv)
    assert isinstance(make_conv("gat", 3, 4, heads=2), GATConv)
    assert isinstance(make_conv("gatv2", 3, 4, heads=2), GATv2Conv)
    assert isinstance(make_conv("sgc", 3, 4), torch.nn.Linear)
    assert isinstance(make_conv("sgc", 3, 4, batch_norm=True)[1], torch.nn.BatchNorm1d)
    with pytest.raises(ValueError, match="MyEncoder: the width 5 .* divisible by heads=2"):
        make_conv("gat", 3, 5, heads=2, owner="MyEncoder")
    with pytest.raises(ValueError, match="MyEncoder: conv='sage'"):
        make_conv("sage", 3, 4, owner="MyEncoder")


# ------------------------------------------------------------------ the encoder
@pytest.mark.parametrize("conv", CONVS)
@pytest.mark.parametrize("variational", [False, True])
@pytest.mark.parametrize("residual", [False, True])
def test_encoder_shapes_and_gradients_for_every_conv(conv, variational, residual):
    torch.manual_seed(0)
    enc = GraphEncoder(5, 8, 3, n_layers=3, conv=conv, variational=variational,
                       residual=residual, heads=2, dropout=0.1)
    out = enc(torch.randn(4, 5), PATH)
    outs = out if variational else (out,)
    assert len(outs) == (2 if variational else 1)
    assert all(o.shape == (4, 3) and torch.isfinite(o).all() for o in outs)
    sum(o.sum() for o in outs).backward()
    assert all(p.grad is not None for p in enc.parameters())


def test_cached_and_per_call_gcn_normalisations_give_the_same_encoder():
    torch.manual_seed(0)
    x = torch.randn(4, 3)
    w = torch.rand(PATH.shape[1]) + 0.5
    cached = GraphEncoder(3, 6, 2, conv="gcn", dropout=0.0, cached=True).eval()
    per_call = GraphEncoder(3, 6, 2, conv="gcn", dropout=0.0, cached=False).eval()
    per_call.load_state_dict(cached.state_dict())
    torch.testing.assert_close(cached(x, PATH, w), per_call(x, PATH, w))
    # and both are GCN layers on the hand-computed adjacency
    A = dense_gcn(PATH, 4, w)
    c0, c1 = cached.convs
    h = torch.relu(A @ (x @ c0.lin.weight.T) + c0.bias)
    torch.testing.assert_close(cached(x, PATH, w), A @ (h @ c1.lin.weight.T) + c1.bias)


def test_gnn_encoder_is_the_graph_encoder_with_link_predictor_defaults():
    enc = GNNEncoder(5, 8, 4, num_layers=2, conv="gat", heads=2)
    assert isinstance(enc, GraphEncoder)
    assert enc.residual and len(enc.skips) == 2 and not enc.cached
    assert enc.convs[1].heads == 2  # the same heads in every layer
    z = enc(torch.randn(4, 5), PATH)
    assert z.shape == (4, 4)
    sgc = GNNEncoder(5, 8, 4, conv="sgc")
    assert sgc(torch.randn(4, 5), PATH).shape == (4, 4)
    with pytest.raises(ValueError, match="GNNEncoder: num_layers"):
        GNNEncoder(5, 8, 4, num_layers=0)
    with pytest.raises(ValueError, match="GraphEncoder: n_layers"):
        GraphEncoder(5, 8, 4, n_layers=0)
    with pytest.raises(ValueError, match="dropout"):
        GraphEncoder(5, 8, 4, dropout=1.0)


@pytest.mark.parametrize("conv", ["gcn", "sgc"])
def test_encoder_loads_state_dicts_with_the_former_layer_names(conv):
    torch.manual_seed(0)
    x = torch.randn(4, 3)
    enc = GraphEncoder(3, 6, 2, conv=conv, variational=True, dropout=0.0).eval()
    new_to_old = ({"convs.0.0.": "body.0.", "convs.0.1.": "body.1.", "convs.1.": "conv_mu."}
                  if conv == "sgc" else {"convs.0.": "conv1.", "convs.1.": "conv_mu."})
    old = {}
    for key, value in enc.state_dict().items():
        for new, former in new_to_old.items():
            if key.startswith(new):
                key = former + key[len(new):]
                break
        old[key] = value
    assert "conv_mu.bias" in old
    fresh = GraphEncoder(3, 6, 2, conv=conv, variational=True, dropout=0.0).eval()
    fresh.load_state_dict(old)
    for a, b in zip(enc(x, PATH), fresh(x, PATH), strict=True):
        assert torch.equal(a, b)


# ------------------------------------------------------------------ the residual layer
def test_residual_gcn_layer_on_a_csr_graph_and_its_row_chunks():
    torch.manual_seed(0)
    A = gcn_adjacency(PATH, None, 4)
    layer = ResidualGraphLayer(3, conv="gcn", dropout=0.0).eval()
    h = torch.randn(4, 3)
    agg = A.to_dense() @ h
    expected = h + torch.relu(layer.norm(agg @ layer.lin.weight.T + layer.lin.bias))
    torch.testing.assert_close(layer(h, A), expected)
    # layer-wise inference: rows [1, 2] from their own block of Â H
    rows = to_torch_csr(gcn_adjacency(PATH, None, 4, layout="scipy")[1:3])
    torch.testing.assert_close(layer.combine(h[1:3], torch.sparse.mm(rows, h)), expected[1:3])
    with pytest.raises(ValueError, match="Owner: conv='sgc' has no residual graph layer"):
        ResidualGraphLayer(3, conv="sgc", owner="Owner")


@pytest.mark.parametrize("conv", ["gat", "gatv2"])
def test_residual_attention_layer_reads_the_adjacency_pattern(conv):
    torch.manual_seed(0)
    A = gcn_adjacency(PATH, None, 4)
    layer = ResidualGraphLayer(4, conv=conv, heads=2).eval()
    h = torch.randn(4, 4)
    out = layer(h, A)
    assert out.shape == (4, 4)
    h2 = h.clone()
    h2[3] += 3.0  # node 3 is a neighbour of node 2 only
    changed = (layer(h2, A) - out).abs().sum(1) > 1e-6
    assert changed.tolist() == [False, False, True, True]


def test_imputer_builds_its_layers_from_the_family():
    m = GraphImputerModule(5, n_hidden=8, n_latent=3, n_layers=2, conv="gatv2", heads=2)
    assert all(isinstance(layer, ResidualGraphLayer) for layer in m.layers)
    with pytest.raises(ValueError, match="GraphImputerModule: the width 8 .* heads=3"):
        GraphImputerModule(5, n_hidden=8, conv="gat", heads=3)
