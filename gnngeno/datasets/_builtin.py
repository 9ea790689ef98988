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
    adata.var[keys.IS_TF_KEY] = True
    return adata, krumsiek11_network()


def pbmc68k_reduced():
    """700 PBMCs x 765 genes from 10x (scanpy's ``pbmc68k_reduced``), log-normalised and scaled.

    Raw counts are not included in this file; ``adata.raw`` keeps log-normalised values of
    all genes and ``adata.X`` is scaled (it has negative values). Use it for graph building and
    embeddings on normalised data, not for count models.

    Returns
    -------
    AnnData with ``obs["bulk_labels"]``, ``obs["louvain"]`` and scanpy's precomputed PCA/UMAP.
    """
    import scanpy as sc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adata = sc.datasets.pbmc68k_reduced()
    return adata


__all__ = ["krumsiek11", "krumsiek11_network", "pbmc68k_reduced"]

