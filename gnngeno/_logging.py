"""The ``gnngeno`` logger and progress-bar helper.

Nothing here calls :func:`logging.basicConfig`; the logger gets one handler the first time the
package is imported so that messages show up in notebooks, and its level follows
``gnngeno.settings.verbosity``. Progress bars follow ``gnngeno.settings.progress``: by default
only when stderr is a terminal or a notebook, never with ``GNNGENO_NO_PROGRESS`` set.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable
from typing import Any

from ._settings import settings


class _StderrHandler(logging.StreamHandler):
    """A handler that writes to ``sys.stderr`` as it is when a message comes (notebooks, the
    command line and pytest replace it), not as it was when the handler was made."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


logger = logging.getLogger("gnngeno")
if not logger.handlers:
    _handler = _StderrHandler()
    _handler.setFormatter(logging.Formatter("gnngeno: %(message)s"))
    logger.addHandler(_handler)
    logger.propagate = False
logger.setLevel(settings.verbosity.upper())  # the setting may predate this import


def progress(iterable: Iterable[Any] | None = None, *, total: int | None = None, desc: str = "",
             disable: bool | None = None, **kwargs: Any):
    """Wrap ``iterable`` in a ``tqdm.auto`` progress bar that respects ``settings.progress``.

    Parameters
    ----------
    iterable
        What to iterate over (``None`` for a manually updated bar).
    total
        Number of steps, when the iterable has no length.
    desc
        Text in front of the bar.
    disable
        Force the bar on or off; by default ``not settings.progress`` (bars only on a terminal
        or in a notebook, see :class:`gnngeno._settings.Settings`), and off on processes other
        than rank 0 of a ``torchrun`` launch.
    """
    from tqdm.auto import tqdm

    if disable is None:
        # under torchrun only rank 0 draws bars (the others would interleave theirs)
        disable = not settings.progress or os.environ.get("RANK", "0") != "0"
    return tqdm(iterable, total=total, desc=desc, disable=disable, leave=False, **kwargs)
