"""Old option names, still accepted for one release with a deprecation warning."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def renamed_kwargs(**old_to_new: str) -> Callable[[F], F]:
    """Accept ``old=value`` as ``new=value`` with a :class:`DeprecationWarning`.

    Examples
    --------
    >>> @renamed_kwargs(num_layers="n_layers")
    ... def f(*, n_layers=2):
    ...     return n_layers
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     f(num_layers=3)
    3
    """

    def wrap(func: F) -> F:
        name = getattr(func, "__qualname__", getattr(func, "__name__", "function"))

        @functools.wraps(func)
        def inner(*args, **kwargs):
            for old, new in old_to_new.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(f"{name}() got both {old}= (the old name) and {new}=; "
                                    f"pass {new}= only.")
                warnings.warn(f"{name}(): {old}= is deprecated and will be removed in the next "
                              f"release; use {new}= instead.", DeprecationWarning, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap
