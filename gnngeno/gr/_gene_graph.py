"""Gene co-expression graph among genes (Pearson or Spearman), kept sparse."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

from .. import _keys as keys
from .._validate import InputError, check_adata, check_choice, check_tfs, is_counts
from ._cell_graph import _log_normalised


def _standardised(X, method: str) -> np.ndarray:
    """Cells x genes -> column-standardised dense float32 (ranks first for Spearman)."""
    M = X.toarray() if sp.issparse(X) else np.asarray(X)
    M = M.astype(np.float64, copy=method != "spearman")
    if method == "spearman":
        M = rankdata(M, axis=0).astype(np.float64)
    M -= M.mean(axis=0, keepdims=True)
    norms = np.linalg.norm(M, axis=0)
    constant = norms == 0
    norms[constant] = 1.0
    M /= norms
    return M.astype(np.float32), constant


def coexpression(X, *, method: str = "pearson", rows: np.ndarray | None = None,
                 block: int = 512) -> np.ndarray:
    """Gene-gene correlation of a cells x genes matrix, for ``rows`` (default all genes).

    Returns a dense (len(rows), genes) float32 array; constant genes get correlation 0.
    """
    check_choice(method, ("pearson", "spearman"), "method")
    Z, constant = _standardised(X, method)
    rows = np.arange(Z.shape[1]) if rows is None else np.asarray(rows)
    out = np.empty((len(rows), Z.shape[1]), dtype=np.float32)
    for start in range(0, len(rows), block):
        idx = rows[start:start + block]
        out[start:start + len(idx)] = Z[:, idx].T @ Z
    out[:, constant] = 0.0
    out[np.isin(rows, np.flatnonzero(constant))] = 0.0
    return out


def gene_graph(
    adata,
    *,
    method: str = "pearson",
    k: int | None = 10,
    threshold: float | None = None,
    tfs: Sequence[str] | None = None,
    layer: str | None = None,
    normalize: bool | None = None,
    key_added: str = keys.GENE_GRAPH_KEY,
    copy: bool = False,
):
    """Build a co-expression graph among genes and store it sparse in ``.varp``.

    Each gene keeps its ``k`` partners of largest absolute correlation and/or the partners with
    ``|r| >= threshold``. Without ``tfs`` the graph is undirected and **symmetric** (an edge is
    kept when either gene selected the other). With ``tfs`` it is directed TF -> gene: only rows
    of TFs hold edges, each TF keeping its top-``k`` targets.

    Parameters
    ----------
    adata
        Cells x genes AnnData.
    method
        ``"pearson"`` or ``"spearman"``.
    k
        Partners kept per gene (``None``: no top-k selection, use ``threshold`` alone).
    threshold
        Minimum absolute correlation (``None``: none).
    tfs
        Transcription factors; when given, only TF -> gene edges are built.
    layer
        Expression layer (``None``: ``adata.X``).
    normalize
        log1p of counts normalised to 1e4 per cell before correlating; ``None`` does it when the
        matrix holds whole-number counts. The caller's matrix is never changed.
    key_added
        Output key in ``.varp`` and ``.uns``.
    copy
        Return a new AnnData instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a new AnnData with ``copy=True``. Writes ``.varp[key_added]`` (sparse CSR
    genes x genes, signed correlations as weights, no self-loops) and
    ``.uns[key_added]["params"]``.
    """
    check_choice(method, ("pearson", "spearman"), "method")
    if k is None and threshold is None:
        raise InputError("give k (partners per gene) or threshold (minimum |r|), or both.")
    if k is not None and k < 1:
        raise InputError(f"k must be >= 1, got {k}.")
    if threshold is not None and not 0 <= threshold <= 1:
        raise InputError(f"threshold must be in [0, 1], got {threshold}.")
    X = check_adata(adata, layer=layer, min_cells=3, min_genes=2, allow_empty_genes="warn")
    adata = adata.copy() if copy else adata
    if normalize is None:
        normalize = is_counts(X)
    if normalize:
        from .._validate import warn_if_lognormalized

        warn_if_lognormalized(X, f"adata.layers[{layer!r}]" if layer else "adata.X")
        X = _log_normalised(X)
    genes = adata.var_names
    rows = (np.arange(adata.n_vars) if tfs is None
            else genes.get_indexer(check_tfs(tfs, list(genes))))
    corr = coexpression(X, method=method, rows=rows)
    corr[np.arange(len(rows)), rows] = 0.0  # no self-loops
    strength = np.abs(corr)
    keep = np.ones_like(strength, dtype=bool)
    if threshold is not None:
        keep &= strength >= threshold
    if k is not None:
        kk = min(k, adata.n_vars - 1)
        top = np.argpartition(-strength, kk - 1, axis=1)[:, :kk]
        topmask = np.zeros_like(keep)
        np.put_along_axis(topmask, top, True, axis=1)
        keep &= topmask
    keep &= strength > 0
    if tfs is None:
        keep |= keep.T  # symmetric union: an edge kept by either endpoint (corr is symmetric)
    r, c = np.nonzero(keep)
    A = sp.csr_matrix((corr[r, c], (rows[r], c)), shape=(adata.n_vars, adata.n_vars),
                      dtype=np.float32)
    A.eliminate_zeros()
    adata.varp[key_added] = A
    adata.uns[key_added] = {"params": {"method": method, "k": k, "threshold": threshold,
                                       "directed": tfs is not None, "layer": layer,
                                       "normalize": bool(normalize),
                                       "n_tfs": None if tfs is None else len(rows)},
                            "n_edges": int(A.nnz)}
    return adata if copy else None
