"""``gnngeno graphs``: build the cell, gene and prior graphs of a dataset and summarise them."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import Command, app, prepare, say, threads_option

EMBEDDED = ("krumsiek11", "simulated", "pbmc68k_reduced")


def load_dataset(dataset: str | None, expression: Path | None):
    """(adata, net or None) from an embedded dataset name or an expression file."""
    from .. import datasets
    from .._validate import InputError

    if expression is not None:
        from ..io import read_expression

        return read_expression(expression), None
    if dataset == "krumsiek11":
        return datasets.krumsiek11()
    if dataset == "simulated":
        return datasets.simulate(n_cells=500, n_genes=200, n_tfs=20)
    if dataset == "pbmc68k_reduced":
        return datasets.pbmc68k_reduced(), None
    raise InputError(f"unknown dataset {dataset!r}; choose one of {list(EMBEDDED)} or pass "
                     "--expression FILE.")


@app.command("graphs", cls=Command)
def graphs(
    dataset: str = typer.Option("krumsiek11", "--dataset",
                                help=f"Embedded dataset: {', '.join(EMBEDDED)}."),
    expression: Path = typer.Option(None, "--expression", "-e", exists=True,
                                    help="Expression file instead of an embedded dataset."),
    n_neighbors: int = typer.Option(15, "--n-neighbors",
                                    help="Neighbours per cell in the cell graph."),
    k: int = typer.Option(5, "--k", help="Co-expression partners kept per gene."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the AnnData with graphs (.h5ad)."),
    threads: int = threads_option(),
) -> None:
    """Build the cell kNN graph, the gene co-expression graph and (when known) the prior network."""
    from .. import gr
    from ._io import write_atomic

    prepare(threads)
    adata, net = load_dataset(dataset, expression)
    gr.cell_graph(adata, n_neighbors=min(n_neighbors, adata.n_obs - 1))
    gr.gene_graph(adata, k=min(k, adata.n_vars - 1))
    lines = [f"dataset: {dataset if expression is None else expression} "
             f"({adata.n_obs} cells x {adata.n_vars} genes)"]
    cell = gr.to_pyg(adata, "cell", features=None)
    gene = gr.to_pyg(adata, "gene", features="X")
    lines.append(f"cell graph: {cell.num_nodes} nodes, {cell.edge_index.shape[1]} edges "
                 f"(.obsp['gnngeno_cell_connectivities'])")
    lines.append(f"gene graph: {gene.num_nodes} nodes, {gene.edge_index.shape[1]} edges, "
                 f"node features {tuple(gene.x.shape)} (.varp['gnngeno_coexpression'])")
    if net is not None:
        gr.prior_grn(adata, net)
        info = adata.uns["gnngeno_prior"]
        lines.append(f"prior network: {info['n_edges']} edges kept of {info['n_edges_input']} "
                     f"(.varp['gnngeno_prior'])")
    say("\n".join(lines))
    if out is not None:
        write_atomic(out, lambda p: adata.write_h5ad(p))
        say(f"wrote {out}")
