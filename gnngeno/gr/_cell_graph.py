"""Cell-similarity graph: kNN on PCA (or a given representation) through scanpy."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from .. import _keys as keys
from .._logging import logger
from .._settings import keep_torch_threads, resolve_seed
from .._validate import InputError, check_adata, is_integer_valued


def _log_normalised(X, *, target_sum: float = 1e4):
    """log1p of ``X`` normalised to ``target_sum`` per cell; a new float32 matrix (input untouched)."""
    from ..pp._mask import log1p_normalized

    return log1p_normalized(X, target_sum=target_sum)


def cell_graph(
    adata,
    *,
    n_neighbors: int = 15,
    n_pcs: int = 50,
    use_rep: str | None = None,
    layer: str | None = None,
    normalize: bool | None = None,
    metric: str = "euclidean",
    transformer=None,
    key_added: str = keys.CELL_GRAPH_KEY,
    seed: int | None = None,
    copy: bool = False,
):
    """Build a kNN cell-similarity graph on PCA (or ``use_rep``) with :func:`scanpy.pp.neighbors`.

    Parameters
    ----------
    adata
        Cells x genes AnnData.
    n_neighbors
        Neighbours per cell (the cell itself included, as in scanpy).
    n_pcs
        Principal components computed when ``use_rep`` is ``None`` (capped by the matrix size).
    use_rep
        Key of ``adata.obsm`` to use as the representation instead of PCA (e.g. ``"X_gnngeno"``).
    layer
        Expression layer for PCA (``None``: ``adata.X``).
    normalize
        Library-size normalise to 1e4 and log1p before PCA. ``None`` (default) does it when the
        matrix holds whole-number counts. The caller's matrix is never changed.
    metric
        Distance metric for the neighbour search.
    transformer
        Passed to :func:`scanpy.pp.neighbors` (e.g. ``"sklearn"`` for exact small-data search,
        ``"pynndescent"`` for approximate search on large data; default: scanpy's choice).
    key_added
        Outputs go to ``.obsp[f"{key_added}_connectivities"]``,
        ``.obsp[f"{key_added}_distances"]``, ``.obsm[f"{key_added}_pca"]`` (when PCA was
        computed) and ``.uns[key_added]``.
    seed
        Random seed for PCA and the neighbour search (default ``settings.seed``).
    copy
        Return a new AnnData instead of writing into ``adata``.

    Returns
    -------
    ``None``, or the new AnnData with ``copy=True``. Writes

    - ``.obsp[f"{key_added}_connectivities"]``: sparse symmetric (cells, cells) UMAP
      connectivities (weights in [0, 1]);
    - ``.obsp[f"{key_added}_distances"]``: sparse (cells, cells) kNN distances;
    - ``.obsm[f"{key_added}_pca"]``: the PCA used (when ``use_rep`` is ``None``);
    - ``.uns[key_added]["params"]``: the parameters.

    Notes
    -----
    Memory: PCA runs on the sparse matrix with implicit centring (no dense cells x genes copy
    beyond the normalised sparse matrix); the graph holds ``cells * n_neighbors`` entries.
    """
    import anndata as ad
    import scanpy as sc

    if n_neighbors < 2:
        raise InputError(f"n_neighbors must be >= 2, got {n_neighbors}.")
    check_adata(adata, layer=None if use_rep else layer, min_cells=3)
    if adata.n_obs <= n_neighbors:
        raise InputError(f"n_neighbors={n_neighbors} needs more than {n_neighbors} cells; the data "
                         f"has {adata.n_obs}. Lower n_neighbors.")
    seed = resolve_seed(seed)
    adata = adata.copy() if copy else adata
    t0 = time.perf_counter()
    if use_rep is not None:
        if use_rep not in adata.obsm:
            raise InputError(f"use_rep={use_rep!r} is not in adata.obsm (present: "
                             f"{list(adata.obsm)}). Compute it first or pass use_rep=None for PCA.")
        rep = np.asarray(adata.obsm[use_rep], dtype=np.float32)
        n_used = None
    else:
        X = adata.layers[layer] if layer is not None else adata.X
        if normalize is None:
            normalize = is_integer_valued(X)
        if normalize:
            from .._validate import warn_if_lognormalized

            warn_if_lognormalized(X, f"adata.layers[{layer!r}]" if layer else "adata.X")
        Xn = _log_normalised(X) if normalize else (X if sp.issparse(X) else np.asarray(X, dtype=np.float32))
        n_used = int(min(n_pcs, adata.n_obs - 1, adata.n_vars - 1))
        if n_used < 1:
            raise InputError("too few cells or genes for PCA; pass use_rep=... instead.")
        tmp = ad.AnnData(X=Xn)
        sc.pp.pca(tmp, n_comps=n_used, random_state=seed, zero_center=True)
        rep = tmp.obsm["X_pca"].astype(np.float32)
        del tmp, Xn
        adata.obsm[f"{key_added}_pca"] = rep
    holder = ad.AnnData(obs=adata.obs[[]].copy(), obsm={"rep": rep})
    with keep_torch_threads():
        sc.pp.neighbors(holder, n_neighbors=n_neighbors, use_rep="rep", metric=metric,
                        transformer=transformer, random_state=seed, key_added="g")
    adata.obsp[keys.connectivities_key(key_added)] = holder.obsp["g_connectivities"].tocsr()
    adata.obsp[keys.distances_key(key_added)] = holder.obsp["g_distances"].tocsr()
    adata.uns[key_added] = {
        "connectivities_key": keys.connectivities_key(key_added),
        "distances_key": keys.distances_key(key_added),
        "params": {"n_neighbors": n_neighbors, "n_pcs": n_used, "use_rep": use_rep,
                   "layer": layer, "normalize": bool(normalize) if use_rep is None else None,
                   "metric": metric, "method": "umap", "seed": seed,
                   "transformer": None if transformer is None else str(transformer)},
    }
    logger.info(f"cell graph: {adata.n_obs} cells, {n_neighbors} neighbours, "
                f"{time.perf_counter() - t0:.1f} s")
    return adata if copy else None
