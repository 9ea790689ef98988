"""Seeded masking of non-zero counts, for checking an imputation method on held-out entries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .. import _keys as keys
from .._settings import resolve_seed
from .._validate import InputError, check_adata


@dataclass(frozen=True)
class HiddenEntries:
    """Entries removed by :func:`mask_nonzero`.

    Attributes
    ----------
    rows, cols
        Cell and gene index of every hidden entry (``int64``, sorted by row then column).
    values
        The hidden counts (``float32``, all > 0).
    shape
        Shape ``(n_cells, n_genes)`` of the masked matrix.
    fraction, seed
        The masking parameters.
    """

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    shape: tuple[int, int]
    fraction: float
    seed: int

    def __len__(self) -> int:
        return int(self.values.size)

    def to_sparse(self) -> sp.csr_matrix:
        """The hidden entries as a CSR matrix of ``shape``."""
        return sp.csr_matrix((self.values, (self.rows, self.cols)), shape=self.shape)


def mask_nonzero(adata, *, fraction: float = 0.1, layer: str | None = keys.COUNTS_LAYER,
                 seed: int | None = None, min_per_cell: int = 1):
    """Hide a seeded random ``fraction`` of the non-zero counts (the scVI / scGNN protocol).

    The hidden entries are set to zero in a new AnnData, which an imputation method then sees
    in place of the data; :func:`gnngeno.metrics.imputation_metrics` compares its output with
    the hidden values. Each cell keeps at least ``min_per_cell`` non-zero entries (a hidden
    entry that would leave its cell empty is put back), so every masked cell still has a
    library size.

    Parameters
    ----------
    adata
        Cells x genes AnnData with raw counts in ``layer``.
    fraction
        Fraction of the non-zero entries to hide, in ``(0, 1)``.
    layer
        Layer with raw counts (``None``: ``adata.X``).
    seed
        Random seed (default: ``gnngeno.settings.seed``). The same seed hides the same entries.
    min_per_cell
        Smallest number of non-zero entries a cell keeps.

    Returns
    -------
    masked
        A new AnnData (``adata`` is unchanged) with the masked counts as CSR ``float32`` in
        both ``X`` and ``layers[layer or "counts"]``, and ``obs``/``var`` copied. Other layers,
        ``obsm``, ``obsp``, ``varm`` and ``uns`` are **not** carried over: anything derived
        from the unmasked counts (normalised layers, PCA, neighbour graphs) would leak the
        hidden values. ``masked.uns["gnngeno_mask"]`` records the parameters.
    hidden
        :class:`HiddenEntries` with the positions and values of the hidden counts.

    Examples
    --------
    >>> import gnngeno as gg
    >>> adata, _ = gg.datasets.simulate(n_cells=50, n_genes=30, n_tfs=3, seed=0)
    >>> masked, hidden = gg.pp.mask_nonzero(adata, fraction=0.1, seed=0)
    >>> bool((masked.layers["counts"][hidden.rows, hidden.cols] == 0).all())
    True
    """
    import anndata as ad

    if not 0.0 < float(fraction) < 1.0:
        raise InputError(f"fraction={fraction} must lie strictly between 0 and 1, e.g. 0.1.")
    X = check_adata(adata, layer=layer, counts=True, allow_empty_cells=False,
                    what=f"adata.layers[{layer!r}]" if layer else "adata.X")
    seed = resolve_seed(seed)
    X = sp.csr_matrix(X, dtype=np.float32, copy=True)
    X.eliminate_zeros()
    X.sort_indices()
    nnz = X.nnz
    rng = np.random.default_rng(seed)
    n_hide = int(round(fraction * nnz))
    chosen = np.zeros(nnz, dtype=bool)
    chosen[rng.choice(nnz, size=n_hide, replace=False)] = True
    # keep at least `min_per_cell` non-zeros per cell: un-hide the first chosen ones if needed
    row_of = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    kept_per_row = np.bincount(row_of[~chosen], minlength=X.shape[0])
    short = np.flatnonzero(kept_per_row < min_per_cell)
    for r in short:
        lo, hi = X.indptr[r], X.indptr[r + 1]
        idx = lo + np.flatnonzero(chosen[lo:hi])
        need = min(min_per_cell - kept_per_row[r], idx.size)
        chosen[idx[:need]] = False
    hidden = HiddenEntries(
        rows=row_of[chosen].astype(np.int64), cols=X.indices[chosen].astype(np.int64),
        values=X.data[chosen].astype(np.float32), shape=(int(X.shape[0]), int(X.shape[1])),
        fraction=float(fraction), seed=int(seed),
    )
    data = X.data.copy()
    data[chosen] = 0.0
    M = sp.csr_matrix((data, X.indices.copy(), X.indptr.copy()), shape=X.shape)
    M.eliminate_zeros()
    masked = ad.AnnData(X=M, obs=adata.obs.copy(), var=adata.var.copy())
    masked.layers[layer or keys.COUNTS_LAYER] = M.copy()
    masked.uns["gnngeno_mask"] = {"fraction": float(fraction), "seed": int(seed),
                                  "layer": layer, "n_hidden": len(hidden)}
    return masked, hidden


def log_normalize(X, *, target_sum: float = 1e4, library: np.ndarray | None = None):
    """``log1p(X / library * target_sum)``, row by row, keeping sparse input sparse.

    Parameters
    ----------
    X
        Cells x genes counts (dense array or scipy sparse).
    target_sum
        Counts per cell after normalisation (1e4, as scanpy's ``normalize_total``).
    library
        Library size per cell; default the row sums of ``X``. Cells with library 0 stay 0.

    Returns
    -------
    CSR ``float32`` for sparse input, a dense ``float32`` array otherwise.
    """
    from .._validate import warn_if_lognormalized

    warn_if_lognormalized(X, "X")
    return log1p_normalized(X, target_sum=target_sum, library=library)


def log1p_normalized(X, *, target_sum: float = 1e4, library: np.ndarray | None = None):
    """:func:`log_normalize` without the input check (for callers that checked already)."""
    lib = (np.asarray(X.sum(axis=1)).ravel() if library is None
           else np.asarray(library, dtype=np.float64).ravel())
    scale = np.divide(target_sum, lib, out=np.zeros_like(lib, dtype=np.float64), where=lib > 0)
    if sp.issparse(X):
        out = sp.csr_matrix(X, dtype=np.float32, copy=True)
        out.data = np.log1p(out.data * np.repeat(scale, np.diff(out.indptr))).astype(np.float32)
        return out
    return np.log1p(np.asarray(X, dtype=np.float64) * scale[:, None]).astype(np.float32)


__all__ = ["HiddenEntries", "log_normalize", "mask_nonzero"]
