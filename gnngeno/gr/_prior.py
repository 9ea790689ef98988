"""Prior gene-regulatory network (TF -> target edge list) aligned to the genes of an AnnData."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import _keys as keys
from .._validate import align_network, check_adata


def network_to_adjacency(net: pd.DataFrame, genes, *, weighted: bool = True) -> sp.csr_matrix:
    """Sparse (genes, genes) adjacency of an aligned ``source, target, weight`` DataFrame.

    Row = source (regulator), column = target. Every gene of ``net`` must be in ``genes``.
    """
    index = pd.Index(genes)
    src = index.get_indexer(net[keys.SOURCE])
    dst = index.get_indexer(net[keys.TARGET])
    if (src < 0).any() or (dst < 0).any():
        raise ValueError("network genes missing from `genes`; align it first (align_network).")
    w = net[keys.WEIGHT].to_numpy(dtype=np.float32) if weighted and keys.WEIGHT in net else \
        np.ones(len(net), dtype=np.float32)
    if (w == 0).any():
        import warnings

        from .._validate import InputWarning

        warnings.warn(f"{int((w == 0).sum())} edge(s) with weight 0 are left out (a zero in a "
                      "sparse adjacency means 'no edge'); pass weighted=False to keep them as 1.",
                      InputWarning, stacklevel=3)
    A = sp.csr_matrix((w, (src, dst)), shape=(len(index), len(index)), dtype=np.float32)
    A.eliminate_zeros()
    return A


def adjacency_to_network(A, genes, *, sort: bool = True) -> pd.DataFrame:
    """``source, target, weight`` DataFrame of the non-zero entries of a genes x genes matrix."""
    coo = sp.coo_matrix(A)
    genes = np.asarray(genes)
    net = pd.DataFrame({keys.SOURCE: genes[coo.row], keys.TARGET: genes[coo.col],
                        keys.WEIGHT: coo.data.astype(float)})
    if sort:
        net = net.sort_values(keys.WEIGHT, ascending=False, key=np.abs, kind="stable")
    return net.reset_index(drop=True)


def prior_grn(adata, net: pd.DataFrame, *, weighted: bool = True,
              key_added: str = keys.PRIOR_GRN_KEY, copy: bool = False):
    """Store a prior TF -> target network, aligned to ``adata.var_names``, in ``.varp``.

    Edges naming genes absent from ``adata`` are left out **and reported** (a warning, and
    counts in ``.uns[key_added]``); an error is raised when none remain. Self-loops are left out
    and duplicate edges merged (reported too).

    Parameters
    ----------
    adata
        Cells x genes AnnData.
    net
        DataFrame with columns ``source``, ``target`` and optionally ``weight``
        (see :func:`gnngeno.io.read_network`).
    weighted
        Use ``weight`` as the edge value (else 1).
    key_added
        Output key in ``.varp`` and ``.uns``.
    copy
        Return a new AnnData instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a new AnnData with ``copy=True``. Writes ``.varp[key_added]`` (sparse CSR
    genes x genes, row = regulator, column = target) and ``.uns[key_added]`` with ``params``,
    ``n_edges``, ``n_edges_input`` and ``n_edges_missing`` (edges whose genes are absent).
    """
    check_adata(adata, min_cells=1)
    aligned = align_network(net, list(adata.var_names), what="the prior network")
    n_missing = int((~(net[keys.SOURCE].astype(str).isin(adata.var_names)
                       & net[keys.TARGET].astype(str).isin(adata.var_names))).sum())
    adata = adata.copy() if copy else adata
    adata.varp[key_added] = network_to_adjacency(aligned, adata.var_names, weighted=weighted)
    adata.uns[key_added] = {"params": {"weighted": weighted}, "n_edges": int(len(aligned)),
                            "n_edges_input": int(len(net)), "n_edges_missing": n_missing}
    return adata if copy else None
