"""``gnngeno embed``: autoencoder embedding of cells (or genes) written into an .h5ad."""

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


@app.command("embed", cls=Command)
def embed(
    input: Path = typer.Argument(..., exists=True, metavar="IN", help="Expression file or "  # noqa: B008
                                 "folder: .h5ad, 10x .h5 / mtx folder, dense X/Y .h5, "
                                 ".csv/.tsv table."),
    output: Path = typer.Argument(..., metavar="OUT", help="Output .h5ad (written "  # noqa: B008
                                  "atomically)."),
    layer: str = typer.Option(None, "--layer", help="Layer with the expression (raw counts for "
                              "the count likelihoods); 'X' for the main matrix. Default: "
                              "'counts' when present, else X."),
    kind: str = typer.Option("vae", "--kind", help="vae, ae, gae or vgae."),
    graph: str = typer.Option("cell", "--graph", help="gae/vgae: 'cell' (embeds cells into "
                              ".obsm) or 'gene' (embeds genes into .varm)."),
    likelihood: str = typer.Option("auto", "--likelihood", help="vae/ae: nb, zinb, gaussian or "
                                   "auto (nb on counts, gaussian otherwise)."),
    n_latent: int = typer.Option(20, "--n-latent", help="Embedding size."),
    n_hidden: int = typer.Option(None, "--n-hidden", help="Hidden units per layer (default: "
                                 "the model's)."),
    n_layers: int = typer.Option(None, "--n-layers", help="Hidden layers (default: the "
                                 "model's)."),
    conv: str = typer.Option(None, "--conv", help="gae/vgae encoder: sgc (propagate the input "
                             "over the cell graph, then an MLP), gcn or gat (default: the "
                             "model's)."),
    hops: int = typer.Option(None, "--hops", help="Propagation steps over the cell kNN graph: "
                             "the sgc encoder's, or for vae/ae smoothing of the encoder's input "
                             "(default: the model's; 0 = none)."),
    input_noise: float = typer.Option(None, "--input-noise", help="vae/ae: standard deviation "
                                      "of Gaussian noise on the encoder's input during "
                                      "training (denoising; default: the model's, 0 = none)."),
    max_epochs: int = max_epochs_option(),
    batch_size: int = batch_size_option(),
    lr: float = lr_option(),
    patience: int = patience_option(),
    l1: float = l1_option(),
    l2: float = l2_option(),
    key_added: str = typer.Option(None, "--key-added", help="Output key (default: X_gnngeno in "
                                  ".obsm, gnngeno_embedding in .varm)."),
    device: str = typer.Option(None, "--device", help="cpu, cuda, ... (default: settings)."),
    threads: int = threads_option(),
    distributed: bool = typer.Option(
        False, "--distributed/--no-distributed", help="Data-parallel training over the "
        "processes of a torchrun launch (gloo on CPU, nccl on GPU), e.g. torchrun --standalone "
        "--nproc_per_node=2 -m gnngeno embed ... --distributed; process 0 writes the output."),
) -> None:
    """Learn a low-dimensional embedding (autoencoder or graph autoencoder) and store it.

    Cells go to .obsm['X_gnngeno'] (use it with scanpy: sc.pp.neighbors(adata,
    use_rep='X_gnngeno')); genes, with --kind gae/vgae --graph gene, to
    .varm['gnngeno_embedding']. The seed is the global --seed option.
    """
    from .. import tl
    from .._validate import InputError
    from ..io import read_expression
    from ..models import Embedder
    from ..train import distributed as process_group
    from ..train import is_main_process
    from ._io import write_atomic

    prepare(threads)
    adata = read_expression(input)
    if layer is None:
        use = "counts" if "counts" in adata.layers else None
    elif layer == "X":
        use = None
    else:
        if layer not in adata.layers:
            raise InputError(f"--layer {layer!r} is not in {input} (layers: "
                             f"{list(adata.layers) or 'none'}). Pass --layer X to use the main "
                             "matrix.")
        use = layer
    options = tl_options(
        tl.embed, Embedder, kind=kind, graph=graph, likelihood=likelihood,
        n_latent=n_latent, n_hidden=n_hidden, n_layers=n_layers, conv=conv, hops=hops,
        input_noise=input_noise, max_epochs=max_epochs, batch_size=batch_size, lr=lr,
        patience=patience, l1=l1, l2=l2, key_added=key_added, device=device,
        distributed=distributed or None)
    with process_group(device=device) if distributed else nullcontext():
        tl.embed(adata, layer=use, **options)
        if not is_main_process():
            return
    where = "varm" if kind in ("gae", "vgae") and graph == "gene" else "obsm"
    out_key = key_added or ("gnngeno_embedding" if where == "varm" else "X_gnngeno")
    write_atomic(output, lambda p: adata.write_h5ad(p))
    shape = getattr(adata, where)[out_key].shape
    say(f"{kind} embedding {shape[0]} x {shape[1]} -> {output} ({where}['{out_key}'])")
