"""gnngeno.tl"""

from ._embed import embed  # noqa: E402, F401
from ._grn import infer_grn  # noqa: E402, F401
from ._grn_benchmark import benchmark_grn  # noqa: E402, F401
from ._grn_paired_test import paired_grn_test  # noqa: E402, F401
from ._impute import impute  # noqa: E402, F401
from ._sequence import encode_sequences  # noqa: E402, F401
