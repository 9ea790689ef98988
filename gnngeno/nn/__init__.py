"""Pure-torch modules (tensors in, tensors out; no AnnData here).

Shapes are documented per layer in PyTorch Geometric's style.
"""

from ._utils import ACTIVATIONS, get_activation, weight_penalty

__all__ = ["ACTIVATIONS", "get_activation", "weight_penalty"]
