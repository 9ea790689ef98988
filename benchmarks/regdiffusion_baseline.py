"""RegDiffusion (Zhu & Slonim, *Journal of Computational Biology* 2024; pip ``regdiffusion``) as
an expression-only GRN baseline of the benchmarks: a diffusion model whose denoiser mixes genes
through a learnable adjacency matrix; the adjacency is the network.

Run with the package's defaults (1 000 training steps, batch 128, its own per-cell min-max and
per-gene z-scaling of the input) on CPU, seeded through its ``seed`` argument; the score of a
pair ``regulator -> target`` is ``|adj[regulator, target]|`` of ``RegDiffusionTrainer.get_adj()``
(rows regulate columns, as in the package's own edge lists and evaluator). Cells whose genes all
hold one value are left out first: the package warns that it removes them but then divides by
their zero range, and the adjacency comes out NaN (BoolODE's VSC simulations have such cells).

Not a dependency of gnngeno; install it beside torch for the benchmarks (``pip install
regdiffusion``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import time

import numpy as np


def available() -> bool:
    """Whether the ``regdiffusion`` package can be imported."""
    try:
        import regdiffusion  # noqa: F401
    except ImportError:
        return False
    return True


# (hash of X, seed) -> (|adj|, CPU seconds of its training)
_TRAINED: dict[tuple[str, int], tuple[np.ndarray, float]] = {}


def _key(X, seed: int) -> tuple[np.ndarray, tuple[str, int]]:
    import scipy.sparse as sp

    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float32)
    return X, (hashlib.sha1(np.ascontiguousarray(X).tobytes()).hexdigest(), seed)


def regdiffusion_scores(X, regulators: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """``(n_regulators, n_genes)`` scores ``|adj|`` of RegDiffusion trained on ``X``.

    The adjacency covers every gene pair, so one training serves every regulator list: it is
    kept per expression matrix and seed for the rest of the process (BEELINE's three
    references of a cell type share one matrix).

    Parameters
    ----------
    X
        Cells x genes expression (log scale, as the package expects; dense or sparse).
    regulators
        Gene positions of the candidate regulators (rows of the result).
    seed
        Seed of the package's training (weights, noise, batches).
    """
    X, key = _key(X, seed)
    if key not in _TRAINED:
        t0 = time.process_time()
        adj = _train(X, seed)
        _TRAINED[key] = adj, time.process_time() - t0
    return _TRAINED[key][0][np.asarray(regulators)]


def training_cpu_seconds(X, seed: int = 0) -> float:
    """CPU seconds of the training behind ``regdiffusion_scores(X, ..., seed=seed)``."""
    return _TRAINED[_key(X, seed)[1]][1]


def _train(X: np.ndarray, seed: int) -> np.ndarray:
    """``|adj|`` (genes x genes, float64) of one seeded training with the defaults."""
    from regdiffusion import RegDiffusionTrainer

    X = X[X.max(axis=1) > X.min(axis=1)]
    trainer = RegDiffusionTrainer(X, device="cpu", seed=seed)
    quiet = bool(os.environ.get("GNNGENO_NO_PROGRESS"))  # its bar redraws at every step
    with contextlib.redirect_stderr(io.StringIO()) if quiet else contextlib.nullcontext():
        trainer.train()
    adj = np.abs(np.asarray(trainer.get_adj(), dtype=np.float64))
    if not np.isfinite(adj).all():
        raise RuntimeError("RegDiffusion returned a non-finite adjacency")
    return adj
