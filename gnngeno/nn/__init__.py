"""Pure-torch modules (tensors in, tensors out; no AnnData here).

Shapes are documented per layer in PyTorch Geometric's style.
"""

from ._utils import ACTIVATIONS, get_activation, weight_penalty

__all__ = ["ACTIVATIONS", "get_activation", "weight_penalty"]

from ._likelihoods import LIKELIHOODS, log_gaussian, log_nb, log_zinb, nb_mean  # noqa: E402

__all__ += ["LIKELIHOODS", "log_gaussian", "log_nb", "log_zinb", "nb_mean"]
