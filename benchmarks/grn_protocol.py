"""GRN protocol benchmark: the model against every baseline on splits and negatives that
degree alone cannot win.

For mESC and hHEP x {Specific, Non-Specific, STRING} (BEELINE TFs+500, ../shared/data/grn):
GRNPredictor (GCN, the code path of ``gnngeno grn``), the same model without message
passing, the model on a shuffled prior (training edges' TFs permuted), degree-only, degree
from expression (degree-only with the held-out genes' degrees predicted from their expression
profiles: what a model can learn from degrees alone on an inductive split), |Pearson|,
|Spearman|, a GENIE3-style tree ensemble (Huynh-Thu et al., PLoS ONE 2010) and GRNBoost2-style
gradient boosting (Moerman et al., Bioinformatics 2019), on random / held-out TF / held-out
target / both ends held out splits (70/10/20), each scored with uniform and degree-matched test
negatives, over seeds 0-4. Hyper-parameters are the package defaults; early stopping reads
validation pairs only.

Printed: mean ± sd over seeds per metric; the model against degree-only; the model paired with
the best baseline of each split x negatives on the same (dataset, seed) units (Wilcoxon
signed-rank p, model better in k of n; ``gnngeno.tl.paired_grn_test``); and an audit of each
dataset's shipped split files (test pairs that training has seen, ``read_grn_benchmark().leaks``).

Degree-only should be near 0.5 AUROC under degree-matched negatives (they hold exactly the TFs
and targets of the test positives; on the dense Specific references only a matched subset of
the test positives can be scored, printed as "test positives scored"); the question is whether
the model keeps an advantage there (Stock et al., bioRxiv 2025.12.19.695616; Aiyappa et al.,
ICML 2025 find that GNN link predictors mostly measure degree).

Usage::

    .venv/bin/python benchmarks/grn_protocol.py                        # everything (hours)
    .venv/bin/python benchmarks/grn_protocol.py --datasets hHEP/Non-Specific --seeds 0 1
    .venv/bin/python benchmarks/grn_protocol.py --splits cross-reference   # Non-Specific -> Specific
    .venv/bin/python benchmarks/grn_protocol.py --datasets hHEP/STRING --methods degree  # one row
    .venv/bin/python benchmarks/grn_protocol.py --merge a.csv b.csv --plot auroc.png  # no runs
    # a reference with a network only (loss/gain of function), and as a cross-reference truth
    .venv/bin/python benchmarks/grn_protocol.py --datasets mESC/Lofgof --tfs-with-positive
    .venv/bin/python benchmarks/grn_protocol.py --datasets mESC/Non-Specific mESC/Specific \\
        --splits cross-reference --cross-truth Lofgof
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
from pathlib import Path

os.environ.setdefault("GNNGENO_NO_PROGRESS", "1")

import pandas as pd  # noqa: E402
from grn_user_path import LABELS_ONLY, read_benchmark  # noqa: E402  (one reader for both)

CELLS = ("mESC", "hHEP")
REFERENCES = ("Specific", "Non-Specific", "STRING")
DATASETS = [f"{c}/{r}" for c in CELLS for r in REFERENCES]
#: cross-reference pairs: train on the first, test on the second (same cell type)
CROSS = {"Non-Specific": "Specific", "STRING": "Specific", "Specific": "Non-Specific"}
MODEL = "GCN"
CONTROL = "GCN on a shuffled prior"
BASELINES = ("degree-only", "degree from expression", "|Pearson|", "|Spearman|",
             "tree (GENIE3-style)", "GRNBoost2-style boosting")
#: the split sub-folders that read_grn_benchmark(split="auto") tries, in order
SPLIT_FOLDERS = ("splits_bridge_sample1", "splits_genelink_demo")


def _test_reference(name: str, args) -> str:
    """The reference a cross-reference run of ``name`` is tested on."""
    return args.cross_truth or CROSS[name.split("/")[1]]


def run(args) -> pd.DataFrame:
    from gnngeno.tl import benchmark_grn

    tables = []
    for name in args.datasets:
        bench = read_benchmark(name)
        cache: dict = {}
        for split in args.splits:
            reference = None
            if split == "cross-reference":
                cell = name.split("/")[0]
                reference = read_benchmark(f"{cell}/{_test_reference(name, args)}", split=None)
            t = benchmark_grn(
                bench, split=split, negatives=args.negatives, seeds=args.seeds, cache=cache,
                reference=reference, repaired=args.repaired and split == "legacy",
                tfs_with_positive=args.tfs_with_positive,
                methods=args.methods,
                train_kwargs={"max_epochs": args.max_epochs} if args.max_epochs else None,
                tree_kwargs={"n_estimators": args.tree_estimators, "n_jobs": 1},
                boosting_kwargs={"max_estimators": args.boosting_estimators})
            if reference is not None:
                t["dataset"] = f"{name} -> {_test_reference(name, args)}"
            tables.append(t)
            if args.raw is not None:  # kept as it comes, so an interrupted run keeps its rows
                t.to_csv(args.raw, mode="a", index=False, header=not args.raw.exists())
            print(f"# {name} {split}: done", file=sys.stderr, flush=True)
    return pd.concat(tables, ignore_index=True)


def summarise(res: pd.DataFrame, metric: str = "auroc") -> pd.DataFrame:
    """Mean ± sd over seeds: rows dataset x split x method, columns negatives."""
    g = res.groupby(["dataset", "split", "method", "negatives"], sort=False)[metric]
    cell = g.agg(lambda v: f"{v.mean():.3f} ± {v.std(ddof=1):.3f}" if len(v) > 1
                 else f"{v.mean():.3f}")
    return cell.unstack("negatives")


def _mean_auroc(res: pd.DataFrame) -> pd.DataFrame:
    """Mean AUROC over seeds: rows dataset x split x negatives, columns methods."""
    m = res.groupby(["dataset", "split", "negatives", "method"], sort=False)["auroc"].mean()
    return m.unstack("method")


def verdict(res: pd.DataFrame, margin: float = 0.05) -> pd.DataFrame:
    """Model minus degree-only AUROC (mean over seeds) per dataset x split x negatives."""
    m = _mean_auroc(res)
    out = pd.DataFrame({MODEL: m[MODEL], "degree-only": m["degree-only"]})
    out["difference"] = out[MODEL] - out["degree-only"]
    out[f"beats by >= {margin}"] = out["difference"] >= margin
    return out


def control(res: pd.DataFrame, tolerance: float = 0.02) -> tuple[pd.DataFrame, str]:
    """The shuffled-prior control minus the best baseline (mean AUROC over seeds) per dataset x
    split x negatives, and how many cells are within ``tolerance`` of it, above or below."""
    m = _mean_auroc(res)
    base = [c for c in BASELINES if c in m.columns]
    out = pd.DataFrame({"best baseline": m[base].idxmax(axis=1), "its AUROC": m[base].max(axis=1),
                        "control": m[CONTROL]})
    out["control - best"] = out["control"] - out["its AUROC"]
    d = out["control - best"]
    line = (f"{len(d)} cells: within {tolerance} of the best baseline in "
            f"{int((d.abs() <= tolerance).sum())}, more than {tolerance} above in "
            f"{int((d > tolerance).sum())}, more than {tolerance} below in "
            f"{int((d < -tolerance).sum())}; mean {d.mean():+.3f}")
    return out, line


def paired(res: pd.DataFrame, metric: str = "auroc") -> pd.DataFrame:
    """The model against the best baseline of each split x negatives, paired on datasets and
    seeds (the no-graph ablation and the shuffled-prior control are not baselines)."""
    from gnngeno.tl import paired_grn_test

    t = paired_grn_test(res, model=MODEL, metric=metric, by=("split", "negatives"))
    return t.drop(columns="n_model_better").set_index(["split", "negatives"])


def test_sizes(res: pd.DataFrame) -> pd.DataFrame:
    """Test positives scored per dataset x split and negatives (mean over seeds): degree-matched
    negatives keep a matched subset of them on dense references."""
    g = res.groupby(["dataset", "split", "negatives"], sort=False)["n_pos"].mean()
    return g.unstack("negatives").round(0).astype(int)


def audit(datasets) -> pd.DataFrame:
    """What the shipped split files of each dataset leak from training into evaluation."""
    rows = {}
    for name in datasets:
        bench = read_benchmark(name)
        test = bench.splits.get("test")
        rows[name] = {"split folder": _split_dir(bench.path) if bench.splits else "none",
                      "test pairs": 0 if test is None else len(test),
                      "test positives": 0 if test is None else int(test["label"].sum()),
                      **bench.leaks}
    return pd.DataFrame.from_dict(rows, orient="index")


def _split_dir(folder: Path) -> str:
    """The split sub-folder read_grn_benchmark(split="auto") picks first."""
    return next((d for d in SPLIT_FOLDERS if (folder / d).is_dir()), ".")


def plot(res: pd.DataFrame, path: Path, metric: str = "auroc") -> None:
    """One panel per split (columns) x negatives (rows): methods x datasets, a point per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gnngeno import pl

    splits, negs = list(pd.unique(res["split"])), list(pd.unique(res["negatives"]))
    width = max(3.5, 1.2 * res["dataset"].nunique() + 1.5)
    fig, axes = plt.subplots(len(negs), len(splits), squeeze=False, sharey=True,
                             figsize=(width * len(splits), 4 * len(negs)))
    handles = {}
    for i, neg in enumerate(negs):
        for j, sp_ in enumerate(splits):
            a = axes[i, j]
            if not ((res["split"] == sp_) & (res["negatives"] == neg)).any():
                a.set_visible(False)
                continue
            pl.benchmark(res, metric, split=sp_, negatives=neg, ax=a, show=False,
                         title=f"{sp_} split, {neg} negatives")
            handles.update(zip(*reversed(a.get_legend_handles_labels()), strict=True))
            a.get_legend().remove()
    fig.tight_layout()
    fig.legend(list(handles.values()), list(handles), loc="center left",
               bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize="small")
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="*", default=DATASETS,
                    help=f"default: the six sets; also {', '.join(LABELS_ONLY)} (a network "
                         "without expression or split files, read with the expression of "
                         f"{', '.join(LABELS_ONLY.values())})")
    ap.add_argument("--cross-truth", default=None, metavar="REFERENCE",
                    help="the reference a cross-reference split is tested on, e.g. Lofgof "
                         "(default: Non-Specific -> Specific, STRING -> Specific, Specific -> "
                         "Non-Specific)")
    ap.add_argument("--splits", nargs="*", default=["random", "tf", "target", "both"])
    ap.add_argument("--negatives", nargs="*", default=["uniform", "degree-matched"])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    ap.add_argument("--max-epochs", type=int, default=None, help="default: the model's")
    ap.add_argument("--tree-estimators", type=int, default=30)
    ap.add_argument("--boosting-estimators", type=int, default=500,
                    help="cap on GRNBoost2-style trees per target (out-of-bag early stopping "
                         "usually ends far sooner: a median of 29, at most 136, on hHEP)")
    ap.add_argument("--tfs-with-positive", action="store_true",
                    help="draw test negatives only from TFs with a test positive (for a "
                         "reference whose edges come from a few of the TFs, e.g. Lofgof: 34 of "
                         "620, where negatives of TFs without any edge are trivial)")
    ap.add_argument("--repaired", action="store_true",
                    help="with --splits legacy: also score the repaired split files")
    ap.add_argument("--plot", type=Path, default=None,
                    help="draw AUROC per split x negatives (one point per seed) to this file")
    ap.add_argument("--raw", type=Path, default=None, help="write every run (csv)")
    ap.add_argument("--methods", nargs="*", default=None,
                    help="benchmark_grn methods to run (default: all of them), e.g. degree")
    ap.add_argument("--merge", type=Path, nargs="*", default=None,
                    help="print the tables of csv files written by --raw (no runs); a row of a "
                         "later file replaces the same dataset x split x negatives x method x "
                         "seed of an earlier one")
    args = ap.parse_args(argv)
    if args.methods is None:
        from gnngeno.tl import benchmark_grn

        args.methods = list(inspect.signature(benchmark_grn).parameters["methods"].default)
    if args.merge:
        res = pd.concat([pd.read_csv(p) for p in args.merge], ignore_index=True)
        res = res.drop_duplicates(["dataset", "split", "negatives", "method", "seed"],
                                  keep="last")
    else:
        if args.raw is not None and args.raw.exists():
            args.raw.unlink()  # rewritten by this run
        res = run(args)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        for metric in ("auroc", "auprc_ratio", "full_auroc"):
            print(f"\n## {metric} (mean ± sd over seeds {sorted(res['seed'].unique())})\n")
            print(summarise(res, metric).to_markdown())
        print("\n## test positives scored (mean over seeds)\n")
        print(test_sizes(res).to_markdown())
        if {MODEL, CONTROL, "degree-only"} <= set(res["method"]):
            print("\n## model vs degree-only (AUROC)\n")
            print(verdict(res).round(3).to_markdown())
            print(f"\n## {MODEL} vs the best baseline, paired on datasets x seeds (AUROC)\n")
            print(paired(res).round(4).to_markdown())
            table, line = control(res)
            print("\n## shuffled-prior control vs the best baseline (AUROC)\n")
            print(table.round(3).to_markdown())
            print(f"\n{line}")
        print("\n## shipped split files: test pairs that training has seen\n")
        print(audit(args.datasets).to_markdown())
    if args.plot is not None:
        plot(res, args.plot)
        print(f"\nplot written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
