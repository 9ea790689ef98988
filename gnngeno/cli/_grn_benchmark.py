"""``gnngeno grn-benchmark``: the GRN model beside every baseline on one BEELINE/GENELink
folder, over splits and negatives that control for degree."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import Command, app, prepare, renamed, say, threads_option

_SPLIT_HELP = (
    "Which pairs are held out, i.e. what the test controls for. legacy: the folder's own split "
    "files (TFs and targets seen in training, so TF degree is a strong signal); random: random "
    "edges (transductive too); tf: held-out TFs (no training edge of a test TF, so a per-TF "
    "bias cannot help); target: held-out targets (a per-target bias cannot help); both: "
    "held-out TFs and targets (neither end of a test pair seen in training); cross-reference: "
    "train on this folder's network, test on --reference's network without the training edges "
    "(another kind of ground truth of the same cells).")
_NEGATIVES_HELP = (
    "Which test negatives, i.e. whether degree alone can win: uniform (every TF x gene non-edge "
    "of the test part, or the split files' own; degree alone often scores high there) or "
    "degree-matched (negatives with exactly the TFs and targets of the test positives, each "
    "as often, so that degree alone ranks at chance; on a dense reference the positives of "
    "TFs or targets with too few free pairs are left out with as many negatives, and a "
    "warning says how many); comma-separated for both.")
_METHODS_HELP = (
    "Comma-separated rows: gcn, gat, gatv2 (the model of 'gnngeno grn'), no-graph (the model "
    "without message passing), shuffled-prior (the model on training edges whose TFs are "
    "permuted), cross-fitted (what 'gnngeno grn --prior' ranks with its defaults, the split's "
    "training and validation positives as prior; eight models per run), degree, "
    "degree-expression (degree-only with the held-out genes' degrees predicted from their "
    "expression), pearson, spearman, tree (GENIE3-style extra-trees), grnboost2 "
    "(GRNBoost2-style gradient boosting). Default: every row but cross-fitted, with gcn.")
_REPAIRED_HELP = (
    "With --split legacy: also score the same trained models on a repaired copy of the split "
    "files (validation and test pairs that training has seen dropped: test negatives that are "
    "training positives, test positives that are training positives, test pairs that are "
    "training negatives), in rows with split 'legacy (repaired)'. The training file is "
    "unchanged, so nothing is retrained.")


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
    expression: Path = typer.Option(None, "--expression", exists=True,
                                    help="Expression of the same cells to use instead of the "
                                         "folder's own: a BL--ExpressionData file or a folder "
                                         "holding one, matched by gene symbol. For folders that "
                                         "ship a network only, e.g. mESC's Lofgof: --expression "
                                         ".../mESC/TFs500/Non-Specific."),
    tfs_with_positive: bool = typer.Option(False, "--tfs-with-positive", help="Draw test "
                                           "negatives only from TFs with a test positive."),
    repaired: bool = typer.Option(False, "--repaired", help=_REPAIRED_HELP),
    seeds: str = typer.Option(None, "--seeds", help="Comma-separated seeds, one row each "
                              "(default: the global --seed)."),
    max_epochs: int = typer.Option(None, "--max-epochs", help="Maximum training epochs of the "
                                   "models (default: the model's)."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the tidy table (csv: dataset, "
                             "split, negatives, method, seed, metrics)."),
    plot: Path = typer.Option(None, "--plot", help="Draw the AUROC of every method, one point "
                              "per seed and the mean as a bar, to this image file (.png, "
                              ".pdf, .svg)."),
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
    bench = read_grn_benchmark(folder, expression=expression)
    if split == "legacy" and not bench.splits:
        typer.echo(f"{folder} holds no split files (Train_set/Validation_set/Test_set): using a "
                   "random 70/10/20 edge split instead"
                   + (" (--repaired ignored: there is nothing to repair)." if repaired else "."),
                   err=True)
        split, repaired = "random", False
    ref = None
    if split == "cross-reference":
        if reference is None:
            raise InputError("--split cross-reference needs --reference FOLDER (another ground "
                             "truth of the same cell type).")
        # only its network is used: paired with this run's expression (it may ship labels only)
        ref = read_grn_benchmark(reference, split=None, expression=bench.adata)
    if repaired and split != "legacy":
        raise InputError(f"--repaired scores a repaired copy of the folder's split files: use it "
                         f"with --split legacy (got --split {split}).")
    if plot is not None:
        _check_plot_format(plot)
    n_threads = settings.n_threads  # scikit-learn's share (the tree baseline)
    table = tl.benchmark_grn(
        bench, split=split, negatives=[n.strip() for n in negatives.split(",") if n.strip()],
        seeds=[int(s) for s in seeds.split(",")] if seeds else [seed], reference=ref,
        tfs_with_positive=tfs_with_positive, repaired=repaired,
        train_kwargs={"max_epochs": max_epochs} if max_epochs else None,
        tree_kwargs={"n_jobs": n_threads} if n_threads else None,
        **({"methods": [m.strip() for m in methods.split(",") if m.strip()]} if methods else {}))
    if out is not None:
        write_atomic(out, lambda p: table.to_csv(p, index=False))
        say(f"{len(table)} rows written to {out}")
    if plot is not None:
        _write_plot(table, plot)
        say(f"plot written to {plot}")
    _print_tables(table, bench.name or str(folder))


def _check_plot_format(path: Path) -> None:
    """Refuse an image format matplotlib cannot write before hours of training, not after."""
    from matplotlib.backend_bases import FigureCanvasBase

    from .._validate import InputError

    formats = FigureCanvasBase.get_supported_filetypes()
    fmt = path.suffix.lstrip(".").lower() or "png"
    if fmt not in formats:
        raise InputError(f"--plot {path}: matplotlib cannot write .{fmt} files; use one of "
                         f"{sorted(formats)} (e.g. --plot auroc.png).")


def _write_plot(table, path: Path) -> None:
    import matplotlib.pyplot as plt

    from .. import pl
    from ._io import write_atomic

    fig = pl.benchmark(table, "auroc", show=False).figure
    try:
        write_atomic(path, lambda p: fig.savefig(p, dpi=150, bbox_inches="tight",
                                                 format=path.suffix.lstrip(".").lower() or "png"))
    finally:
        plt.close(fig)


def _print_tables(table, name: str) -> None:
    cols = ["method", "auroc", "auprc", "auprc_ratio", "epr", "epr_tf", "auroc_low_degree",
            "auroc_high_degree", "full_auroc", "wall_s"]
    for (sp_, neg, sd), t in table.groupby(["split", "negatives", "seed"], sort=False):
        typer.echo(f"{name}: {sp_} split, {neg} negatives, seed {sd}, "
                   f"{int(t['n_test'].iloc[0])} test pairs (density {t['density'].iloc[0]:.4f})")
        typer.echo(t[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
