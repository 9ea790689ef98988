"""Package-wide settings: random seed, verbosity, device, threads, progress bars.

Use the instance :data:`gnngeno.settings`::

    import gnngeno as gg
    gg.settings.seed = 0          # python, numpy and torch are seeded at once
    gg.settings.verbosity = "info"
    gg.settings.device = "auto"   # "cpu", "cuda", "cuda:1", ... ; "auto" uses a GPU when present
    gg.settings.n_threads = 1     # CPU threads of torch, BLAS/OpenMP and scikit-learn work
    gg.settings.progress = False  # no progress bars (default: only on a terminal or notebook)

This module imports neither numpy, torch nor scanpy: ``gnngeno --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import logging
import numbers
import os
import random
import sys
import warnings

_LEVELS = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO,
           "debug": logging.DEBUG}
#: Most threads the automatic default uses.
MAX_AUTO_THREADS = 8


def _usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask, where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        return os.cpu_count() or 1


def default_threads() -> int:
    """The automatic thread count: ``$OMP_NUM_THREADS`` when set, else half the usable cores.

    Half the cores the process may use, at least 1 and at most :data:`MAX_AUTO_THREADS`: on a
    machine of 2 or 3 cores that is 1 thread. Small models (a few thousand cells, full or
    mini-batch training on one machine) gain little from more threads, and on a machine where
    other processes keep some cores busy, extra OpenMP threads wait for each other at every
    operation and make training several times slower.
    """
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) >= 1:
        return int(env)
    return max(1, min(MAX_AUTO_THREADS, _usable_cores() // 2))


def _stderr_is_interactive() -> bool:
    """Whether progress bars would be read by a person: stderr is a terminal or a notebook."""
    stream = sys.stderr
    try:
        if stream is not None and stream.isatty():
            return True
    except (AttributeError, ValueError):  # closed or unusual streams
        pass
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _env_no_progress() -> bool:
    value = os.environ.get("GNNGENO_NO_PROGRESS", "").strip().lower()
    return value not in ("", "0", "false", "no")


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
    n_threads
        CPU threads of torch's intra-op pool (set when a model starts training, and at once
        when torch is already imported), of the BLAS/OpenMP pools during scikit-learn and
        scanpy calls made by gnngeno (via threadpoolctl), and ``n_jobs`` of scikit-learn work
        started from the command line. Set an integer, ``"auto"`` (default: see
        :func:`default_threads`; ``$OMP_NUM_THREADS`` when set, else half the usable cores,
        1 to 8) or ``None`` (leave the libraries' own settings alone). Reading it gives the
        number in effect (``None`` when left alone). Results repeat exactly for a given seed
        and thread count; another thread count may change the last digits.
    progress
        Show ``tqdm`` progress bars on long work. Default (``None``, "auto"): only when stderr
        is a terminal or the code runs in a Jupyter notebook, so that log files get no
        carriage-return updates; never when the environment variable ``GNNGENO_NO_PROGRESS``
        is set (to anything but ``0``). Set ``True``/``False`` to force them on or off.
        Reading it gives the value in effect.
    """

    def __init__(self) -> None:
        self._seed: int = 0
        self._verbosity: str = "warning"
        self._device: str = "auto"
        self._progress: bool | None = None
        self._n_threads: int | str | None = "auto"

    # seed -----------------------------------------------------------------
    @property
    def seed(self) -> int:
        return self._seed

    @seed.setter
    def seed(self, value: int) -> None:
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
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
        logging.getLogger("gnngeno").setLevel(_LEVELS[value])

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
    def n_threads(self) -> int | None:
        if self._n_threads == "auto":
            return default_threads()
        return self._n_threads  # type: ignore[return-value]

    @n_threads.setter
    def n_threads(self, value: int | str | None) -> None:
        if value is not None and value != "auto":
            if (not isinstance(value, numbers.Integral) or isinstance(value, bool)
                    or value < 1):
                raise ValueError("settings.n_threads must be a positive integer, 'auto' or "
                                 f"None, got {value!r}.")
            value = int(value)
        self._n_threads = value
        if "torch" in sys.modules:  # apply now; otherwise when training starts
            self.apply_threads()

    def apply_threads(self) -> None:
        """Set torch's intra-op thread count to :attr:`n_threads` (no-op when ``None``).

        Training calls it when it starts; it imports torch.
        """
        n = self.n_threads
        if n is None:
            return
        import torch

        if torch.get_num_threads() != n:
            torch.set_num_threads(n)

    @property
    def n_jobs(self) -> int | None:
        """Deprecated name of :attr:`n_threads`."""
        warnings.warn("settings.n_jobs is deprecated; use settings.n_threads.",
                      DeprecationWarning, stacklevel=2)
        return self.n_threads

    @n_jobs.setter
    def n_jobs(self, value: int | None) -> None:
        warnings.warn("settings.n_jobs is deprecated; use settings.n_threads.",
                      DeprecationWarning, stacklevel=2)
        self.n_threads = value

    # progress bars ----------------------------------------------------------
    @property
    def progress(self) -> bool:
        if self._progress is not None:
            return self._progress
        return not _env_no_progress() and _stderr_is_interactive()

    @progress.setter
    def progress(self, value: bool | None) -> None:
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"settings.progress must be True, False or None (automatic), got "
                             f"{value!r}.")
        self._progress = value

    def __repr__(self) -> str:
        return (f"gnngeno.settings(seed={self.seed}, verbosity={self.verbosity!r}, "
                f"device={self.device!r}, n_threads={self.n_threads}, "
                f"progress={self.progress})")


def seed_everything(seed: int) -> None:
    """Seed python's ``random``, numpy's global generator and torch (CPU and CUDA)."""
    import numpy as np
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
    """Limit BLAS/OpenMP pools to ``settings.n_threads`` and restore torch's thread count.

    Wraps calls into scanpy/scikit-learn (``sc.pp.neighbors``, PCA): their BLAS and OpenMP
    pools use :attr:`Settings.n_threads` threads (through threadpoolctl; untouched when it
    is ``None``). Those limits, and scikit-learn's own, leave torch's OpenMP pool at another
    size than the one set (``torch.set_num_threads``, ``settings.n_threads``), which makes
    every later small tensor operation synchronise more threads than asked for; torch's count
    is put back on exit.
    """
    import torch

    n = torch.get_num_threads()
    limit = settings.n_threads
    if limit is None:
        limiter: contextlib.AbstractContextManager = contextlib.nullcontext()
    else:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(limits=limit)
    try:
        with limiter:
            yield
    finally:
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
