"""Autoencoder / VAE / graph autoencoder modules: shapes, finiteness, losses, determinism."""

from __future__ import annotations

import pytest
import torch

from gnngeno.nn import Autoencoder, GraphAutoencoder, GraphEncoder, VariationalAutoencoder


def counts(n=12, g=15, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.poisson(torch.rand(n, g, generator=gen) * 5, generator=gen)


@pytest.mark.parametrize("cls", [Autoencoder, VariationalAutoencoder])
@pytest.mark.parametrize("likelihood", ["nb", "zinb", "gaussian"])
def test_autoencoder_shapes_and_finite_loss(cls, likelihood):
    torch.manual_seed(0)
    x = counts()
    if likelihood == "gaussian":
        x = torch.log1p(x)
    model = cls(15, n_latent=3, n_hidden=8, likelihood=likelihood, activation="elu",
                dropout=0.2)
    out = model.loss(x)
    assert set(out) == {"loss", "reconstruction", "kl"}
    assert all(torch.isfinite(v) for v in out.values())
    out["loss"].backward()
    assert model.z_mean.weight.grad is not None
    z = model.get_latent(x)
    assert z.shape == (12, 3) and torch.isfinite(z).all()
    assert model.training  # get_latent restores the mode
    rec = model.reconstruct(x)
    assert rec.shape == x.shape and (rec >= 0).all() if likelihood != "gaussian" else True
    if cls is Autoencoder:
        assert out["kl"].item() == 0.0
    else:
        assert out["kl"].item() > 0.0


def test_vae_latent_is_posterior_mean_and_deterministic():
    torch.manual_seed(0)
    vae = VariationalAutoencoder(15, n_latent=4, n_hidden=8)
    x = counts()
    z1, z2 = vae.get_latent(x), vae.get_latent(x)
    assert torch.equal(z1, z2)
    vae.eval()
    mean, logvar = vae.encode(x, x.sum(1))
    assert torch.allclose(z1, mean) and logvar.shape == mean.shape


def test_input_noise_corrupts_the_encoder_input_in_training_only():
    torch.manual_seed(0)
    ae = Autoencoder(15, n_latent=4, n_hidden=8, dropout=0.0, input_noise=1.0)
    x = counts()
    ae.train()
    noisy_a, noisy_b = ae.encode(x)[0], ae.encode(x)[0]
    assert not torch.allclose(noisy_a, noisy_b)  # a fresh corruption at every call
    ae.input_noise = 0.0
    assert torch.equal(ae.encode(x)[0], ae.encode(x)[0])  # without noise training is exact
    ae.input_noise = 1.0
    ae.eval()
    clean = ae.encode(x)[0]
    assert torch.equal(clean, ae.get_latent(x)) and torch.equal(clean, ae.encode(x)[0])
    with pytest.raises(ValueError, match="input_noise"):
        Autoencoder(15, input_noise=-0.1)


def test_kl_weight_scales_only_kl():
    torch.manual_seed(0)
    vae = VariationalAutoencoder(15, n_latent=4, n_hidden=8).eval()  # eval: no sampling
    x = counts()
    a, b = vae.loss(x, kl_weight=0.0), vae.loss(x, kl_weight=1.0)
    assert a["loss"].item() == pytest.approx(a["reconstruction"].item(), rel=1e-6)
    assert b["loss"].item() == pytest.approx(b["reconstruction"].item() + b["kl"].item(), rel=1e-6)


def test_bottleneck_size_and_errors():
    ae = Autoencoder(20, n_latent=2, n_hidden=16, n_layers=2)
    assert ae.z_mean.out_features == 2
    with pytest.raises(ValueError, match="likelihood"):
        Autoencoder(20, likelihood="poisson")
    with pytest.raises(ValueError, match="activation"):
        Autoencoder(20, activation="swishy")
    with pytest.raises(ValueError, match="size_factor"):
        ae.decoder(torch.zeros(3, 2))


# ------------------------------------------------------------------ graph autoencoders
EDGES = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])  # a 4-node path


def gcn_normalised(edge_index, n):
    """``D^-1/2 (A + I) D^-1/2`` (dense) written out: the GCN normalisation."""
    A = torch.eye(n)
    A[edge_index[0], edge_index[1]] = 1.0
    d = A.sum(1).rsqrt()
    return d[:, None] * A * d[None, :]


@pytest.mark.parametrize("conv", ["gcn", "sgc"])
def test_graph_autoencoder_reads_edge_weights(conv):
    torch.manual_seed(0)
    x = torch.randn(4, 3)
    gae = GraphAutoencoder(3, n_latent=2, n_hidden=8, conv=conv, dropout=0.0).eval()
    ones, halves = torch.ones(EDGES.shape[1]), torch.full((EDGES.shape[1],), 0.5)
    # unit weights are the unweighted graph; other weights change the normalisation
    assert torch.allclose(gae.encode(x, EDGES, ones), gae.encode(x, EDGES), atol=1e-6)
    assert not torch.allclose(gae.encode(x, EDGES, halves), gae.encode(x, EDGES), atol=1e-4)


