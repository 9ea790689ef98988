"""Datasets that ship inside installed packages (no download)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from .. import _keys as keys


def _scanpy_dir() -> Path:
    import scanpy

    return Path(scanpy.__file__).parent


def krumsiek11_network() -> pd.DataFrame:
    """The myeloid-differentiation network of Krumsiek et al. (2011) as shipped in scanpy.

    Parsed from the coupling list of ``scanpy/sim_models/krumsiek11.txt`` (lines
    ``target regulator coupling``).

    Returns
    -------
    DataFrame ``source, target, weight`` (weight = coupling; < 0 represses), 30 edges including
    the 4 self-activations of the original model.
    """
    path = _scanpy_dir() / "sim_models" / "krumsiek11.txt"
    if not path.exists():
        raise FileNotFoundError(f"scanpy's Krumsiek model file is missing ({path}); reinstall scanpy.")
    rows = []
    in_coupling = False
    for line in path.read_text().splitlines():
        if line.startswith("# coupling list"):
            in_coupling = True
            continue
        if in_coupling and line.strip() and not line.startswith("#"):
            target, source, weight = line.split()
            rows.append((source, target, float(weight)))
    return pd.DataFrame(rows, columns=[keys.SOURCE, keys.TARGET, keys.WEIGHT])


def krumsiek11():
    """Simulated myeloid progenitors (640 cells x 11 genes) and their known regulatory network.

    Both come from scanpy: the expression from :func:`scanpy.datasets.krumsiek11` (cell names are
    made unique), the network from the model file it was simulated with. All 11 genes are TFs
    (``var["is_tf"]``).

    Returns
    -------
    adata
        AnnData with ``obs["cell_type"]`` (progenitor, Mo, Ery, Mk, Neu).
    net
        DataFrame ``source, target, weight`` (see :func:`krumsiek11_network`).
    """
    import scanpy as sc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adata = sc.datasets.krumsiek11()
    adata.obs_names_make_unique()
    # scanpy's copy keys uns["highlights"] by cell position (int), which .h5ad cannot store
    if "highlights" in adata.uns:
        adata.uns["highlights"] = {str(k): v for k, v in adata.uns["highlights"].items()}
    adata.var[keys.IS_TF_KEY] = True
    return adata, krumsiek11_network()


def pbmc68k_reduced(counts: bool = False):
    """700 PBMCs x 765 genes from 10x (scanpy's ``pbmc68k_reduced``), log-normalised and scaled.

    As scanpy ships it, ``adata.raw`` keeps log-normalised values and ``adata.X`` is scaled (it
    has negative values): use it for graph building and embeddings on normalised data. With
    ``counts=True`` the raw UMI counts of the 765 genes are recovered and returned instead.

    Parameters
    ----------
    counts
        Return the counts: ``adata.raw`` holds ``log1p(count / n_counts * 1e4)`` with
        ``n_counts`` each cell's total over all of its genes (``obs["n_counts"]``), so
        ``round(expm1(raw) * n_counts / 1e4)`` gives back the whole numbers exactly. The
        result has them (sparse CSR) in ``X`` and ``layers["counts"]``, the same ``obs``
        (with the labels) and ``var`` names, and nothing else.

    Returns
    -------
    AnnData with ``obs["bulk_labels"]`` (10 FACS-sorted populations of Zheng et al. 2017) and
    ``obs["louvain"]``; with ``counts=False`` also scanpy's precomputed PCA/UMAP.
    """
    import scanpy as sc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adata = sc.datasets.pbmc68k_reduced()
    if not counts:
        return adata
    import anndata as ad
    import numpy as np
    import scipy.sparse as sp

    lognorm = sp.csr_matrix(adata.raw.X, dtype=np.float64)
    total = adata.obs["n_counts"].to_numpy(np.float64)
    values = np.expm1(lognorm.data) * np.repeat(total / 1e4, np.diff(lognorm.indptr))
    X = sp.csr_matrix((np.rint(values).astype(np.float32), lognorm.indices, lognorm.indptr),
                      shape=lognorm.shape)
    X.eliminate_zeros()
    out = ad.AnnData(X=X, obs=adata.obs.copy(), var=pd.DataFrame(index=adata.raw.var_names))
    out.layers[keys.COUNTS_LAYER] = X.copy()
    return out


__all__ = ["krumsiek11", "krumsiek11_network", "pbmc68k_reduced"]

