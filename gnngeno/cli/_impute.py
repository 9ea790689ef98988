"""``gnngeno impute``: dropout imputation of an expression file with GraphImputer."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import typer

from ._app import app


@app.command("impute")
def impute(
    input: Path = typer.Argument(..., exists=True, metavar="IN", help="Expression file or folder: .h5ad, "
                                 "10x .h5 / mtx folder, dense X/Y .h5, .csv/.tsv table."),
    output: Path = typer.Argument(..., metavar="OUT", help="Output .h5ad (written atomically)."),
    layer: str = typer.Option("counts", "--layer", help="Layer with raw counts; 'X' for the "
                              "main matrix (used when the layer is absent and X holds counts)."),
    key_added: str = typer.Option("gnngeno_imputed", "--key-added", help="Output layer name."),
    likelihood: str = typer.Option("zinb", help="zinb, nb or gaussian (MSE on log-normalised)."),
    conv: str = typer.Option("sgc", help="Graph encoder: sgc (neighbours' mean PCA read by "
                             "the input layer, computed once), gcn or gat (message passing)."),
    n_neighbors: int = typer.Option(15, help="Neighbours per cell in the cell graph."),
    max_epochs: int = typer.Option(None, help="Cap on training epochs (default: automatic)."),
    device: str = typer.Option(None, help="cpu, cuda, ... (default: settings.device)."),
    denoise: bool = typer.Option(
        False, "--denoise", help="Replace every entry by the model's prediction (default: "
        "fill only the zeros and keep every observed count)."),
    distributed: bool = typer.Option(
        False, "--distributed", help="Data-parallel training over the processes of a torchrun "
        "launch (gloo on CPU, nccl on GPU), e.g. torchrun --standalone --nproc_per_node=2 -m "
        "gnngeno impute ... --distributed; process 0 writes the output."),
) -> None:
    """Impute dropouts (GNN on the cell kNN graph) and write the result as a new layer.

    The layer holds log1p of counts normalised to 10 000 per cell: observed counts as they
    are, zeros filled by the model (--denoise: the model's prediction everywhere). No labels
    are needed.
    With --distributed under torchrun every process trains on its share of each batch.
    """
    from .. import tl
    from ..io import read_expression
    from ._io import write_atomic

    adata = read_expression(input)
    use = None if layer == "X" else layer
    if use is not None and use not in adata.layers:
        from .._validate import is_integer_valued

        if layer == "counts" and adata.X is not None and is_integer_valued(adata.X):
            use = None  # the reader kept no counts layer, but X holds counts
        else:
            from .._validate import InputError

            raise InputError(f"--layer {layer!r} is not in {input} (layers: "
                             f"{list(adata.layers) or 'none'}). Pass --layer X to use the main "
                             "matrix, or a layer that holds raw counts.")
    from ..train import distributed as process_group
    from ..train import is_main_process

    with process_group(device=device) if distributed else nullcontext():
        tl.impute(adata, layer=use, key_added=key_added, likelihood=likelihood, conv=conv,
                  n_neighbors=min(n_neighbors, adata.n_obs - 1), max_epochs=max_epochs,
                  device=device, keep_observed=not denoise, train_kwargs={"distributed": True} if distributed else None)
        if not is_main_process():
            return
        write_atomic(output, lambda p: adata.write_h5ad(p))
    typer.echo(f"imputed {adata.n_obs} cells x {adata.n_vars} genes -> {output} "
               f"(layers['{key_added}'])")
