"""``gnngeno grn-benchmark``: the GRN model beside every baseline on one BEELINE/GENELink
folder, over splits and negatives that control for degree."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import Command, app, prepare, renamed, say, threads_option

_SPLIT_HELP = (
    "What the test controls for. legacy: the folder's own split files (TFs and targets seen in "
    "training); random: random edges (transductive too); tf: held-out TFs (no training edge "
    "of a test TF, so a per-TF bias cannot help); target: held-out targets; both: held-out TFs "
    "and targets (neither end of a test pair seen in training); cross-reference: train on "
    "this folder's network, test on --reference's network without the training edges.")
_NEGATIVES_HELP = (
    "Test negatives: uniform (every TF x gene non-edge of the test part, or the split files' "
    "own) or degree-matched (negatives with the TF out-degree and target in-degree "
    "distributions of the test positives, so that degree alone ranks at chance); "
    "comma-separated for both.")
_METHODS_HELP = (
    "Comma-separated rows: gcn, gat, gatv2 (the model of 'gnngeno grn'), no-graph (the model "
    "without message passing), shuffled-prior (the model on training edges whose TFs are "
    "permuted), degree, pearson, spearman, tree (GENIE3-style). Default: all of them with gcn.")


@app.command("grn-benchmark", cls=Command)
def grn_benchmark(
    folder: Path = typer.Argument(..., exists=True, file_okay=False,
                                  help="A GENELink/BEELINE folder (BL--ExpressionData, "
                                       "BL--network, TF/Target and split files)."),
    split: str = typer.Option("legacy", "--split", help=_SPLIT_HELP),
    negatives: str = typer.Option("uniform", "--negatives", help=_NEGATIVES_HELP),
    methods: str = typer.Option(None, "--methods", help=_METHODS_HELP),
    reference: Path = typer.Option(None, "--reference", exists=True, file_okay=False,
                                   help="Second folder of the same cell type (its network is "
                                        "the test truth of --split cross-reference)."),
    tfs_with_positive: bool = typer.Option(False, "--tfs-with-positive", help="Draw test "
                                           "negatives only from TFs with a test positive."),
    seeds: str = typer.Option(None, "--seeds", help="Comma-separated seeds, one row each "
                              "(default: the global --seed)."),
    max_epochs: int = typer.Option(None, "--max-epochs", help="Maximum training epochs of the "
                                   "models (default: the model's)."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the tidy table (csv: dataset, "
                             "split, negatives, method, seed, metrics)."),
    threads: int = threads_option(),
    benchmark_seed: int = typer.Option(None, "--benchmark-seed", hidden=True),
    n_jobs: int = typer.Option(None, "--n-jobs", hidden=True),
) -> None:
    """Run the GRN benchmark of one folder: AUROC, AUPRC, AUPRC ratio, EPR (also over TF edges
    only), AUROC of low/high-degree TFs and full-candidate-space AUROC per method."""
    from .. import tl
    from .._settings import settings
    from .._validate import InputError
    from ..io import read_grn_benchmark
    from ._io import write_atomic

    prepare(renamed("--n-jobs", n_jobs, "--threads", threads))
    seed = renamed("--benchmark-seed", benchmark_seed, "--seed", settings.seed)
    bench = read_grn_benchmark(folder)
    if split == "legacy" and not bench.splits:
        typer.echo(f"{folder} holds no split files (Train_set/Validation_set/Test_set): using a "
                   "random 70/10/20 edge split instead.", err=True)
        split = "random"
    ref = None
    if split == "cross-reference":
        if reference is None:
            raise InputError("--split cross-reference needs --reference FOLDER (another ground "
                             "truth of the same cell type).")
        ref = read_grn_benchmark(reference, split=None)
    n_threads = settings.n_threads  # scikit-learn's share (the tree baseline)
    table = tl.benchmark_grn(
        bench, split=split, negatives=[n.strip() for n in negatives.split(",") if n.strip()],
        seeds=[int(s) for s in seeds.split(",")] if seeds else [seed], reference=ref,
        tfs_with_positive=tfs_with_positive,
        train_kwargs={"max_epochs": max_epochs} if max_epochs else None,
        tree_kwargs={"n_jobs": n_threads} if n_threads else None,
        **({"methods": [m.strip() for m in methods.split(",") if m.strip()]} if methods else {}))
    if out is not None:
        write_atomic(out, lambda p: table.to_csv(p, index=False))
        say(f"{len(table)} rows written to {out}")
    cols = ["method", "auroc", "auprc", "auprc_ratio", "epr", "epr_tf", "auroc_low_degree",
            "auroc_high_degree", "full_auroc", "wall_s"]
    for (neg, sd), t in table.groupby(["negatives", "seed"], sort=False):
        typer.echo(f"{bench.name or folder}: {split} split, {neg} negatives, seed {sd}, "
                   f"{int(t['n_test'].iloc[0])} test pairs (density {t['density'].iloc[0]:.4f})")
        typer.echo(t[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
