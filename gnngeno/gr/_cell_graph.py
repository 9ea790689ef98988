"""Cell-similarity graph: kNN on PCA (or a given representation) through scanpy."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from .. import _keys as keys
from .._logging import logger
from .._settings import keep_torch_threads, resolve_seed
from .._validate import InputError, check_adata, is_counts


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
            normalize = is_counts(X)
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


SCANPY_GRAPH_KEY = "connectivities"  # .obsp name of the graph scanpy.pp.neighbors writes


def _stored_graph(adata, graph_key: str) -> sp.csr_matrix:
    """``adata.obsp`` connectivities named by ``graph_key`` (the graph key or the raw name)."""
    name = keys.connectivities_key(graph_key)
    for cand in (name, graph_key):
        if cand in adata.obsp:
            A = sp.csr_matrix(adata.obsp[cand], dtype=np.float32)
            break
    else:
        raise InputError(f"graph_key={graph_key!r}: neither {name!r} nor {graph_key!r} is in "
                         f"adata.obsp (present: {list(adata.obsp)}). Build it with "
                         "gnngeno.gr.cell_graph(adata) or pass graph_key=None to build one.")
    if A.shape != (adata.n_obs, adata.n_obs):
        raise InputError(f"the graph {graph_key!r} is {A.shape}, expected cells x cells "
                         f"({adata.n_obs}, {adata.n_obs}).")
    return A


def get_cell_graph(
    adata,
    *,
    graph_key: str | None = None,
    layer: str | None = None,
    use_rep: str | None = None,
    n_neighbors: int = 15,
    n_pcs: int = 50,
    normalize: bool | None = None,
    transformer=None,
    seed: int | None = 0,
    return_pca: bool = False,
):
    """The cell kNN connectivities of ``adata``: stored in ``.obsp``, or built without writing.

    With ``graph_key`` the graph is read from ``adata.obsp[f"{graph_key}_connectivities"]``
    (as :func:`cell_graph` writes it) or ``adata.obsp[graph_key]`` (e.g. scanpy's
    ``"connectivities"``); ``graph_key="auto"`` reads the graph :func:`cell_graph` writes by
    default or else scanpy's, when either is present (and says so in the log). Otherwise
    :func:`cell_graph` builds one on a temporary AnnData holding the same matrix (and
    ``.obsm[use_rep]``), so the caller's AnnData is unchanged.

    Parameters
    ----------
    adata
        Cells x genes AnnData.
    graph_key
        Key of a graph already in ``adata.obsp`` (connectivities key or raw ``.obsp`` name).
        ``"auto"``: ``"gnngeno_cell"`` or scanpy's ``"connectivities"`` when present, else
        build one. ``None``: build one.
    layer, use_rep, n_neighbors, n_pcs, normalize, transformer
        Options of :func:`cell_graph` when the graph is built. ``n_neighbors`` is capped at
        ``n_obs - 1``.
    seed
        Random seed of the PCA and the neighbour search (``None``: ``settings.seed``).
    return_pca
        Also return the PCA the graph was built on (``None`` when the graph was read from
        ``.obsp`` or built on ``use_rep``).

    Returns
    -------
    ``scipy.sparse.csr_matrix`` float32 (cells, cells) connectivities; with
    ``return_pca=True`` the pair ``(connectivities, pca)``, ``pca`` a float32
    ``(cells, n_pcs)`` array or ``None``.

    Examples
    --------
    >>> import gnngeno as gg
    >>> adata, _ = gg.datasets.simulate(n_cells=60, n_genes=30, n_tfs=3, seed=0)
    >>> A = gg.gr.get_cell_graph(adata, n_neighbors=5, transformer="sklearn")
    >>> A.shape, A.dtype
    ((60, 60), dtype('float32'))
    """
    import anndata as ad

    if graph_key == "auto":
        graph_key = next((k for k in (keys.connectivities_key(keys.CELL_GRAPH_KEY),
                                      SCANPY_GRAPH_KEY) if k in adata.obsp), None)
        if graph_key is not None:
            logger.info(f"using the cell graph in adata.obsp[{graph_key!r}] (pass "
                        "graph_key=None to build a new one)")
    if graph_key is not None:
        A = _stored_graph(adata, graph_key)
        return (A, None) if return_pca else A
    if layer is not None and use_rep is None and layer not in adata.layers:
        raise InputError(f"layer={layer!r} is not in adata.layers (present: "
                         f"{list(adata.layers)}). Pass layer=None for adata.X.")
    X = adata.layers[layer] if layer is not None and use_rep is None else adata.X
    holder = ad.AnnData(X=X, obs=adata.obs[[]].copy(), var=adata.var[[]].copy())
    if use_rep is not None:
        if use_rep not in adata.obsm:
            raise InputError(f"use_rep={use_rep!r} is not in adata.obsm (present: "
                             f"{list(adata.obsm)}). Compute it first or pass use_rep=None.")
        holder.obsm[use_rep] = adata.obsm[use_rep]
    n_neighbors = int(min(n_neighbors, adata.n_obs - 1))
    cell_graph(holder, n_neighbors=n_neighbors, n_pcs=n_pcs, use_rep=use_rep,
               normalize=normalize, transformer=transformer, seed=seed)
    A = sp.csr_matrix(holder.obsp[keys.connectivities_key(keys.CELL_GRAPH_KEY)],
                      dtype=np.float32)
    if not return_pca:
        return A
    return A, holder.obsm.get(f"{keys.CELL_GRAPH_KEY}_pca")
