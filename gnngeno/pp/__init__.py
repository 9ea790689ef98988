"""gnngeno.pp"""

from ._mask import HiddenEntries, log_normalize, mask_nonzero  # noqa: F401
from ._tfs import mark_tfs  # noqa: E402, F401
