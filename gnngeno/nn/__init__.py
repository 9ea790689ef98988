"""Pure-torch modules (tensors in, tensors out; no AnnData here).

Shapes are documented per layer in PyTorch Geometric's style.
"""

from ._utils import ACTIVATIONS, get_activation, weight_penalty

__all__ = ["ACTIVATIONS", "get_activation", "weight_penalty"]

from ._likelihoods import LIKELIHOODS, log_gaussian, log_nb, log_zinb, nb_mean  # noqa: E402

__all__ += ["LIKELIHOODS", "log_gaussian", "log_nb", "log_zinb", "nb_mean"]

from ._sparse import propagate, sparse_linear, to_torch_csr  # noqa: E402

__all__ += ["propagate", "sparse_linear", "to_torch_csr"]

from ._conv import CONVS, make_conv  # noqa: E402
from ._encoder import GNNEncoder, GraphEncoder  # noqa: E402
from ._graph_ops import gcn_adjacency, propagate_features, sgc_propagate  # noqa: E402
from ._residual_layer import ResidualGraphLayer  # noqa: E402

__all__ += ["gcn_adjacency", "propagate_features", "sgc_propagate", "CONVS", "make_conv",
            "GraphEncoder", "GNNEncoder", "ResidualGraphLayer"]

from ._link_decoders import DECODERS, LinkDecoder, LinkPredictor  # noqa: E402

__all__ += ["DECODERS", "LinkDecoder", "LinkPredictor"]

from ._imputer import GraphImputerModule  # noqa: E402

__all__ += ["GraphImputerModule"]

from ._adjacency_denoiser import AdjacencyDenoiser  # noqa: E402

__all__ += ["AdjacencyDenoiser"]

from ._sequence_cnn import SequenceCNN, predict  # noqa: E402

__all__ += ["SequenceCNN", "predict"]

from ._autoencoders import Autoencoder, ExpressionDecoder, VariationalAutoencoder  # noqa: E402
from ._graph_autoencoders import GraphAutoencoder  # noqa: E402

__all__ += ["Autoencoder", "ExpressionDecoder", "VariationalAutoencoder", "GraphAutoencoder"]
