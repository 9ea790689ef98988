"""Count likelihoods: negative binomial, zero-inflated negative binomial, Gaussian.

All functions return the **log-likelihood per entry** (same shape as ``x``); models sum or
average it and negate it for a loss. Parametrisation as in scVI: mean ``mu > 0`` and inverse
dispersion ``theta > 0`` (variance ``mu + mu**2 / theta``); zero-inflation logits ``pi``.

Shapes
------
- ``x``, ``mu``: (N, G); ``theta``: (G,) or (N, G); ``pi_logits``: (N, G).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

_EPS = 1e-8


def log_nb(x: torch.Tensor, mu: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Negative-binomial log-likelihood ``log NB(x | mu, theta)`` per entry.

    ``log Γ(x+θ) - log Γ(θ) - log Γ(x+1) + θ log(θ/(θ+μ)) + x log(μ/(θ+μ))``.
    """
    log_theta_mu = torch.log(theta + mu + _EPS)
    return (
        theta * (torch.log(theta + _EPS) - log_theta_mu)
        + x * (torch.log(mu + _EPS) - log_theta_mu)
        + torch.lgamma(x + theta)
        - torch.lgamma(theta)
        - torch.lgamma(x + 1.0)
    )


def log_zinb(x: torch.Tensor, mu: torch.Tensor, theta: torch.Tensor,
             pi_logits: torch.Tensor) -> torch.Tensor:
    """Zero-inflated negative-binomial log-likelihood per entry.

    With ``pi = sigmoid(pi_logits)`` the probability of an extra zero:
    ``P(0) = pi + (1-pi) NB(0)``, ``P(x>0) = (1-pi) NB(x)``.
    """
    softplus_pi = F.softplus(-pi_logits)  # -log(1 - pi)
    log_theta_eps = torch.log(theta + _EPS)
    log_theta_mu = torch.log(theta + mu + _EPS)
    pi_theta_log = -pi_logits + theta * (log_theta_eps - log_theta_mu)
    case_zero = F.softplus(pi_theta_log) - softplus_pi
    case_nonzero = (
        -softplus_pi
        + pi_theta_log
        + x * (torch.log(mu + _EPS) - log_theta_mu)
        + torch.lgamma(x + theta)
        - torch.lgamma(theta)
        - torch.lgamma(x + 1.0)
    )
    is_zero = (x < _EPS).to(x.dtype)
    return is_zero * case_zero + (1.0 - is_zero) * case_nonzero


def log_gaussian(x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor | float = 0.0) -> torch.Tensor:
    """Gaussian log-likelihood per entry, ``log N(x | mean, exp(log_var))``."""
    log_var = torch.as_tensor(log_var, dtype=x.dtype, device=x.device)
    return -0.5 * (math.log(2 * math.pi) + log_var + (x - mean) ** 2 / torch.exp(log_var))


def nb_mean(mu: torch.Tensor, pi_logits: torch.Tensor | None = None) -> torch.Tensor:
    """Expected value of NB (``mu``) or ZINB (``(1 - pi) * mu``)."""
    if pi_logits is None:
        return mu
    return torch.sigmoid(-pi_logits) * mu


LIKELIHOODS = ("nb", "zinb", "gaussian")
