"""GRN protocol benchmark: the model against every baseline on splits and negatives that
degree alone cannot win.

For mESC and hHEP x {Specific, Non-Specific, STRING} (BEELINE TFs+500, ../shared/data/grn):
GRNPredictor (GCN, the code path of ``gnngeno grn``), the same model without message
passing, the model on a shuffled prior (training edges' TFs permuted), degree-only, |Pearson|,
|Spearman| and a GENIE3-style tree ensemble, on random / held-out TF / held-out target / both
ends held out splits (70/10/20), each scored with uniform and degree-matched test negatives.
Hyper-parameters are the package defaults; early stopping reads validation pairs only.

Degree-only should be near 0.5 AUROC under degree-matched negatives; the question is whether
the model keeps an advantage there (Stock et al., bioRxiv 2025.12.19.695616; Aiyappa et al.,
ICML 2025 find that GNN link predictors mostly measure degree).

Usage::

    .venv/bin/python benchmarks/grn_protocol.py                        # everything (hours)
    .venv/bin/python benchmarks/grn_protocol.py --datasets hHEP/Non-Specific --seeds 0 1
    .venv/bin/python benchmarks/grn_protocol.py --splits cross-reference   # Non-Specific -> Specific
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("GNNGENO_NO_PROGRESS", "1")

import pandas as pd  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("GNNGENO_SHARED_DATA", HERE.parent.parent / "shared" / "data")) / "grn"
CELLS = ("mESC", "hHEP")
REFERENCES = ("Specific", "Non-Specific", "STRING")
DATASETS = [f"{c}/{r}" for c in CELLS for r in REFERENCES]
#: cross-reference pairs: train on the first, test on the second (same cell type)
CROSS = {"Non-Specific": "Specific", "STRING": "Specific", "Specific": "Non-Specific"}
MODEL = "GCN"


def _folder(name: str) -> Path:
    cell, ref = name.split("/")
    return DATA / "beeline_scrna" / cell / "TFs500" / ref


def run(args) -> pd.DataFrame:
    from gnngeno.io import read_grn_benchmark
    from gnngeno.tl import benchmark_grn

    tables = []
    for name in args.datasets:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bench = read_grn_benchmark(_folder(name))
        cache: dict = {}
        for split in args.splits:
            reference = None
            if split == "cross-reference":
                cell, ref = name.split("/")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    reference = read_grn_benchmark(_folder(f"{cell}/{CROSS[ref]}"), split=None)
            t = benchmark_grn(
                bench, split=split, negatives=args.negatives, seeds=args.seeds, cache=cache,
                reference=reference,
                train_kwargs={"max_epochs": args.max_epochs} if args.max_epochs else None,
                tree_kwargs={"n_estimators": args.tree_estimators, "n_jobs": 1})
            if reference is not None:
                t["dataset"] = f"{name} -> {CROSS[name.split('/')[1]]}"
            tables.append(t)
            print(f"# {name} {split}: done", file=sys.stderr, flush=True)
    return pd.concat(tables, ignore_index=True)


def summarise(res: pd.DataFrame, metric: str = "auroc") -> pd.DataFrame:
    """Mean ± sd over seeds: rows dataset x split x method, columns negatives."""
    g = res.groupby(["dataset", "split", "method", "negatives"], sort=False)[metric]
    cell = g.agg(lambda v: f"{v.mean():.3f} ± {v.std(ddof=1):.3f}" if len(v) > 1
                 else f"{v.mean():.3f}")
    return cell.unstack("negatives")


def verdict(res: pd.DataFrame, margin: float = 0.05) -> pd.DataFrame:
    """Model minus degree-only AUROC (mean over seeds) per dataset x split x negatives."""
    m = res.groupby(["dataset", "split", "negatives", "method"], sort=False)["auroc"].mean()
    m = m.unstack("method")
    out = pd.DataFrame({MODEL: m[MODEL], "degree-only": m["degree-only"]})
    out["difference"] = out[MODEL] - out["degree-only"]
    out[f"beats by >= {margin}"] = out["difference"] >= margin
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="*", default=DATASETS)
    ap.add_argument("--splits", nargs="*", default=["random", "tf", "target", "both"])
    ap.add_argument("--negatives", nargs="*", default=["uniform", "degree-matched"])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--max-epochs", type=int, default=None, help="default: the model's")
    ap.add_argument("--tree-estimators", type=int, default=30)
    ap.add_argument("--raw", type=Path, default=None, help="write every run (csv)")
    ap.add_argument("--merge", type=Path, nargs="*", default=None,
                    help="print the tables of csv files written by --raw (no runs)")
    args = ap.parse_args(argv)
    if args.merge:
        res = pd.concat([pd.read_csv(p) for p in args.merge], ignore_index=True)
    else:
        res = run(args)
        if args.raw is not None:
            res.to_csv(args.raw, index=False)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        for metric in ("auroc", "auprc_ratio", "full_auroc"):
            print(f"\n## {metric} (mean ± sd over seeds {sorted(res['seed'].unique())})\n")
            print(summarise(res, metric).to_markdown())
        print("\n## model vs degree-only (AUROC)\n")
        print(verdict(res).round(3).to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
