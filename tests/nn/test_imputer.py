"""GraphImputerModule on 4-node hand-written graphs: shapes, likelihoods, sparse input."""

from __future__ import annotations

import pytest
import torch

from gnngeno.nn import GraphImputerModule


def _graph():
    # path 0-1-2-3 with self-loops, as a sparse CSR normalised adjacency
    A = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]], dtype=torch.float32)
    d = A.sum(1).rsqrt()
    return (d[:, None] * A * d[None, :]).to_sparse_csr()


@pytest.mark.parametrize("likelihood", ["nb", "zinb", "gaussian"])
@pytest.mark.parametrize("conv", ["gcn", "gat"])
def test_shapes_and_likelihood(likelihood, conv):
    torch.manual_seed(0)
    m = GraphImputerModule(6, n_hidden=8, n_latent=4, conv=conv, likelihood=likelihood, heads=2)
    x = torch.rand(4, 6)
    lib = torch.tensor([10.0, 20.0, 30.0, 40.0])
    out = m(x, _graph(), torch.tensor([0, 2]), lib[[0, 2]])
    assert out["z"].shape == (2, 4)
    y = torch.randint(0, 5, (2, 6)).float()
    ll = m.log_likelihood(y, out)
    assert ll.shape == (2, 6) and torch.isfinite(ll).all()
    imp = m.normalized_expression(out)
    assert imp.shape == (2, 6) and (imp >= 0).all()
    if likelihood != "gaussian":
        torch.testing.assert_close(out["mu"].sum(1), lib[[0, 2]])
        assert out["theta"].shape == (6,)
        assert ("pi_logits" in out) == (likelihood == "zinb")
    (-ll.mean()).backward()
    assert m.lin_in.weight.grad is not None


def test_sparse_input_matches_dense():
    torch.manual_seed(0)
    m = GraphImputerModule(5, n_hidden=8, n_latent=3).eval()
    x = torch.tensor([[0, 1.5, 0, 0, 2], [0, 0, 0, 0, 1], [3, 0, 0, 0, 0], [0, 0, 1, 1, 0]])
    dense = m(x, _graph())["rho"]
    for sparse in (x.to_sparse_csr(), x.to_sparse()):
        torch.testing.assert_close(m(sparse, _graph())["rho"], dense)


def test_graph_mixes_neighbours_and_no_graph_does_not():
    torch.manual_seed(0)
    x = torch.rand(4, 5)
    x2 = x.clone()
    x2[3] += 5.0  # change node 3, a neighbour of 2 but not of 0
    with_graph = GraphImputerModule(5, n_hidden=8, n_latent=3, n_layers=1).eval()
    a, b = with_graph(x, _graph())["z"], with_graph(x2, _graph())["z"]
    assert not torch.allclose(a[2], b[2]) and torch.allclose(a[0], b[0])
    no_graph = GraphImputerModule(5, n_hidden=8, n_latent=3, n_layers=0).eval()
    a, b = no_graph(x, _graph())["z"], no_graph(x2, _graph())["z"]
    assert torch.allclose(a[2], b[2])


def test_sgc_reads_the_graph_features_only_through_the_input_layer():
    torch.manual_seed(0)
    m = GraphImputerModule(5, n_hidden=8, n_latent=3, conv="sgc", n_graph_features=2).eval()
    assert m.n_layers == 0 and len(m.layers) == 0
    x, g = torch.rand(4, 5), torch.rand(4, 2)
    g2 = g.clone()
    g2[1] += 3.0
    a, b = m(x, _graph(), graph_features=g)["z"], m(x, _graph(), graph_features=g2)["z"]
    assert not torch.allclose(a[1], b[1]) and torch.allclose(a[[0, 2, 3]], b[[0, 2, 3]])
    out = m(x, _graph(), torch.tensor([1, 3]), torch.tensor([5.0, 6.0]), graph_features=g)
    assert out["mu"].shape == (2, 5)
    with pytest.raises(ValueError, match="graph_features"):
        m(x, _graph())
    with pytest.raises(ValueError, match="n_graph_features"):
        GraphImputerModule(5, conv="sgc")


def test_bad_options():
    with pytest.raises(ValueError, match="conv"):
        GraphImputerModule(5, conv="sage")
    with pytest.raises(ValueError, match="likelihood"):
        GraphImputerModule(5, likelihood="poisson")


@pytest.mark.parametrize("likelihood", ["nb", "zinb", "gaussian"])
def test_loss_scores_only_the_masked_entries(likelihood):
    torch.manual_seed(0)
    m = GraphImputerModule(6, n_hidden=8, n_latent=4, likelihood=likelihood).eval()
    x, lib = torch.rand(4, 6), torch.tensor([10.0, 20.0, 30.0, 40.0])
    target = torch.tensor([0, 2])
    y = torch.randint(0, 5, (2, 6)).float()
    mask = torch.zeros(2, 6, dtype=torch.bool)
    mask[0, 1] = mask[1, 4] = True
    out = m.loss(x=x, adj=_graph(), target=target, library=lib[target], y=y, mask=mask)
    assert set(out) == {"loss"} and out["loss"].dim() == 0
    ll = m.log_likelihood(y, m(x, _graph(), target, lib[target]))
    torch.testing.assert_close(out["loss"], -ll[mask].mean())
    y2 = y.clone()
    y2[0, 0] += 3.0  # an unmasked entry: no effect without visible_weight
    same = m.loss(x=x, adj=_graph(), target=target, library=lib[target], y=y2, mask=mask)
    torch.testing.assert_close(same["loss"], out["loss"])
    both = m.loss(x=x, adj=_graph(), target=target, library=lib[target], y=y, mask=mask,
                  visible_weight=0.5)
    torch.testing.assert_close(both["loss"], -ll[mask].mean() - 0.5 * ll[~mask].mean())


@pytest.mark.parametrize("conv, n_layers", [("gcn", 2), ("gcn", 0), ("gat", 1)])
def test_layerwise_inference_equals_a_full_pass(conv, n_layers):
    """inference() in chunks of 3 cells equals one full-graph forward pass."""
    torch.manual_seed(0)
    n = 7
    A = torch.eye(n) + torch.diag(torch.ones(n - 1), 1) + torch.diag(torch.ones(n - 1), -1)
    d = A.sum(1).rsqrt()
    adj = d[:, None] * A * d[None, :]
    x, lib = torch.rand(n, 5), torch.rand(n) * 100 + 10
    m = GraphImputerModule(5, n_hidden=8, n_latent=3, conv=conv, n_layers=n_layers,
                           heads=2).eval()
    with torch.no_grad():
        full = m(x, adj.to_sparse_csr(), library=lib)

    def subgraph(rows):  # the chunk with every node (a superset of its neighbourhood)
        order = torch.cat([torch.arange(rows.start, rows.stop),
                           torch.tensor([i for i in range(n) if not rows.start <= i < rows.stop],
                                        dtype=torch.long)])
        return x[order], adj[order][:, order].to_sparse_csr(), torch.arange(rows.stop - rows.start)

    got = list(m.inference(lambda rows: x[rows], n, adj=lambda rows: adj[rows].to_sparse_csr(),
                           library=lib, subgraph=subgraph, batch_size=3))
    assert [r for r, _ in got] == [slice(0, 3), slice(3, 6), slice(6, 7)]
    mu = torch.cat([o["mu"] for _, o in got])
    torch.testing.assert_close(mu, full["mu"], rtol=1e-4, atol=1e-5)
    if conv == "gat":
        with pytest.raises(ValueError, match="subgraph"):
            list(m.inference(lambda rows: x[rows], n, library=lib))
