"""PCA of an expression matrix read in row chunks (``.h5ad`` on disk or AnnData in memory).

A randomised SVD (Halko, Martinsson & Tropp 2011) whose every product with the data is one pass
over row blocks from :func:`gnngeno.io.iter_chunks`; the centring is applied to the products, so
the matrix is never densified or centred. Memory: one chunk (sparse), the
``(cells, n_comps + oversample)`` sketch and the result.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._logging import logger, progress
from .._settings import resolve_seed
from .._validate import InputError, is_counts
from ..io._backed import iter_chunks, source_shape
from ._mask import log1p_normalized


def _csr_tensor(C: sp.csr_matrix):
    """A SciPy CSR block as a float32 ``torch.sparse_csr_tensor`` (sorted indices)."""
    import warnings

    import torch

    A = sp.csr_matrix(C, dtype=np.float32)
    A.sort_indices()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        return torch.sparse_csr_tensor(torch.from_numpy(A.indptr.astype(np.int64)),
                                       torch.from_numpy(A.indices.astype(np.int64)),
                                       torch.from_numpy(A.data), size=A.shape)


def chunked_pca(source, *, n_comps: int = 50, layer: str | None = None,
                normalize: bool | None = None, target_sum: float = 1e4,
                chunk_size: int = 20_000, n_iter: int = 3, oversample: int = 10,
                seed: int | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """PCA of the (log-normalised) expression, reading the matrix in chunks.

    A randomised SVD (Halko et al. 2011, as in :func:`sklearn.utils.extmath.randomized_svd`)
    of the centred matrix ``X - 1 mu^T`` in which every product with ``X`` is one pass over
    row chunks and the centring is applied to the products (``X`` is never densified or
    centred). ``2 * n_iter + 2`` passes in all.

    Parameters
    ----------
    source
        ``.h5ad`` path, backed AnnData, or in-memory AnnData.
    n_comps
        Components (capped by the matrix size).
    layer
        Layer to read (``None``: ``X``).
    normalize
        Library-size normalise to ``target_sum`` and ``log1p`` each chunk first. ``None``: when
        the first chunk holds whole non-negative numbers (counts).
    target_sum
        Normalisation total.
    chunk_size
        Rows per chunk.
    n_iter
        Power iterations (more: more accurate trailing components).
    oversample
        Extra random directions of the sketch.
    seed
        Random seed (default ``settings.seed``); results repeat exactly.

    Returns
    -------
    scores
        ``(n_cells, n_comps)`` float32 PCA coordinates (as ``adata.obsm["X_pca"]``).
    info
        ``components`` ``(n_comps, n_genes)``, ``mean`` ``(n_genes,)``, ``variance`` and
        ``variance_ratio`` ``(n_comps,)``, ``normalize``, ``passes``, ``seconds``.
    """
    import torch

    seed = resolve_seed(seed)
    t0 = time.perf_counter()
    path_or_ad = source
    _, n, g = source_shape(source, layer)
    k = int(min(n_comps, n - 1, g - 1))
    if k < 1:
        raise InputError(f"too few cells ({n}) or genes ({g}) for PCA.")
    ell = int(min(k + oversample, g, n))
    passes = 0
    bar = progress(total=(2 * int(n_iter) + 2) * -(-n // chunk_size), desc="chunked PCA")

    def chunks(desc):
        nonlocal passes, normalize
        passes += 1
        for s, C in iter_chunks(path_or_ad, layer=layer, chunk_size=chunk_size):
            if normalize is None:
                normalize = is_counts(C)
            yield s, (log1p_normalized(C, target_sum=target_sum) if normalize else C)
            bar.update(1)

    def spmm(C: sp.csr_matrix, D: np.ndarray) -> np.ndarray:
        return torch.sparse.mm(_csr_tensor(C), torch.from_numpy(D)).numpy()

    def spmm_t(C: sp.csr_matrix, D: np.ndarray) -> np.ndarray:
        return torch.sparse.mm(_csr_tensor(C.T.tocsr()), torch.from_numpy(D)).numpy()

    rng = np.random.default_rng(seed)
    omega = rng.standard_normal((g, ell)).astype(np.float32)
    # pass 1: Y = X omega and the column means (centring applied afterwards)
    Y = np.empty((n, ell), dtype=np.float32)
    col_sum = np.zeros(g, dtype=np.float64)
    col_sq = np.zeros(g, dtype=np.float64)
    for s, C in chunks("PCA pass 1"):
        Y[s] = spmm(C, omega)
        col_sum += np.asarray(C.sum(axis=0)).ravel()
        col_sq += np.asarray(C.multiply(C).sum(axis=0)).ravel()
    mu = (col_sum / n).astype(np.float32)
    Y -= mu @ omega

    def xt_times(Q: np.ndarray) -> np.ndarray:  # (X - 1 mu^T)^T Q, (g, ell)
        Z = np.zeros((g, Q.shape[1]), dtype=np.float64)
        for s, C in chunks("PCA pass"):
            Z += spmm_t(C, np.ascontiguousarray(Q[s]))
        Z -= np.outer(mu, Q.sum(axis=0))
        return Z.astype(np.float32)

    def x_times(Z: np.ndarray, out: np.ndarray) -> np.ndarray:  # (X - 1 mu^T) Z, (n, ell)
        for s, C in chunks("PCA pass"):
            out[s] = spmm(C, Z)
        out -= mu @ Z
        return out

    def orth(M: np.ndarray) -> np.ndarray:  # torch's QR: multithreaded, ~3x numpy's here
        return torch.linalg.qr(torch.from_numpy(M)).Q.numpy()

    for _ in range(int(n_iter)):
        Q = orth(Y)
        Z = orth(xt_times(Q))
        Y = x_times(np.ascontiguousarray(Z), Y)
    Q = orth(Y)
    del Y
    B = xt_times(Q).T  # (ell, g) = Q^T (X - 1 mu^T)
    bar.close()
    Ub, S, Vt = np.linalg.svd(B.astype(np.float64), full_matrices=False)
    U = Q @ Ub[:, :k].astype(np.float32)
    # deterministic signs (sklearn's svd_flip on V: largest |loading| positive)
    signs = np.sign(Vt[np.arange(k), np.argmax(np.abs(Vt[:k]), axis=1)])
    signs[signs == 0] = 1
    U *= signs.astype(np.float32)
    scores = (U * S[:k].astype(np.float32)).astype(np.float32)
    components = (Vt[:k] * signs[:, None]).astype(np.float32)
    total_var = float(((col_sq / n) - (col_sum / n) ** 2).sum() * n / max(n - 1, 1))
    variance = (S[:k] ** 2 / max(n - 1, 1)).astype(np.float32)
    info = {"components": components, "mean": mu, "variance": variance,
            "variance_ratio": (variance / total_var if total_var > 0 else variance * 0),
            "normalize": bool(normalize), "passes": passes,
            "seconds": time.perf_counter() - t0}
    logger.info(f"chunked PCA: {n} x {g} -> {k} components, {passes} passes, "
                f"{info['seconds']:.1f} s")
    return scores, info


__all__ = ["chunked_pca"]
