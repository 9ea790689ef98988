"""User-facing model classes: built on an AnnData, ``.train()``, ``.get_*()``, ``save``/``load``."""

from ._base import BaseModel

__all__ = ["BaseModel"]

from ._grn_crossfit import CrossFit, cross_fit  # noqa: E402
from ._grn_predictor import GRNPredictor  # noqa: E402

__all__ += ["CrossFit", "GRNPredictor", "cross_fit"]

from ._graph_imputer import GraphImputer  # noqa: E402

__all__ += ["GraphImputer"]

from ._sequence_model import SequenceModel  # noqa: E402

__all__ += ["SequenceModel"]

from ._embedder import Embedder  # noqa: E402

__all__ += ["Embedder"]

from ._grn_expression import score_from_expression  # noqa: E402
from ._grn_pair_features import PAIR_FEATURES, expression_pair_features  # noqa: E402

__all__ += ["PAIR_FEATURES", "expression_pair_features", "score_from_expression"]
