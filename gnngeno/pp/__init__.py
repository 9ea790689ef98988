"""gnngeno.pp"""

from ._mask import HiddenEntries, log_normalize, mask_nonzero  # noqa: F401
