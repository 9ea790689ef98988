"""Autoencoder and variational autoencoder with a bottleneck layer and count likelihoods.

Tensors only (no AnnData). The encoder reads ``log1p`` of library-normalised counts (or the
log-normalised values themselves for the Gaussian likelihood); the decoder maps the bottleneck
back to the parameters of the chosen likelihood:

- ``"nb"``: negative binomial with mean ``size_factor * softmax(decoder(z))`` and a per-gene
  inverse dispersion ``theta`` (as in scVI);
- ``"zinb"``: the same plus per-entry zero-inflation logits;
- ``"gaussian"``: mean ``decoder(z)`` and a per-gene log-variance, for log-normalised values.

Shapes
------
- counts / values ``x``: (N, G); size factors ``size_factor``: (N,) (the library size, total
  counts per cell, for the count likelihoods; ignored by the Gaussian one);
- latent ``z``: (N, n_latent).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._likelihoods import LIKELIHOODS, log_gaussian, log_nb, log_zinb, nb_mean
from ._utils import get_activation

TARGET_SUM = 1e4
"""Counts per cell that the encoder's input is normalised to before ``log1p``."""


def mlp(n_in: int, hidden: Sequence[int], *, activation: str | nn.Module = "relu",
        dropout: float = 0.0, batch_norm: bool = True) -> nn.Sequential:
    """``Linear -> [BatchNorm] -> activation -> [Dropout]`` blocks, one per hidden size.

    Shapes
    ------
    input (N, n_in) -> output (N, hidden[-1]) (or (N, n_in) when ``hidden`` is empty).
    """
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
    layers: list[nn.Module] = []
    d = n_in
    for h in hidden:
        layers.append(nn.Linear(d, int(h)))
        if batch_norm:
            layers.append(nn.BatchNorm1d(int(h), momentum=0.01, eps=1e-3))
        layers.append(get_activation(activation) if isinstance(activation, str)
                      else type(activation)())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        d = int(h)
    return nn.Sequential(*layers)


def log_normalize(x: torch.Tensor, size_factor: torch.Tensor | None = None,
                  target_sum: float = TARGET_SUM) -> torch.Tensor:
    """``log1p(target_sum * x / size_factor)`` per cell (the encoder's input for counts).

    Shapes
    ------
    ``x`` (N, G), ``size_factor`` (N,) (default: ``x.sum(1)``) -> (N, G).
    """
    if size_factor is None:
        size_factor = x.sum(1)
    return torch.log1p(x * (target_sum / size_factor.clamp_min(1e-8)).unsqueeze(1))