@pytest.mark.parametrize("conv", ["gcn", "gat", "sgc"])
@pytest.mark.parametrize("variational", [False, True])
@pytest.mark.parametrize("feature_likelihood", [None, "nb"])
def test_graph_autoencoder_on_four_nodes(conv, variational, feature_likelihood):
    torch.manual_seed(0)
    x = counts(4, 6)
    feats = torch.log1p(x)
    model = GraphAutoencoder(6, n_latent=2, n_hidden=8, conv=conv, variational=variational,
                             heads=2, feature_likelihood=feature_likelihood)
    out = model.loss(feats, EDGES, EDGES, target=x, size_factor=x.sum(1))
    assert all(torch.isfinite(v) for v in out.values())
    assert out["edges"].item() > 0
    assert (out["features"].item() > 0) == (feature_likelihood is not None)
    assert (out["kl"].item() != 0) == variational
    out["loss"].backward()
    z = model.get_latent(feats, EDGES)
    assert z.shape == (4, 2) and torch.isfinite(z).all()
    assert torch.equal(z, model.get_latent(feats, EDGES))  # mean, not a sample


def test_graph_encoder_rejects_unknown_conv():
    with pytest.raises(ValueError, match="GraphEncoder"):
        GraphEncoder(3, 4, 2, conv="sage")
    with pytest.raises(ValueError, match="hops"):
        GraphEncoder(3, 4, 2, conv="sgc", hops=-1)


def test_sgc_encoder_propagates_inputs_hops_times():
    torch.manual_seed(0)
    x = torch.randn(4, 3)
    dense = gcn_normalised(EDGES, 4)
    enc = GraphEncoder(3, 8, 2, conv="sgc", hops=2, dropout=0.0).eval()
    # Â^2 x by hand (dense)
    smoothed = enc.smooth(x, EDGES)
    assert torch.allclose(smoothed, dense @ (dense @ x), atol=1e-6)
    z = enc(x, EDGES)
    # the layers after the propagation read rows of it (mini-batches: edge_index=None)
    assert torch.allclose(z, enc(smoothed, None), atol=1e-6)
    assert torch.allclose(z[[1, 3]], enc(smoothed[[1, 3]], None), atol=1e-6)
    # the smoothed input is cached for the same tensors and recomputed for a new graph
    assert torch.equal(enc(x, EDGES), z)
    other = torch.tensor([[0, 1], [1, 0]])
    assert not torch.allclose(enc(x, other), z)
    # hops=0 ignores the graph (a plain MLP encoder)
    mlp_enc = GraphEncoder(3, 8, 2, conv="sgc", hops=0, dropout=0.0).eval()
    assert torch.equal(mlp_enc.smooth(x, EDGES), x)
    assert torch.allclose(mlp_enc(x, EDGES), mlp_enc(x, other))
    with pytest.raises(ValueError, match="only the 'sgc' encoder"):
        GraphEncoder(3, 8, 2, conv="gcn").smooth(x, EDGES)


# ------------------------------------------------------------------ losses on batches
def test_losses_take_a_batch_as_keyword_arguments():
    """The training plan calls ``module.loss(**batch.kwargs)``."""
    torch.manual_seed(0)
    x = counts()
    vae = VariationalAutoencoder(15, n_latent=3, n_hidden=8).eval()
    by_name = vae.loss(x=x, size_factor=x.sum(1), kl_weight=0.5, encoder_input=None)
    assert torch.equal(by_name["loss"], vae.loss(x, x.sum(1), kl_weight=0.5)["loss"])
    feats = torch.log1p(counts(4, 6))
    gae = GraphAutoencoder(6, n_latent=2, n_hidden=8, conv="sgc", variational=True,
                           feature_likelihood="gaussian").eval()
    neg = torch.tensor([[0, 1, 2], [3, 3, 0]])
    kw = dict(x=feats, edge_index=EDGES, pos_edge_index=EDGES, neg_edge_index=neg,
              nodes=torch.tensor([0, 2]))
    a, b = gae.loss(**kw, kl_weight=0.0), gae.loss(**kw, kl_weight=1.0)
    # the KL weight scales only the KL term; the feature term reads only the given nodes
    assert a["loss"].item() == pytest.approx(a["edges"].item() + a["features"].item(), rel=1e-6)
    assert b["loss"].item() == pytest.approx(a["loss"].item() + b["kl"].item(), rel=1e-6)
    z = gae.encode(feats, EDGES)
    assert a["features"].item() == pytest.approx(
        gae.feature_loss(z[[0, 2]], feats[[0, 2]]).item(), rel=1e-6)
