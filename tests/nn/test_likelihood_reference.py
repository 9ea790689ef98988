"""NB / ZINB / Gaussian log-likelihoods against values computed by hand, and the autoencoders'
losses against those likelihoods."""

from __future__ import annotations

import math

import pytest
import torch

from gnngeno.nn import ExpressionDecoder, log_gaussian, log_nb, log_zinb


def t(*v):
    return torch.tensor(v, dtype=torch.float64)


# NB(x | mu, theta) = C(x+theta-1, x) (theta/(theta+mu))^theta (mu/(theta+mu))^x
NB_CASES = [
    # x, mu, theta, probability written out by hand
    (0.0, 1.0, 1.0, 0.5),                              # (1/2)^1
    (2.0, 2.0, 1.0, 4.0 / 27.0),                       # (1/3) * (2/3)^2
    (1.0, 3.0, 2.0, 24.0 / 125.0),                     # 2 * (2/5)^2 * (3/5)
    (0.0, 4.0, 0.5, math.sqrt(0.5 / 4.5)),             # (1/9)^(1/2) = 1/3
    (3.0, 1.0, 2.0, 4.0 * (2 / 3) ** 2 * (1 / 3) ** 3),  # C(4,3)=4
]


@pytest.mark.parametrize("x,mu,theta,p", NB_CASES)
def test_log_nb_matches_hand_computed(x, mu, theta, p):
    got = log_nb(t(x), t(mu), t(theta))
    assert got.item() == pytest.approx(math.log(p), abs=1e-6)


def test_log_nb_sums_to_one_over_support():
    x = torch.arange(0, 400, dtype=torch.float64)
    total = log_nb(x, t(3.5).expand_as(x), t(0.7).expand_as(x)).exp().sum()
    assert total.item() == pytest.approx(1.0, abs=1e-6)


ZINB_CASES = [
    # x, mu, theta, pi_logit, probability: pi + (1-pi) NB(0) at zero, (1-pi) NB(x) otherwise
    (0.0, 1.0, 1.0, 0.0, 0.5 + 0.5 * 0.5),             # 0.75
    (2.0, 2.0, 1.0, 0.0, 0.5 * 4.0 / 27.0),            # 2/27
    (0.0, 3.0, 2.0, math.log(1 / 3), 0.25 + 0.75 * 0.16),  # pi = 1/4, NB(0) = (2/5)^2
    (1.0, 3.0, 2.0, math.log(1 / 3), 0.75 * 24.0 / 125.0),
]


@pytest.mark.parametrize("x,mu,theta,logit,p", ZINB_CASES)
def test_log_zinb_matches_hand_computed(x, mu, theta, logit, p):
    got = log_zinb(t(x), t(mu), t(theta), t(logit))
    assert got.item() == pytest.approx(math.log(p), abs=1e-6)


def test_zinb_without_inflation_is_nb():
    x, mu, theta = t(0.0, 1.0, 5.0), t(2.0, 2.0, 2.0), t(1.5, 1.5, 1.5)
    big_negative = t(-30.0, -30.0, -30.0)  # pi ~ 1e-13
    assert torch.allclose(log_zinb(x, mu, theta, big_negative), log_nb(x, mu, theta), atol=1e-6)


def test_log_gaussian_hand_computed():
    # N(1 | 0, 1): -0.5 (log 2 pi + 1); N(3 | 1, e^2): -0.5 (log 2 pi + 2 + 4 / e^2)
    assert log_gaussian(t(1.0), t(0.0), 0.0).item() == pytest.approx(
        -0.5 * (math.log(2 * math.pi) + 1.0))
    assert log_gaussian(t(3.0), t(1.0), t(2.0)).item() == pytest.approx(
        -0.5 * (math.log(2 * math.pi) + 2.0 + 4.0 / math.e ** 2))


@pytest.mark.parametrize("likelihood", ["nb", "zinb", "gaussian"])
def test_decoder_log_likelihood_uses_reference_functions(likelihood):
    torch.manual_seed(0)
    dec = ExpressionDecoder(3, 6, hidden=(4,), likelihood=likelihood).double().eval()
    z = torch.randn(5, 3, dtype=torch.float64)
    x = torch.poisson(torch.full((5, 6), 3.0, dtype=torch.float64))
    sf = x.sum(1)
    params = dec(z, sf)
    got = dec.log_likelihood(x, params)
    if likelihood == "nb":
        ref = log_nb(x, params["mu"], params["theta"])
        # NB means are size factor x a distribution over genes
        assert torch.allclose(params["mu"].sum(1), sf)
    elif likelihood == "zinb":
        ref = log_zinb(x, params["mu"], params["theta"], params["pi_logits"])
    else:
        ref = log_gaussian(x, params["mean"], params["log_var"])
    assert torch.allclose(got, ref)


def test_nb_decoder_with_known_parameters_gives_hand_value():
    """A decoder whose softmax is uniform and theta = 1 reproduces NB(x | sf/G, 1) by hand."""
    dec = ExpressionDecoder(2, 2, hidden=(), likelihood="nb").double()
    with torch.no_grad():
        dec.head.weight.zero_()
        dec.head.bias.zero_()
        dec.log_theta.zero_()  # theta = 1
    x = t(0.0, 2.0).reshape(1, 2)
    params = dec(torch.zeros(1, 2, dtype=torch.float64), t(4.0))  # mu = 4 / 2 = 2 per gene
    ll = dec.log_likelihood(x, params).sum().item()
    assert ll == pytest.approx(math.log(1 / 3) + math.log(4 / 27), abs=1e-6)
