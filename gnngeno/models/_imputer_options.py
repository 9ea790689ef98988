"""GraphImputer's options resolved: the input layer and its scale, batching and masking."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .. import _keys as keys
from .._logging import logger
from .._validate import (
    InputError,
    check_adata,
    check_choice,
    check_counts,
    check_nonnegative,
    is_counts,
    warn_if_lognormalized,
)

AUTO_CLUSTER_CELLS = 50_000  # above this, "auto" training uses graph-local batches ...
AUTO_MAX_NEIGHBORS = 5  # ... and samples this many neighbours per cell and layer
SCALES = ("counts", "log")


def default_max_epochs(n_cells: int) -> int:
    """Default epoch cap of :meth:`GraphImputer.train`: ``round(2e5 / n_cells)`` (at most 400)
    on small data, 40 up to 100 000 cells, then ``round(4e6 / n_cells)`` (at least 4)."""
    n = max(int(n_cells), 1)
    return int(min(400, max(round(2e5 / n), min(40, max(4, round(4e6 / n))))))


def check_architecture(*, conv: str, likelihood: str, n_layers: int, dropout: float) -> None:
    """Refuse architecture options out of range."""
    from ..nn._imputer import IMPUTER_CONVS, IMPUTER_LIKELIHOODS

    check_choice(conv, IMPUTER_CONVS, "conv")
    check_choice(likelihood, ("auto", *IMPUTER_LIKELIHOODS), "likelihood")
    if n_layers < 0:
        raise InputError(f"n_layers must be >= 0, got {n_layers}.")
    if conv == "sgc" and n_layers > 1:
        raise InputError(f"conv='sgc' reads one hop of the graph (n_layers=1) or none (0), "
                         f"got n_layers={n_layers}; use conv='gcn' for deeper layers.")
    if not 0.0 <= dropout < 1.0:
        raise InputError(f"dropout={dropout} must lie in [0, 1).")


def resolve_batching(n: int, n_layers: int, *, batch_size: int | None, batch_sampling: str,
                     max_neighbors: int | str | None, large: int = AUTO_CLUSTER_CELLS
                     ) -> tuple[int, str, int | None]:
    """``(batch_size, batch_sampling, max_neighbors)`` with ``"auto"`` and ``None`` resolved:
    graph-local batches and 5 sampled neighbours above ``large`` cells."""
    bs = n if batch_size is None else int(min(batch_size, n))
    if bs < 1:
        raise InputError(f"batch_size must be >= 1 or None, got {batch_size}.")
    check_choice(batch_sampling, ("auto", "random", "cluster"), "batch_sampling")
    if batch_sampling == "auto":
        batch_sampling = "cluster" if n > large else "random"
    if isinstance(max_neighbors, str):
        check_choice(max_neighbors, ("auto",), "max_neighbors")
        max_neighbors = AUTO_MAX_NEIGHBORS if n > large and n_layers > 0 else None
    elif max_neighbors is not None and int(max_neighbors) < 1:
        raise InputError(f"max_neighbors must be >= 1, None or 'auto', got {max_neighbors}.")
    return bs, batch_sampling, max_neighbors


def check_masking(mask_fraction: float, validation_fraction: float,
                  visible_weight: float) -> None:
    """Refuse masking options out of range."""
    if not 0.0 < mask_fraction < 1.0:
        raise InputError(f"mask_fraction={mask_fraction} must lie strictly between 0 and 1.")
    if not 0.0 <= validation_fraction < 1.0:
        raise InputError(f"validation_fraction={validation_fraction} must lie in [0, 1).")
    if visible_weight < 0:
        raise InputError(f"visible_weight must be >= 0, got {visible_weight}.")
MAX_LOG_VALUE = 30.0  # log-normalised values stay far below this (log1p(1e6) ~ 13.8)


def resolve_layer(adata, layer: str | None) -> str | None:
    """``layer="auto"``: the counts layer when ``adata`` has one, else ``adata.X`` (``None``)."""
    if layer != "auto":
        return layer
    layer = keys.COUNTS_LAYER if keys.COUNTS_LAYER in adata.layers else None
    what = f"adata.layers[{layer!r}]" if layer else "adata.X"
    logger.info(f"GraphImputer: reading {what}")
    return layer


def read_input(adata, layer: str | None, likelihood: str) -> tuple[sp.csr_matrix, str, str]:
    """Check the expression of ``layer`` and tell its scale.

    Raw counts (:func:`gnngeno.pp.is_counts`) are modelled as counts; non-negative values of
    which most non-zeros are fractional and all stay below :data:`MAX_LOG_VALUE` are taken as
    log-normalised and modelled on their own scale. ``likelihood="auto"`` becomes ``"zinb"``
    for counts and ``"gaussian"`` for log-normalised input.

    Returns
    -------
    ``(X, scale, likelihood)``: ``X`` a float32 CSR copy (sorted, no stored zeros), ``scale``
    ``"counts"`` or ``"log"``.
    """
    what = f"adata.layers[{layer!r}]" if layer else "adata.X"
    X = check_adata(adata, layer=layer, allow_empty_cells=False, what=what)
    if is_counts(X):
        scale = "counts"
        if likelihood == "gaussian":
            warn_if_lognormalized(X, what)
    else:
        check_nonnegative(X, what)
        vals = sp.csr_matrix(X).data if sp.issparse(X) else np.asarray(X).ravel()
        vals = vals[vals != 0]
        vals = vals[:: max(1, vals.size // 1_000_000)]
        fractional = float(np.mean(np.abs(vals - np.round(vals)) > 1e-6)) if vals.size else 0.0
        if likelihood in ("nb", "zinb") or fractional < 0.5:
            check_counts(X, what)  # names the non-integer values and the fix
        if float(vals.max()) >= MAX_LOG_VALUE:
            raise InputError(
                f"{what} holds non-integer values up to {float(vals.max()):.4g}: neither raw "
                "counts nor log-normalised expression. Pass raw counts (e.g. layer='counts') "
                "or log1p of normalised counts (sc.pp.normalize_total; sc.pp.log1p).")
        scale = "log"
        logger.info(f"GraphImputer: {what} looks log-normalised; it is modelled on its own "
                    "scale (Gaussian likelihood) and observed values are kept as they are")
    if likelihood == "auto":
        likelihood = "zinb" if scale == "counts" else "gaussian"
    out = sp.csr_matrix(X, dtype=np.float32, copy=True)
    out.eliminate_zeros()
    out.sort_indices()
    return out, scale, likelihood


__all__ = ["AUTO_CLUSTER_CELLS", "SCALES", "check_architecture", "check_masking", "default_max_epochs", "read_input",
           "resolve_batching", "resolve_layer"]
