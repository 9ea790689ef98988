"""Graphs stored in AnnData -> torch_geometric ``Data`` and networkx graphs."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .. import _keys as keys
from .._validate import InputError


def _resolve_graph(adata, graph: str) -> tuple[sp.csr_matrix, str, list[str]]:
    """Return (adjacency, axis, node names) for ``graph`` = "cell", "gene", "prior" or a key."""
    aliases = {"cell": ("obs", keys.CELL_GRAPH_KEY), "gene": ("var", keys.GENE_GRAPH_KEY),
               "prior": ("var", keys.PRIOR_GRN_KEY), "grn": ("var", keys.GRN_SCORES_KEY)}
    if graph in aliases:
        axis, key = aliases[graph]
    else:
        axis, key = ("obs", graph) if (graph in adata.obsp or keys.connectivities_key(graph) in adata.obsp) \
            else ("var", graph)
    if axis == "obs":
        for candidate in (keys.connectivities_key(key), key):
            if candidate in adata.obsp:
                return sp.csr_matrix(adata.obsp[candidate]), "obs", list(map(str, adata.obs_names))
    elif key in adata.varp:
        return sp.csr_matrix(adata.varp[key]), "var", list(map(str, adata.var_names))
    raise InputError(
        f"no graph {graph!r} in this AnnData (obsp: {list(adata.obsp)}, varp: {list(adata.varp)}). "
        "Build one first: gnngeno.gr.cell_graph(adata), gene_graph(adata) or prior_grn(adata, net)."
    )


def _node_features(adata, axis: str, features: str | None) -> np.ndarray | None:
    if features is None:
        return None
    if axis == "obs":
        if features == "X":
            M = adata.X
        elif features in adata.layers:
            M = adata.layers[features]
        elif features in adata.obsm:
            M = adata.obsm[features]
        else:
            raise InputError(f"features={features!r} is neither 'X', a layer ({list(adata.layers)}) "
                             f"nor an obsm key ({list(adata.obsm)}).")
    else:
        if features == "X":
            M = adata.X.T
        elif features in adata.layers:
            M = adata.layers[features].T
        elif features in adata.varm:
            M = adata.varm[features]
        else:
            raise InputError(f"features={features!r} is neither 'X', a layer ({list(adata.layers)}) "
                             f"nor a varm key ({list(adata.varm)}).")
    M = M.toarray() if sp.issparse(M) else np.asarray(M)
    return M.astype(np.float32)


def to_pyg(adata, graph: str = "cell", *, features: str | None = "X",
           weighted: bool = True):
    """Convert a graph stored in ``adata`` to a :class:`torch_geometric.data.Data`.

    Parameters
    ----------
    adata
        AnnData holding the graph.
    graph
        ``"cell"`` (``.obsp["gnngeno_cell_connectivities"]``), ``"gene"``
        (``.varp["gnngeno_coexpression"]``), ``"prior"`` (``.varp["gnngeno_prior"]``), or any
        ``.obsp``/``.varp`` key (or graph key whose ``_connectivities`` is in ``.obsp``).
    features
        Node features: ``"X"``, a layer name, or an ``.obsm`` (cells) / ``.varm`` (genes) key;
        for gene graphs ``"X"`` and layers give each gene its expression profile over cells.
        ``None`` for no features.
    weighted
        Attach ``edge_weight`` from the stored values.

    Returns
    -------
    ``Data`` with ``edge_index`` (2, E) (row = source), ``edge_weight`` (E,), ``x`` (N, F)
    when ``features`` is given, ``num_nodes`` and ``node_names``.

    Notes
    -----
    Node features are densified; for large cell graphs pass an ``.obsm`` representation
    (e.g. PCA) instead of ``"X"``.
    """
    import torch
    from torch_geometric.data import Data

    A, axis, names = _resolve_graph(adata, graph)
    coo = A.tocoo()
    data = Data(edge_index=torch.as_tensor(np.vstack([coo.row, coo.col]), dtype=torch.long),
                num_nodes=A.shape[0])
    if weighted:
        data.edge_weight = torch.as_tensor(coo.data, dtype=torch.float32)
    x = _node_features(adata, axis, features)
    if x is not None:
        data.x = torch.from_numpy(x)
    data.node_names = names
    return data


def to_networkx(adata, graph: str = "gene", *, directed: bool | None = None):
    """Convert a graph stored in ``adata`` to networkx, nodes named by cell/gene names.

    Parameters
    ----------
    adata
        AnnData holding the graph.
    graph
        As in :func:`to_pyg`.
    directed
        ``DiGraph`` or ``Graph``; ``None`` picks ``DiGraph`` when the matrix is not symmetric.

    Returns
    -------
    ``networkx.Graph`` or ``networkx.DiGraph`` with edge attribute ``weight``.
    """
    import networkx as nx

    A, _, names = _resolve_graph(adata, graph)
    if directed is None:
        directed = (A != A.T).nnz > 0
    G = nx.from_scipy_sparse_array(A, create_using=nx.DiGraph if directed else nx.Graph)
    return nx.relabel_nodes(G, dict(enumerate(names)), copy=False)


def from_networkx(G, genes=None) -> tuple[sp.csr_matrix, list[str]]:
    """Adjacency (CSR, ``weight`` attribute or 1) and node order of a networkx graph.

    Parameters
    ----------
    G
        networkx graph or digraph.
    genes
        Node order (default: ``list(G.nodes)``); nodes of ``G`` outside it are ignored.
    """
    import networkx as nx

    nodes = list(G.nodes) if genes is None else [g for g in genes]
    A = nx.to_scipy_sparse_array(G, nodelist=[n for n in nodes if n in G], weight="weight",
                                 format="csr")
    if genes is not None and len(nodes) != A.shape[0]:
        present = [n for n in nodes if n in G]
        pos = {n: i for i, n in enumerate(nodes)}
        idx = np.array([pos[n] for n in present])
        coo = A.tocoo()
        A = sp.csr_matrix((coo.data, (idx[coo.row], idx[coo.col])), shape=(len(nodes),) * 2)
    return sp.csr_matrix(A, dtype=np.float32), [str(n) for n in nodes]
