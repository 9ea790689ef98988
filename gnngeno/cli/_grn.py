"""``gnngeno grn`` (rank TF -> gene edges) and ``gnngeno grn-benchmark`` (legacy split of a
GENELink/BEELINE folder, ours beside the baselines)."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import app


def _threads(n_jobs: int | None) -> None:
    from .._settings import settings

    if n_jobs is not None:
        settings.n_jobs = n_jobs


@app.command("grn")
def grn(
    out: Path = typer.Option(..., "--out", "-o", help="Edge table to write (tsv: source, target, score)."),
    expression: Path = typer.Option(None, "--expression", "-e", exists=True, dir_okay=False,
                                    help="Expression file (h5ad, 10x, csv/tsv; any orientation)."),
    tfs: Path = typer.Option(None, "--tfs", exists=True, dir_okay=False,
                             help="TF list (one per line, or a csv with a TF column)."),
    prior: Path = typer.Option(None, "--prior", exists=True, dir_okay=False,
                               help="Known TF -> target edges (edge list). Without it the model "
                                    "is self-supervised on co-expression."),
    dataset: str = typer.Option(None, "--dataset",
                                help="Embedded data instead of files: 'simulated' (planted "
                                     "network; its prior is used and AUROC/AUPRC are printed)."),
    encoder: str = typer.Option("gcn", help="gcn, gat or gatv2."),
    decoder: str = typer.Option("bilinear", help="bilinear, dot or mlp."),
    split: str = typer.Option("random", help="How the prior is split: random, tf or target."),
    max_epochs: int = typer.Option(300, "--epochs", help="Maximum training epochs."),
    layer: str = typer.Option(None, help="Expression layer of an h5ad file (default X)."),
    save_model: Path = typer.Option(None, "--save-model", help="Folder to save the trained model."),
    n_jobs: int = typer.Option(1, "--n-jobs", help="CPU threads (full-batch training on ~1000 "
                                                    "genes is fastest with 1)."),
) -> None:
    """Rank every TF -> gene candidate and write them sorted by score."""
    import pandas as pd

    from .. import _keys as keys
    from .. import tl
    from .._validate import InputError
    from ._io import write_atomic

    _threads(n_jobs)
    truth = None
    if dataset is not None:
        if expression is not None:
            raise InputError("pass either --dataset or --expression, not both.")
        if dataset != "simulated":
            raise InputError(f"unknown --dataset {dataset!r}; the embedded one is 'simulated'.")
        from ..datasets import simulate

        adata, truth = simulate(n_cells=400, n_genes=200, n_tfs=20)
        tf_names = adata.var_names[adata.var[keys.IS_TF_KEY]].tolist()
        net = truth if prior is None else None
    else:
        if expression is None:
            raise InputError("pass --expression FILE (and --tfs FILE), or --dataset simulated.")
        from ..io import read_expression, read_tfs

        adata = read_expression(expression)
        if tfs is not None:
            tf_names = read_tfs(tfs)
        elif keys.IS_TF_KEY in adata.var:
            tf_names = adata.var_names[adata.var[keys.IS_TF_KEY].astype(bool)].tolist()
        else:
            raise InputError("pass --tfs FILE naming the transcription factors.")
        net = None
    if prior is not None:
        from ..io import read_network

        net = read_network(prior)
    adata, model = tl.infer_grn(adata, prior=net, tfs=tf_names, layer=layer, split=split,
                                encoder=encoder, decoder=decoder, max_epochs=max_epochs,
                                return_model=True, copy=True)
    res = adata.uns[keys.GRN_SCORES_KEY]
    edges: pd.DataFrame = res["edges"]
    write_atomic(out, lambda p: edges.to_csv(p, sep="\t", index=False, float_format="%.6g"))
    if save_model is not None:
        model.save(save_model, overwrite=True)
    typer.echo(f"{len(edges)} TF -> gene candidates ({len(model.tfs)} TFs x {model.n_genes} "
               f"genes) written to {out}; mode: {model.mode_}, {len(model.history_)} epochs, "
               f"{model.train_time_:.1f} s")
    if "metrics" in res:
        m = res["metrics"]
        what = ("held-out edges of the planted network" if truth is not None and prior is None
                else "held-out edges of the prior")
        typer.echo(f"{what} ({split} split, {m['n_pos']} positives among {m['n_candidates']} "
                   f"test pairs): AUROC {m['auroc']:.3f}, AUPRC {m['auprc']:.3f} (random: "
                   f"{m['density']:.3f}; ratio {m['auprc_ratio']:.2f}, EPR {m['epr']:.2f})")
    if truth is not None and prior is not None:
        from ..metrics import evaluate_grn

        m = evaluate_grn(edges, truth, tfs=model.tfs, genes=model.var_names)
        typer.echo(f"against the planted network (all candidates): AUROC {m['auroc']:.3f}, "
                   f"AUPRC {m['auprc']:.3f} (random: {m['density']:.3f})")


@app.command("grn-benchmark")
def grn_benchmark(
    folder: Path = typer.Argument(..., exists=True, file_okay=False,
                                  help="A GENELink/BEELINE folder (BL--ExpressionData, "
                                       "BL--network, TF/Target and split files)."),
    split: str = typer.Option("legacy", help="legacy (the folder's split files), random, tf "
                                             "(held-out TFs) or target."),
    methods: str = typer.Option("gcn,gat,pearson,degree",
                                help="Comma-separated: gcn, gat, gatv2, pearson, spearman, "
                                     "degree, tree."),
    seed: int = typer.Option(0, "--benchmark-seed", help="Seed of the models and of the split."),
    n_jobs: int = typer.Option(1, "--n-jobs", help="CPU threads."),
) -> None:
    """Run the GRN benchmark of one folder and print AUROC, AUPRC, AUPRC ratio and EPR per method."""
    from .. import tl
    from ..io import read_grn_benchmark

    _threads(n_jobs)
    bench = read_grn_benchmark(folder)
    if split == "legacy" and not bench.splits:
        typer.echo(f"{folder} holds no split files (Train_set/Validation_set/Test_set): using a "
                   "random 70/10/20 edge split instead.", err=True)
        split = "random"
    table = tl.benchmark_grn(bench, split=split, seed=seed,
                             methods=[m.strip() for m in methods.split(",") if m.strip()])
    typer.echo(f"{bench.name or folder}: {split} split, {int(table['n_test'].iloc[0])} test pairs "
               f"(density {table['density'].iloc[0]:.4f})")
    typer.echo(table.drop(columns=["n_test"]).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
