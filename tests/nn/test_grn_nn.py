"""GNN encoders and link decoders on 4-node hand-written graphs."""

from __future__ import annotations

import pytest
import torch

from gnngeno.nn import GNNEncoder, LinkDecoder, LinkPredictor

EDGES = torch.tensor([[0, 1, 2, 1, 2, 3], [1, 2, 3, 0, 1, 2]])  # a path, both directions


@pytest.mark.parametrize("conv", ["gcn", "gat", "gatv2"])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_encoder_shapes_and_finite(conv, layers):
    torch.manual_seed(0)
    enc = GNNEncoder(5, 8, 4, layers, conv=conv, heads=2, dropout=0.1)
    z = enc(torch.randn(4, 5), EDGES)
    assert z.shape == (4, 4)
    assert torch.isfinite(z).all()
    z.sum().backward()
    assert all(p.grad is not None for p in enc.parameters() if p.requires_grad)


def test_encoder_propagates_along_edges_only():
    torch.manual_seed(0)
    enc = GNNEncoder(3, 3, 3, 1, conv="gcn", residual=False).eval()
    x = torch.randn(4, 3)
    edges = torch.tensor([[0, 1], [1, 0]])  # nodes 2 and 3 are isolated
    z1 = enc(x, edges)
    x2 = x.clone()
    x2[0] += 5.0
    z2 = enc(x2, edges)
    assert not torch.allclose(z1[1], z2[1])  # neighbour of 0 changes
    assert torch.allclose(z1[2:], z2[2:])  # isolated nodes do not


def test_encoder_errors_name_the_fix():
    with pytest.raises(ValueError, match="conv='sage'"):
        GNNEncoder(3, 4, 4, conv="sage")
    with pytest.raises(ValueError, match="divisible by heads"):
        GNNEncoder(3, 5, 4, 2, conv="gat", heads=2)
    with pytest.raises(ValueError, match="layers"):
        GNNEncoder(3, 4, 4, 0)


def test_dot_is_symmetric_bilinear_and_mlp_are_directed():
    torch.manual_seed(0)
    z = torch.randn(4, 6)
    fwd, rev = torch.tensor([[0, 2], [1, 3]]), torch.tensor([[1, 3], [0, 2]])
    dot = LinkDecoder(6, kind="dot")
    assert torch.allclose(dot(z, fwd), dot(z, rev))
    for kind in ("bilinear", "mlp"):
        dec = LinkDecoder(6, kind=kind)
        with torch.no_grad():
            assert not torch.allclose(dec(z, fwd), dec(z, rev))


def test_node_bias_and_pair_features():
    z = torch.zeros(3, 2)
    dec = LinkDecoder(2, kind="bilinear", n_nodes=3, n_pair_features=1)
    with torch.no_grad():
        dec.source_bias[0] = 2.0
        dec.target_bias[2] = 1.0
        dec.pair_linear.weight.fill_(0.5)
        dec.pair_linear.bias.zero_()
    out = dec(z, torch.tensor([[0, 1], [2, 2]]), torch.tensor([[2.0], [0.0]]))
    assert torch.allclose(out, torch.tensor([2.0 + 1.0 + 1.0, 1.0]))
    with pytest.raises(ValueError, match="pair_features"):
        dec(z, torch.tensor([[0], [1]]))


def test_link_predictor_learns_a_tiny_graph():
    torch.manual_seed(0)
    x = torch.eye(4)
    model = LinkPredictor(GNNEncoder(4, 8, 8, 1), LinkDecoder(8, n_nodes=4))
    pos = torch.tensor([[0, 1], [1, 2]])
    neg = torch.tensor([[2, 3], [0, 1]])
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    pairs = torch.cat([pos, neg], 1)
    y = torch.tensor([1.0, 1.0, 0.0, 0.0])
    for _ in range(100):
        opt.zero_grad()
        model.loss(x, pos, pairs, y)["loss"].backward()
        opt.step()
    out = model(x, pos, pairs)
    assert out[:2].min() > out[2:].max()


def test_loss_is_bce_plus_the_ranking_term():
    torch.manual_seed(0)
    x = torch.randn(4, 3)
    model = LinkPredictor(GNNEncoder(3, 4, 4, 1), LinkDecoder(4, kind="mlp", n_hidden=5)).eval()
    pairs = torch.tensor([[0, 1, 2], [1, 2, 3]])
    y = torch.tensor([1.0, 0.0, 1.0])
    out = model.loss(x, EDGES, pairs, y)
    logits = model(x, EDGES, pairs)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
    assert set(out) == {"loss"} and torch.allclose(out["loss"], bce)
    # two ranking pairs after the labelled ones: positives (0, 1), (2, 3); negatives (0, 2), (2, 0)
    ranked = torch.cat([pairs, torch.tensor([[0, 2, 0, 2], [1, 3, 2, 0]])], dim=1)
    s = model(x, EDGES, ranked)
    rank = torch.nn.functional.softplus(s[5:] - s[3:5]).mean()
    out = model.loss(x, EDGES, ranked, y, n_ranking=2, ranking_weight=0.5)
    assert torch.allclose(out["loss"], bce + 0.5 * rank)
    assert model.decoder.mlp[0].out_features == 5


def test_decoder_old_hidden_dim_name_warns():
    with pytest.warns(DeprecationWarning, match="n_hidden"):
        dec = LinkDecoder(4, kind="mlp", hidden_dim=6)
    assert dec.mlp[0].out_features == 6
