"""Sequence CNN vs k-mer / GC logistic regression on ENCODE TF ChIP-seq (DeepBind sets).

For each TF: training peaks + one dinucleotide-shuffled copy per peak as negatives (as in
DeepBind), 10% held out for early stopping, test on the given test file (500 top peaks + 500
shuffles). Prints test AUROC/AUPRC and training wall/CPU time for each model (mean ± sd over
seeds), then the JASPAR matches of the most important first-layer filters and whether the factor's
known motif is among them.

Run (from the repository root)::

    .venv/bin/python benchmarks/seq.py                       # USF1 ZNF143 TEAD4, full training
    .venv/bin/python benchmarks/seq.py --tfs USF1 --max-train 5000 --seeds 0 1
    .venv/bin/python benchmarks/seq.py --grn --seeds 0 1 2  # promoter features for hHEP GRNs
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("GNNGENO_NO_PROGRESS", "1")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("GNNGENO_SHARED_DATA", REPO.parent / "shared" / "data")) / "seq"
JASPAR = "motifs/JASPAR2024_CORE_vertebrates_nonredundant.meme.gz"


def _metrics(y, p) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    return {"auroc": roc_auc_score(y, p), "auprc": average_precision_score(y, p)}


def _markdown(df: pd.DataFrame) -> str:
    """A GitHub-markdown table (no tabulate dependency)."""
    def cell(v) -> str:
        if isinstance(v, float):
            return "" if np.isnan(v) else f"{v:.2g}"
        return str(v)

    lines = ["| " + " | ".join(map(str, df.columns)) + " |",
             "|" + "|".join("---" for _ in df.columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def run_tf(tf: str, data: Path, seed: int, args, db) -> tuple[list[dict], list[dict]]:
    from gnngeno.baselines import SequenceLogisticRegression
    from gnngeno.data import add_shuffled_negatives
    from gnngeno.interpret import filter_importance, filters_to_pwms, match_motifs
    from gnngeno.io import read_deepbind
    from gnngeno.models import SequenceModel

    train = read_deepbind(data / "tf_chipseq" / f"{tf}_H1-hESC.train.seq.gz")
    test = read_deepbind(data / "tf_chipseq" / f"{tf}_H1-hESC.test.seq.gz")
    peaks = train.loc[train["label"] == 1, "sequence"].tolist()
    if args.max_train:
        peaks = peaks[: args.max_train]
    X, y = add_shuffled_negatives(peaks, seed=seed)
    Xt, yt = test["sequence"].tolist(), test["label"].to_numpy()
    rows = []

    model = SequenceModel(n_filters=args.filters, filter_size=args.filter_size,
                          n_dilated=args.dilated, n_hidden=32, dropout=0.2, seed=seed)
    _, wall, cpu = _timed(lambda: model.train(X, y, max_epochs=args.epochs, patience=args.patience,
                                              batch_size=args.batch_size, lr=args.lr))
    rows.append({"tf": tf, "seed": seed, "model": f"CNN ({args.filters}x{args.filter_size}"
                 f"{f', {args.dilated} dilated' if args.dilated else ''})",
                 **_metrics(yt, model.predict(Xt)), "train_wall_s": wall, "train_cpu_s": cpu,
                 "epochs": len(model.history_)})
    print(f"  {tf} seed {seed}: CNN {rows[-1]['auroc']:.4f} AUROC, {wall:.0f} s wall / "
          f"{cpu:.0f} s CPU, {len(model.history_)} epochs", flush=True)

    for name, kw in [("k-mer LR (1-6)", dict(features="kmer", k=6)),
                     ("GC-content LR", dict(features="gc"))]:
        if name.startswith("k-mer") and args.no_kmer:
            continue
        lr = SequenceLogisticRegression(seed=seed, **kw)
        _, wall, cpu = _timed(lambda lr=lr: lr.fit(X, y))
        rows.append({"tf": tf, "seed": seed, "model": name, **_metrics(yt, lr.predict(Xt)),
                     "train_wall_s": wall, "train_cpu_s": cpu, "epochs": np.nan})
        print(f"  {tf} seed {seed}: {name} {rows[-1]['auroc']:.4f} AUROC, {wall:.0f} s wall",
              flush=True)

    # filters -> PWMs -> JASPAR
    pwms = filters_to_pwms(model)  # from training peaks kept by the model
    imp = filter_importance(model, Xt)
    top_filters = list(imp.index[: args.top_filters])
    matches = match_motifs({f: pwms[f] for f in top_filters}, db, top=10)
    motif_rows = []
    for rank_f, f in enumerate(top_filters, 1):
        m = matches[matches["query"] == f]
        known = m[m["target_name"].str.upper() == tf.upper()]
        motif_rows.append({
            "tf": tf, "seed": seed, "filter": f"{f} (#{rank_f})",
            "consensus": pwms[f].consensus().strip("N"),
            "top JASPAR matches": ", ".join(f"{r.target_name}" for r in m.head(3).itertuples()),
            "E (best)": m["e_value"].iloc[0] if len(m) else np.nan,
            "known motif rank": int(known["rank"].iloc[0]) if len(known) else "-",
        })
    return rows, motif_rows


def _promoter_model(args, promoters: pd.DataFrame):
    """The promoter SequenceModel: loaded from --promoter-model when saved there, else trained
    self-supervised (promoter vs dinucleotide shuffle) on every EPDnew promoter and saved."""
    from gnngeno.data import add_shuffled_negatives
    from gnngeno.models import SequenceModel

    if args.promoter_model is not None and (args.promoter_model / "model.pt").exists():
        print(f"promoter model loaded from {args.promoter_model}", flush=True)
        return SequenceModel.load(args.promoter_model)
    uniq = promoters["sequence"].str.upper().drop_duplicates().tolist()
    Xp, yp = add_shuffled_negatives(uniq, seed=0)
    model = SequenceModel(n_filters=32, filter_size=11, n_hidden=16, seed=0, length=60)
    _, wall, cpu = _timed(lambda: model.train(Xp, yp, max_epochs=6, patience=2))
    best = model.history.loc[model.history_.best_epoch]
    print(f"promoter model ({len(uniq)} promoters vs as many shuffles): val AUROC "
          f"{best['val_auroc']:.3f}, {wall:.0f} s wall / {cpu:.0f} s CPU", flush=True)
    if args.promoter_model is not None:
        model.save(args.promoter_model, overwrite=True)
    return model


def run_grn(args) -> None:
    """Do promoter embeddings (tl.encode_sequences) change GRN scores on hHEP?

    For each hHEP network: GRNPredictor on the given split with expression features only, with
    expression + promoter embeddings (adata.varm["gnngeno_seq"]), and with expression + random
    features of the same size (control for "any extra columns").
    """
    import warnings

    from gnngeno import InputWarning
    from gnngeno.io import read_grn_benchmark
    from gnngeno.models import GRNPredictor
    from gnngeno.tl import encode_sequences

    grn_root = args.data.parent / "grn" / "beeline_scrna" / "hHEP" / "TFs500"
    promoters = pd.read_csv(args.data / "promoters" / "human_epdnew_core_promoters.tsv.gz",
                            sep="\t")
    seq_model = _promoter_model(args, promoters)
    if args.promoter_only:
        return
    rows = []
    for net in args.grn_nets:
        bench = read_grn_benchmark(grn_root / net)
        adata = bench.adata
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InputWarning)  # missing promoters: reported below
            encode_sequences(adata, promoters, model=seq_model, gene_col="gene_symbol",
                             fallback="mean")
        info = adata.uns["gnngeno_seq"]
        print(f"hHEP/{net}: {adata.n_vars - info['n_missing']} of {adata.n_vars} genes have a "
              f"promoter ({info['n_missing']} use the mean embedding)", flush=True)
        rng = np.random.default_rng(0)
        adata.varm["random"] = rng.normal(size=adata.varm["gnngeno_seq"].shape).astype(np.float32)
        for seed in args.seeds:
            for label, feats in [("expression", None), ("+ promoter CNN", "gnngeno_seq"),
                                 ("+ random (control)", "random")]:
                model = GRNPredictor(adata, tfs=bench.tfs, gene_features=feats, seed=seed)
                _, wall, cpu = _timed(lambda m=model, b=bench: m.train(split=b.splits))
                ev = model.evaluate("test")
                rows.append({"net": f"hHEP/{net}", "features": label, "seed": seed, **ev,
                             "wall_s": wall, "cpu_s": cpu})
                print(f"  hHEP/{net} seed {seed} {label}: "
                      + ", ".join(f"{k}={v:.4f}" for k, v in ev.items())
                      + f" ({cpu:.0f} s CPU)", flush=True)
    res = pd.DataFrame(rows)
    metric_cols = [c for c in res.columns if c not in ("net", "features", "seed", "wall_s", "cpu_s")]
    agg = {c: (c, lambda s: f"{s.mean():.4f} ± {s.std(ddof=1):.4f}" if len(s) > 1
               else f"{s.mean():.4f}") for c in metric_cols}
    agg["train_cpu_s"] = ("cpu_s", lambda s: f"{s.mean():.0f}")
    table = res.groupby(["net", "features"], sort=False).agg(**agg).reset_index()
    print("\n## hHEP GRN test scores with / without promoter embeddings (mean ± sd over seeds)\n")
    print(_markdown(table))
    if args.out is not None:
        res.to_csv(f"{args.out}_grn.tsv", sep="\t", index=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tfs", nargs="+", default=["USF1", "ZNF143", "TEAD4"])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--max-train", type=int, default=0, help="Use only the first N peaks.")
    ap.add_argument("--filters", type=int, default=64)
    ap.add_argument("--filter-size", type=int, default=19)
    ap.add_argument("--dilated", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--patience", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's).")
    ap.add_argument("--top-filters", type=int, default=3)
    ap.add_argument("--no-kmer", action="store_true")
    ap.add_argument("--out", type=Path, default=None, help="Also write the tables (TSV prefix).")
    ap.add_argument("--grn", action="store_true",
                    help="Instead: measure promoter embeddings as GRN node features on hHEP.")
    ap.add_argument("--grn-nets", nargs="+", default=["Non-Specific", "STRING", "Specific"])
    ap.add_argument("--promoter-model", type=Path, default=None,
                    help="Folder of the promoter SequenceModel: loaded when present, else "
                         "trained and saved there.")
    ap.add_argument("--promoter-only", action="store_true",
                    help="With --grn: only train/save the promoter model.")
    args = ap.parse_args()

    import torch

    from gnngeno.io import read_meme

    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.data.is_dir():
        raise SystemExit(f"sequence data not found at {args.data}; pass --data")
    if args.grn:
        run_grn(args)
        return
    db = read_meme(args.data / JASPAR)
    print(f"torch threads: {torch.get_num_threads()}, CPU cores: {os.cpu_count()}, training "
          f"peaks: {'all' if not args.max_train else args.max_train} (+ as many shuffles)",
          flush=True)
    rows, motif_rows = [], []
    for tf in args.tfs:
        for seed in args.seeds:
            r, m = run_tf(tf, args.data, seed, args, db)
            rows += r
            motif_rows += m
    res = pd.DataFrame(rows)

    def fmt(s: pd.Series, digits: int) -> str:
        if s.isna().all():
            return "-"
        return (f"{s.mean():.{digits}f}" if len(s) == 1
                else f"{s.mean():.{digits}f} ± {s.std(ddof=1):.{digits}f}")

    table = (res.groupby(["tf", "model"], sort=False)
             .agg(test_AUROC=("auroc", lambda s: fmt(s, 4)), test_AUPRC=("auprc", lambda s: fmt(s, 4)),
                  train_wall_s=("train_wall_s", lambda s: fmt(s, 0)),
                  train_CPU_s=("train_cpu_s", lambda s: fmt(s, 0)),
                  epochs=("epochs", lambda s: fmt(s, 1)), n_seeds=("seed", "nunique"))
             .reset_index())
    print("\n## Test AUROC / AUPRC (mean ± sd over seeds)\n")
    print(_markdown(table))
    motifs = pd.DataFrame(motif_rows)
    print("\n## Most important first-layer filters vs JASPAR 2024 (top 10 matches searched)\n")
    print(_markdown(motifs))
    if args.out is not None:
        res.to_csv(f"{args.out}_scores.tsv", sep="\t", index=False)
        motifs.to_csv(f"{args.out}_motifs.tsv", sep="\t", index=False)


if __name__ == "__main__":
    main()
