"""Graph builders on AnnData: cell kNN graph (``.obsp``), gene co-expression graph and prior
gene-regulatory network (``.varp``), and their conversion to PyG and networkx."""

from ._backed import backed_cell_graph
from ._cell_graph import cell_graph, get_cell_graph
from ._convert import from_networkx, to_networkx, to_pyg
from ._gene_graph import coexpression, gene_graph
from ._prior import adjacency_to_network, network_to_adjacency, prior_grn

__all__ = ["cell_graph", "get_cell_graph", "gene_graph", "prior_grn", "coexpression", "to_pyg", "to_networkx",
           "from_networkx", "network_to_adjacency", "adjacency_to_network", "backed_cell_graph"]
