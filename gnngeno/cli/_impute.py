"""``gnngeno impute``: dropout imputation of an expression file with GraphImputer."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import typer

from ._app import (
    Command,
    app,
    batch_size_option,
    l1_option,
    l2_option,
    lr_option,
    max_epochs_option,
    patience_option,
    prepare,
    say,
    threads_option,
    tl_options,
)

_SCALES = {"counts": "raw counts", "log": "log-normalised"}


@app.command("impute", cls=Command)
def impute(
    input: Path = typer.Argument(..., exists=True, metavar="IN", help="Expression file or "  # noqa: B008
                                 "folder: .h5ad, 10x .h5 / mtx folder, dense X/Y .h5, "
                                 ".csv/.tsv table."),
    output: Path = typer.Argument(..., metavar="OUT", help="Output .h5ad (written "  # noqa: B008
                                  "atomically)."),
    layer: str = typer.Option("auto", "--layer", help="Layer with the expression: raw counts "
                              "or log-normalised values; 'X' for the main matrix. auto: the "
                              "'counts' layer when present, else X."),
    key_added: str = typer.Option("gnngeno_imputed", "--key-added", help="Output layer name."),
    likelihood: str = typer.Option("auto", "--likelihood", help="zinb, nb (counts only) or "
                                   "gaussian. auto: zinb when the input holds whole-number "
                                   "counts, gaussian (on the input's own scale, without a "
                                   "second normalisation) when it is log-normalised."),
    conv: str = typer.Option("sgc", "--conv", help="Graph encoder: sgc (neighbours' mean PCA "
                             "read by the input layer, computed once), gcn or gat (message "
                             "passing)."),
    n_layers: int = typer.Option(None, "--n-layers", help="Graph layers (sgc: 1 or 0 hops; "
                                 "default: the model's)."),
    n_hidden: int = typer.Option(None, "--n-hidden", help="Hidden units (default: the "
                                 "model's)."),
    n_latent: int = typer.Option(None, "--n-latent", help="Latent size (default: the "
                                 "model's)."),
    n_neighbors: int = typer.Option(15, "--n-neighbors", help="Neighbours per cell in the cell "
                                    "graph (when one is built)."),
    graph_key: str = typer.Option("auto", "--graph-key", help="Cell graph in the input's .obsp "
                                  "to reuse (a graph key or .obsp name). auto: "
                                  "gnngeno_cell_connectivities or scanpy's connectivities when "
                                  "present (the output says so), else a kNN graph is built; "
                                  "none: always build one."),
    n_pcs: int = typer.Option(None, "--n-pcs", help="Principal components the cell graph is "
                              "built on (default: the model's)."),
    max_epochs: int = max_epochs_option(),
    batch_size: int = batch_size_option(),
    lr: float = lr_option(),
    patience: int = patience_option(),
    l1: float = l1_option(),
    l2: float = l2_option(),
    device: str = typer.Option(None, "--device", help="cpu, cuda, ... (default: "
                               "settings.device)."),
    dtype: str = typer.Option("float32", "--dtype", help="Output layer type: float32 or float16 "
                              "(half the size, about three significant digits). The layer is "
                              "dense whatever the input, cells x genes x 4 bytes in float32: "
                              "PBMC 4k (4 271 cells x 2 000 genes, 10 % non-zero) gives 34 MB, "
                              "about 30x its 1.5 MB compressed count file and 5x its sparse "
                              "matrix in memory. For data that does not fit, write float16 or "
                              "use gnngeno.models.GraphImputer.get_imputed(out=...) from "
                              "Python."),
    threads: int = threads_option(),
    denoise: bool = typer.Option(
        False, "--denoise/--no-denoise", help="Replace every entry by the model's prediction "
        "(default: fill only the zeros and keep every observed value)."),
    distributed: bool = typer.Option(
        False, "--distributed/--no-distributed", help="Data-parallel training over the "
        "processes of a torchrun launch (gloo on CPU, nccl on GPU), e.g. torchrun --standalone "
        "--nproc_per_node=2 -m gnngeno impute ... --distributed; process 0 writes the output."),
) -> None:
    """Impute dropouts (GNN on the cell kNN graph) and write the result as a new layer.

    Takes raw counts or log-normalised expression as it is (auto-detected). For counts the
    layer holds log1p of counts normalised to 10 000 per cell, for log-normalised input values
    on the input's scale: observed values as they are, zeros filled by the model (--denoise:
    the model's prediction everywhere). A cell graph stored in the input's .obsp is reused. No
    labels are needed. With --distributed under torchrun every process trains on its share of
    each batch.
    """
    from .. import tl
    from .._validate import InputError, is_counts
    from ..io import read_expression
    from ..models import GraphImputer
    from ..train import distributed as process_group
    from ..train import is_main_process
    from ._io import write_atomic

    prepare(threads)
    adata = read_expression(input)
    use = {"auto": "auto", "X": None}.get(layer, layer)
    if use == "counts" and use not in adata.layers and is_counts(adata.X):
        use = None  # --layer counts on a file whose reader kept the counts in X
    if use not in ("auto", None) and use not in adata.layers:
        raise InputError(f"--layer {layer!r} is not in {input} (layers: "
                         f"{list(adata.layers) or 'none'}). Pass --layer auto (the default) or "
                         "--layer X to use the main matrix, or a layer of the input.")
    graph = _graph_key(adata, graph_key, input)
    options = tl_options(
        tl.impute, GraphImputer, key_added=key_added, likelihood=likelihood, conv=conv,
        n_layers=n_layers, n_hidden=n_hidden, n_latent=n_latent,
        n_neighbors=min(n_neighbors, adata.n_obs - 1), n_pcs=n_pcs, max_epochs=max_epochs,
        batch_size=batch_size, lr=lr, patience=patience, l1=l1, l2=l2, device=device,
        keep_observed=not denoise, dtype=dtype, distributed=distributed or None)
    with process_group(device=device) if distributed else nullcontext():
        tl.impute(adata, layer=use, graph_key=graph, **options)
        if not is_main_process():
            return
        write_atomic(output, lambda p: adata.write_h5ad(p))
    params = adata.uns[key_added]["params"]
    source = "X" if params["layer"] is None else f"layers['{params['layer']}']"
    scale = _SCALES.get(params["input_scale"], params["input_scale"])
    say(f"imputed {adata.n_obs} cells x {adata.n_vars} genes ({source}, {scale}, "
        f"{params['likelihood']}) -> {output} (layers['{key_added}'])")


def _graph_key(adata, graph_key: str, input: Path) -> str | None:
    """The ``graph_key`` for ``tl.impute``: ``None`` for --graph-key none; for auto the stored
    graph that ``tl.impute`` reuses (said on stdout) or ``None``; a given key must exist."""
    from .. import _keys as keys
    from .._validate import InputError

    if graph_key.lower() == "none":
        return None
    if graph_key == "auto":
        found = [k for k in (keys.connectivities_key(keys.CELL_GRAPH_KEY), "connectivities")
                 if k in adata.obsp]
        if not found:
            return None
        say(f"reusing the cell graph in .obsp['{found[0]}'] of {input} (--graph-key none "
            "builds a new one)")
        return found[0]
    if graph_key not in adata.obsp and keys.connectivities_key(graph_key) not in adata.obsp:
        raise InputError(f"--graph-key {graph_key!r} is not in the .obsp of {input} (present: "
                         f"{list(adata.obsp) or 'none'}). Pass --graph-key auto or none to "
                         "build a cell graph.")
    return graph_key
