"""Package-wide settings: random seed, verbosity, device, progress bars.

Use the instance :data:`gnngeno.settings`::

    import gnngeno as gg
    gg.settings.seed = 0          # python, numpy and torch are seeded at once
    gg.settings.verbosity = "info"
    gg.settings.device = "auto"   # "cpu", "cuda", "cuda:1", ... ; "auto" uses a GPU when present
"""

from __future__ import annotations

import contextlib
import logging
import os
import random

import numpy as np

from ._logging import logger

_LEVELS = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO,
           "debug": logging.DEBUG}


class Settings:
    """Global settings of gnngeno.

    Attributes
    ----------
    seed
        Seed for python's ``random``, numpy and torch. Setting it seeds all three at once and
        makes CPU runs repeat exactly. Models read it at construction when no ``seed`` is given.
    verbosity
        ``"error"``, ``"warning"`` (default), ``"info"`` or ``"debug"`` (or 0-3).
    device
        ``"auto"`` (default; CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
    progress
        Show ``tqdm`` progress bars on long work (default ``True``; ``False`` when the
        environment variable ``GNNGENO_NO_PROGRESS`` is set).
    n_jobs
        CPU threads for torch and sklearn (``None``: leave the libraries' defaults).
    """

    def __init__(self) -> None:
        self._seed: int = 0
        self._verbosity: str = "warning"
        self._device: str = "auto"
        self.progress: bool = not bool(os.environ.get("GNNGENO_NO_PROGRESS"))
        self._n_jobs: int | None = None

    # seed -----------------------------------------------------------------
    @property
    def seed(self) -> int:
        return self._seed

    @seed.setter
    def seed(self, value: int) -> None:
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 0:
            raise ValueError(f"settings.seed must be a non-negative integer, got {value!r}.")
        self._seed = int(value)
        seed_everything(self._seed)

    # verbosity --------------------------------------------------------------
    @property
    def verbosity(self) -> str:
        return self._verbosity

    @verbosity.setter
    def verbosity(self, value: str | int) -> None:
        if isinstance(value, int):
            names = ["error", "warning", "info", "debug"]
            if not 0 <= value < len(names):
                raise ValueError(f"settings.verbosity as an integer must be 0-3, got {value}.")
            value = names[value]
        if value not in _LEVELS:
            raise ValueError(
                f"settings.verbosity must be one of {sorted(_LEVELS)} or 0-3, got {value!r}."
            )
        self._verbosity = value
        logger.setLevel(_LEVELS[value])

    # device -----------------------------------------------------------------
    @property
    def device(self) -> str:
        return self._device

    @device.setter
    def device(self, value: str) -> None:
        value = str(value)
        if value != "auto" and not (value == "cpu" or value.startswith("cuda") or value == "mps"):
            raise ValueError(
                f"settings.device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {value!r}."
            )
        self._device = value

    def torch_device(self, device: str | None = None):
        """Resolve ``device`` (or the setting) to a :class:`torch.device`."""
        import torch

        name = self._device if device is None else str(device)
        if name == "auto":
            name = "cuda" if torch.cuda.is_available() else "cpu"
        if name.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError(
                f"device {name!r} was requested but torch sees no CUDA GPU. "
                "Use device='cpu' or settings.device='auto'."
            )
        return torch.device(name)

    # threads ----------------------------------------------------------------
    @property
    def n_jobs(self) -> int | None:
        return self._n_jobs

    @n_jobs.setter
    def n_jobs(self, value: int | None) -> None:
        if value is not None:
            import torch

            if value < 1:
                raise ValueError(f"settings.n_jobs must be a positive integer or None, got {value}.")
            torch.set_num_threads(int(value))
        self._n_jobs = value

    def __repr__(self) -> str:
        return (f"gnngeno.settings(seed={self.seed}, verbosity={self.verbosity!r}, "
                f"device={self.device!r}, progress={self.progress}, n_jobs={self.n_jobs})")


def seed_everything(seed: int) -> None:
    """Seed python's ``random``, numpy's global generator and torch (CPU and CUDA)."""
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def resolve_seed(seed: int | None) -> int:
    """Return ``seed`` or, when ``None``, ``settings.seed``."""
    return settings.seed if seed is None else int(seed)


settings = Settings()


@contextlib.contextmanager
def keep_torch_threads():
    """Restore torch's intra-op thread count on exit.

    Some calls into scanpy/scikit-learn (``sc.pp.neighbors(transformer="sklearn")``, via
    threadpoolctl's limits) leave torch's OpenMP pool at another size than the one the user
    set (``torch.set_num_threads``, ``settings.n_jobs``): on a machine with cores to spare
    it makes every later small tensor operation synchronise threads, which was measured 35x
    slower (a 4 000-row MLP step: 4.6 ms -> 161 ms on 2 busy cores).
    """
    import torch

    n = torch.get_num_threads()
    try:
        yield
    finally:
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
