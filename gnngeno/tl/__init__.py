"""gnngeno.tl"""

from ._sequence import encode_sequences  # noqa: E402, F401
