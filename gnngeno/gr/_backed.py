"""The cell kNN graph of an ``.h5ad`` file too large to load: chunked PCA, then kNN."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .. import _keys as keys
from .._logging import logger
from .._settings import resolve_seed
from .._validate import InputError
from ..io._backed import read_obs, write_elems
from ..pp import chunked_pca
from ._cell_graph import cell_graph


def backed_cell_graph(source, *, n_neighbors: int = 15, n_pcs: int = 50,
                      layer: str | None = None, normalize: bool | None = None,
                      chunk_size: int = 20_000, metric: str = "euclidean", transformer=None,
                      key_added: str = keys.CELL_GRAPH_KEY, seed: int | None = None,
                      write: bool = False):
    """Cell kNN graph of an ``.h5ad`` file without loading its expression matrix.

    :func:`gnngeno.pp.chunked_pca` of the log-normalised matrix, then :func:`cell_graph` with
    ``use_rep`` on that PCA (``scanpy.pp.neighbors``; UMAP connectivities).

    Parameters
    ----------
    source
        ``.h5ad`` path (or backed AnnData).
    n_neighbors, n_pcs, metric, transformer, key_added, seed
        As in :func:`cell_graph`.
    layer, normalize, chunk_size
        As in :func:`gnngeno.pp.chunked_pca`.
    write
        Also write ``.obsm[f"{key_added}_pca"]``, the two ``.obsp`` graphs and
        ``.uns[key_added]`` into the file (atomically per element, see :func:`gnngeno.io.write_elems`).

    Returns
    -------
    An in-memory AnnData with the file's ``obs`` and no genes (``X`` is not loaded) holding
    ``.obsm[f"{key_added}_pca"]``, ``.obsp[f"{key_added}_connectivities"]``,
    ``.obsp[f"{key_added}_distances"]`` and ``.uns[key_added]`` (parameters, including
    ``"backed": True`` and the PCA's explained variance ratio).
    """
    import anndata as ad

    seed = resolve_seed(seed)
    path = Path(source.filename if isinstance(source, ad.AnnData) else source)
    t0 = time.perf_counter()
    pca, info = chunked_pca(path, n_comps=n_pcs, layer=layer, normalize=normalize,
                            chunk_size=chunk_size, seed=seed)
    obs = read_obs(path)
    if obs.shape[0] != pca.shape[0]:
        raise InputError(f"{path}: obs has {obs.shape[0]} rows but the matrix {pca.shape[0]}.")
    rep_key = f"{key_added}_pca"
    holder = ad.AnnData(X=sp.csr_matrix((pca.shape[0], 1), dtype=np.float32),
                        obs=obs[[]].copy(), obsm={rep_key: pca})
    n_neighbors = int(min(n_neighbors, pca.shape[0] - 1))
    cell_graph(holder, n_neighbors=n_neighbors, use_rep=rep_key, metric=metric,
               transformer=transformer, key_added=key_added, seed=seed)
    uns = dict(holder.uns[key_added])
    uns["params"] = dict(uns["params"], n_pcs=int(pca.shape[1]), layer=layer,
                         normalize=info["normalize"], backed=True, use_rep=None)
    uns["pca"] = {"variance_ratio": np.asarray(info["variance_ratio"]),
                  "variance": np.asarray(info["variance"])}
    out = ad.AnnData(obs=obs, obsm={rep_key: pca},
                     obsp={k: holder.obsp[k] for k in holder.obsp}, uns={key_added: uns})
    logger.info(f"backed cell graph of {path}: {time.perf_counter() - t0:.1f} s")
    if write:
        write_elems(path, obsm={rep_key: pca}, obsp=dict(out.obsp), uns={key_added: uns})
    return out


__all__ = ["backed_cell_graph"]
