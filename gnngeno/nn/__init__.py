"""Pure-torch modules (tensors in, tensors out; no AnnData here).

Shapes are documented per layer in PyTorch Geometric's style.
"""

from ._utils import ACTIVATIONS, get_activation, weight_penalty

__all__ = ["ACTIVATIONS", "get_activation", "weight_penalty"]

from ._likelihoods import LIKELIHOODS, log_gaussian, log_nb, log_zinb, nb_mean  # noqa: E402

__all__ += ["LIKELIHOODS", "log_gaussian", "log_nb", "log_zinb", "nb_mean"]

from ._gnn_encoders import CONVS, GNNEncoder  # noqa: E402
from ._link_decoders import DECODERS, LinkDecoder, LinkPredictor  # noqa: E402

__all__ += ["CONVS", "GNNEncoder", "DECODERS", "LinkDecoder", "LinkPredictor"]

from ._imputer import GraphImputerModule  # noqa: E402

__all__ += ["GraphImputerModule"]

from ._sequence_cnn import SequenceCNN, predict  # noqa: E402

__all__ += ["SequenceCNN", "predict"]

from ._autoencoders import Autoencoder, ExpressionDecoder, VariationalAutoencoder  # noqa: E402
from ._graph_autoencoders import GraphAutoencoder, GraphEncoder  # noqa: E402

__all__ += ["Autoencoder", "ExpressionDecoder", "VariationalAutoencoder", "GraphAutoencoder",
            "GraphEncoder"]

from ._sparse import propagate, sparse_linear, to_torch_csr  # noqa: E402

__all__ += ["propagate", "sparse_linear", "to_torch_csr"]