class ExpressionDecoder(nn.Module):
    """Decode a latent (N, n_latent) to the parameters of a likelihood over G genes.

    Parameters
    ----------
    n_latent
        Input size (the bottleneck).
    n_output
        Number of genes G.
    hidden
        Hidden layer sizes (empty: a linear decoder).
    likelihood
        ``"nb"``, ``"zinb"`` or ``"gaussian"``.
    activation, batch_norm, dropout
        Of the hidden layers.

    Shapes
    ------
    ``z`` (N, n_latent), ``size_factor`` (N,) -> dict of (N, G) tensors: ``mu`` and ``theta``
    (NB), plus ``pi_logits`` (ZINB); ``mean`` and ``log_var`` (Gaussian).
    """

    def __init__(self, n_latent: int, n_output: int, *, hidden: Sequence[int] = (128,),
                 likelihood: str = "nb", activation: str = "relu", batch_norm: bool = True,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood={likelihood!r} is not supported; choose one of "
                             f"{list(LIKELIHOODS)}.")
        self.likelihood = likelihood
        self.body = mlp(n_latent, hidden, activation=activation, dropout=dropout,
                        batch_norm=batch_norm)
        d = int(hidden[-1]) if len(hidden) else n_latent
        self.head = nn.Linear(d, n_output)
        if likelihood in ("nb", "zinb"):
            self.log_theta = nn.Parameter(torch.zeros(n_output))
        else:
            self.log_var = nn.Parameter(torch.zeros(n_output))
        self.pi_head = nn.Linear(d, n_output) if likelihood == "zinb" else None

    def forward(self, z: torch.Tensor,
                size_factor: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        h = self.body(z)
        if self.likelihood == "gaussian":
            return {"mean": self.head(h), "log_var": self.log_var.clamp(-10.0, 10.0)}
        if size_factor is None:
            raise ValueError(f"the {self.likelihood} likelihood needs size_factor (N,), e.g. the "
                             "total counts per cell.")
        scale = torch.softmax(self.head(h), dim=-1)
        out = {"mu": scale * size_factor.unsqueeze(1),
               "theta": torch.exp(self.log_theta.clamp(-10.0, 12.0))}
        if self.pi_head is not None:
            out["pi_logits"] = self.pi_head(h)
        return out

    def log_likelihood(self, x: torch.Tensor, params: dict[str, torch.Tensor]) -> torch.Tensor:
        """Log-likelihood of ``x`` (N, G) per entry under ``params`` from :meth:`forward`."""
        if self.likelihood == "gaussian":
            return log_gaussian(x, params["mean"], params["log_var"])
        if self.likelihood == "zinb":
            return log_zinb(x, params["mu"], params["theta"], params["pi_logits"])
        return log_nb(x, params["mu"], params["theta"])

    def expected(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        """The expected value of the reconstruction (N, G)."""
        if self.likelihood == "gaussian":
            return params["mean"]
        return nb_mean(params["mu"], params.get("pi_logits"))


class Autoencoder(nn.Module):
    """Autoencoder with a bottleneck layer and a count (or Gaussian) likelihood.

    ``x -> encoder MLP -> bottleneck z (n_latent) -> decoder MLP -> likelihood parameters``;
    the loss is the negative log-likelihood of ``x`` summed over genes, averaged over cells.

    Parameters
    ----------
    n_input
        Number of genes G.
    n_latent
        Size of the bottleneck.
    n_hidden
        Width of the hidden layers (encoder and decoder).
    n_layers
        Hidden layers in the encoder and in the decoder.
    likelihood
        ``"nb"`` (default), ``"zinb"`` (both on raw counts with size factors) or
        ``"gaussian"`` (on log-normalised values).
    activation
        Hidden activation (see :func:`gnngeno.nn.get_activation`).
    dropout
        Dropout after every encoder hidden layer (the decoder has none, as in scVI).
    batch_norm
        Batch normalisation after every hidden linear layer.
    input_noise
        Standard deviation of Gaussian noise added to the encoder's input (log-normalised
        values) in training mode only: a denoising autoencoder, whose bottleneck has to
        describe each cell from a corrupted copy while the decoder still models the clean
        counts. 0 (default): none.

    Shapes
    ------
    ``x`` (N, G), ``size_factor`` (N,) -> ``z`` (N, n_latent).

    Examples
    --------
    >>> import torch
    >>> ae = Autoencoder(20, n_latent=3, n_hidden=8)
    >>> x = torch.poisson(torch.full((5, 20), 2.0))
    >>> ae.get_latent(x).shape
    torch.Size([5, 3])
    """

    variational: bool = False

    def __init__(self, n_input: int, *, n_latent: int = 10, n_hidden: int = 128,
                 n_layers: int = 1, likelihood: str = "nb", activation: str = "relu",
                 dropout: float = 0.1, batch_norm: bool = True,
                 input_noise: float = 0.0) -> None:
        super().__init__()
        if not input_noise >= 0.0:
            raise ValueError(f"input_noise must be >= 0 (0: none), got {input_noise}.")
        if n_input < 1 or n_latent < 1 or n_hidden < 1 or n_layers < 0:
            raise ValueError(f"need n_input, n_latent, n_hidden >= 1 and n_layers >= 0; got "
                             f"{n_input}, {n_latent}, {n_hidden}, {n_layers}.")
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood={likelihood!r} is not supported; choose one of "
                             f"{list(LIKELIHOODS)}.")
        self.n_input, self.n_latent, self.likelihood = n_input, n_latent, likelihood
        self.input_noise = float(input_noise)
        hidden = [n_hidden] * n_layers
        self.encoder = mlp(n_input, hidden, activation=activation, dropout=dropout,
                           batch_norm=batch_norm)
        d = n_hidden if n_layers else n_input
        self.z_mean = nn.Linear(d, n_latent)
        self.z_logvar = nn.Linear(d, n_latent) if self.variational else None
        self.decoder = ExpressionDecoder(n_latent, n_input, hidden=hidden,
                                         likelihood=likelihood, activation=activation,
                                         batch_norm=batch_norm)

    # ------------------------------------------------------------------ pieces
    def _input(self, x: torch.Tensor, size_factor: torch.Tensor | None) -> torch.Tensor:
        if self.likelihood == "gaussian":
            return x
        return log_normalize(x, size_factor)

    def encode(self, x: torch.Tensor, size_factor: torch.Tensor | None = None, *,
               encoder_input: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Posterior mean (N, n_latent) and log-variance (``None`` for the plain autoencoder).

        ``encoder_input`` (N, G), when given, is read by the encoder as it is instead of the
        log-normalised ``x`` (e.g. values smoothed over a cell graph); the decoder still
        models ``x``. In training mode the input is corrupted with ``input_noise``.
        """
        inp = self._input(x, size_factor) if encoder_input is None else encoder_input
        if self.training and self.input_noise > 0:
            inp = inp + self.input_noise * torch.randn_like(inp)
        h = self.encoder(inp)
        logvar = self.z_logvar(h).clamp(-15.0, 15.0) if self.z_logvar is not None else None
        return self.z_mean(h), logvar

    def forward(self, x: torch.Tensor, size_factor: torch.Tensor | None = None, *,
                encoder_input: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Encode, sample (VAE, training mode only) and decode (``encoder_input``: see
        :meth:`encode`).

        Returns
        -------
        dict with ``z`` (N, n_latent), ``qz_mean``, ``qz_logvar`` (VAE) and the decoder's
        likelihood parameters.
        """
        if size_factor is None and self.likelihood != "gaussian":
            size_factor = x.sum(1)
        mean, logvar = self.encode(x, size_factor, encoder_input=encoder_input)
        z = mean
        if logvar is not None and self.training:
            z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)
        out = {"z": z, "qz_mean": mean}
        if logvar is not None:
            out["qz_logvar"] = logvar
        out.update(self.decoder(z, size_factor))
        return out

    def loss(self, x: torch.Tensor, size_factor: torch.Tensor | None = None, *,
             kl_weight: float = 1.0, encoder_input: torch.Tensor | None = None
             ) -> dict[str, torch.Tensor]:
        """Loss averaged over the N cells of the batch (``encoder_input``: see :meth:`encode`).

        :class:`gnngeno.train.TrainingPlan` calls it with one mini-batch's keyword arguments
        (``x``, ``size_factor``, ``encoder_input`` and the epoch's ``kl_weight``) and logs
        every value of the returned dict.

        Returns
        -------
        dict with ``loss`` (to minimise), ``reconstruction`` (negative log-likelihood summed
        over genes) and ``kl`` (KL divergence to N(0, I); 0 for the plain autoencoder).
        """
        if size_factor is None and self.likelihood != "gaussian":
            size_factor = x.sum(1)
        out = self.forward(x, size_factor, encoder_input=encoder_input)
        recon = -self.decoder.log_likelihood(x, out).sum(1).mean()
        if "qz_logvar" in out:
            m, lv = out["qz_mean"], out["qz_logvar"]
            kl = 0.5 * (m.pow(2) + lv.exp() - 1.0 - lv).sum(1).mean()
        else:
            kl = torch.zeros((), device=x.device)
        return {"loss": recon + kl_weight * kl, "reconstruction": recon, "kl": kl}

    @torch.no_grad()
    def get_latent(self, x: torch.Tensor, size_factor: torch.Tensor | None = None, *,
                   encoder_input: torch.Tensor | None = None) -> torch.Tensor:
        """Bottleneck values (posterior means for the VAE), computed in evaluation mode
        (``encoder_input``: see :meth:`encode`)."""
        was = self.training
        self.eval()
        mean, _ = self.encode(x, size_factor if size_factor is not None or
                              self.likelihood == "gaussian" else x.sum(1),
                              encoder_input=encoder_input)
        self.train(was)
        return mean

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, size_factor: torch.Tensor | None = None) -> torch.Tensor:
        """Expected reconstruction (N, G) from the posterior mean, in evaluation mode."""
        was = self.training
        self.eval()
        if size_factor is None and self.likelihood != "gaussian":
            size_factor = x.sum(1)
        out = self.forward(x, size_factor)
        self.train(was)
        return self.decoder.expected(out)


class VariationalAutoencoder(Autoencoder):
    """Variational autoencoder (Gaussian posterior, N(0, I) prior) with a bottleneck layer.

    Same parameters and shapes as :class:`Autoencoder`; the loss adds
    ``kl_weight * KL(q(z|x) || N(0, I))`` and training samples ``z`` with the
    reparametrisation trick. :meth:`get_latent` returns posterior means.
    """

    variational = True


__all__ = ["Autoencoder", "ExpressionDecoder", "TARGET_SUM", "VariationalAutoencoder",
           "log_normalize", "mlp"]
