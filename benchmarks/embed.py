"""Cell-embedding benchmark: gnngeno's Embedder kinds against PCA(50) of log-normalised counts.

Protocol: for each dataset of ``../shared/data/sc`` (raw counts + cell-type labels), and for one
real dataset that is not there (``pbmc68k``: scanpy's bundled ``pbmc68k_reduced``, 700 PBMCs x
765 genes with their counts recovered, labels the 10 FACS-sorted populations), each
method gives a cells x dims embedding; KMeans with the true number of types (10 restarts,
``random_state`` = the seed; and again with 100 restarts, whose lowest-inertia partition depends
far less on the seed) and Leiden (resolution 1, on the embedding's 15-NN graph) are
compared with the labels (ARI, NMI). Methods:

- ``pca``: PCA(50) of log1p(counts normalised to 1e4) (scanpy), the baseline;
- ``vae``, ``ae``, ``gae``, ``vgae``: :class:`gnngeno.models.Embedder` with its **defaults**
  (no per-dataset tuning; the labels are used only for the final scores). The defaults (20-d
  latent; SGC-style encoder with 2 hops for the graph kinds) were chosen on simulated data with
  planted cell types by ``benchmarks/embed_select.py``, never on these labels.

Every (dataset, method, seed) result is appended to a JSON-lines file and reused by later calls
(``--rerun`` to redo them); wall and CPU seconds (``time.process_time``, all threads of the
process) cover fitting the embedding only (not the clustering). The machine's cores are shared,
so CPU seconds are the fairer cost.

Usage::

    .venv/bin/python benchmarks/embed.py                           # everything, then the table
    .venv/bin/python benchmarks/embed.py --datasets pbmc --methods pca vae --seeds 0
    .venv/bin/python benchmarks/embed.py --table-only
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("GNNGENO_NO_PROGRESS", "1")

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GNNGENO_SHARED_DATA", REPO.parent / "shared" / "data")) / "sc"
DATASETS = {"pbmc": "10X_PBMC_top2000.h5", "bladder": "mouse_bladder_cell_top2000.h5",
            "pbmc68k": None}
"""File of each dataset in ``../shared/data/sc``; ``None``: not from there (``pbmc68k``: scanpy's
bundled ``pbmc68k_reduced`` with its counts recovered, labelled by FACS sorting)."""
METHODS = ("pca", "vae", "ae", "gae", "vgae")
RESULTS = REPO / "benchmarks" / "results" / "embed.jsonl"
# reported elsewhere, for the table's reference rows (KMeans ARI)
REFERENCE = {"pbmc": {"scVI latent (reference run)": 0.76, "graph-sc (published)": 0.70},
             "bladder": {"graph-sc (published)": 0.63}}


def load(name: str):
    """The dataset as AnnData with counts in ``layers['counts']`` and ``obs['label']``."""
    if DATASETS[name] is None:
        from gnngeno.datasets import pbmc68k_reduced

        adata = pbmc68k_reduced(counts=True)
        adata.obs["label"] = adata.obs["bulk_labels"].astype(str).astype("category")
        return adata
    path = DATA / DATASETS[name]
    try:
        from gnngeno.io import read_dense_h5

        adata = read_dense_h5(path)
    except ImportError:  # reader not available: plain h5py
        import anndata as ad
        import h5py
        import pandas as pd
        import scipy.sparse as sp

        with h5py.File(path) as h:
            X = h["X"][:].astype(np.float32)
            y = h["Y"][:].astype(int)
        adata = ad.AnnData(sp.csr_matrix(X), obs=pd.DataFrame(
            {"label": pd.Categorical(y.astype(str))}, index=[f"cell_{i}" for i in range(len(y))]))
        adata.layers["counts"] = adata.X.copy()
    if "counts" not in adata.layers:
        adata.layers["counts"] = adata.X.copy()
    return adata


def embed(adata, method: str, seed: int, max_epochs: int | None = None) -> np.ndarray:
    import scanpy as sc

    if method == "pca":
        tmp = adata.copy()
        tmp.X = tmp.layers["counts"].copy()
        sc.pp.normalize_total(tmp, target_sum=1e4)
        sc.pp.log1p(tmp)
        sc.pp.pca(tmp, n_comps=50, random_state=seed)
        return tmp.obsm["X_pca"]
    from gnngeno.models import Embedder

    model = Embedder(adata, kind=method, layer="counts", seed=seed)
    model.train(max_epochs=max_epochs)
    embed.last_epochs = len(model.history_)
    p = model._init_params
    embed.last_config = {"n_latent": p["n_latent"], "hops": model.hops,
                         "likelihood": model.likelihood or model.feature_likelihood,
                         **({"conv": p["conv"]} if model.is_graph
                            else {"input_noise": p["input_noise"]})}
    return model.get_latent()


def run_one(name: str, method: str, seed: int, max_epochs: int | None = None) -> dict:
    from gnngeno.metrics import kmeans_scores, leiden_scores

    adata = load(name)
    labels = adata.obs["label"].to_numpy()
    embed.last_epochs, embed.last_config = None, None
    t0, c0 = time.perf_counter(), time.process_time()
    Z = embed(adata, method, seed, max_epochs)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    km = kmeans_scores(Z, labels, seed=seed)
    km100 = kmeans_scores(Z, labels, seed=seed, n_init=100)
    ld = leiden_scores(Z, labels, seed=seed, transformer="sklearn")
    return {"dataset": name, "method": method, "seed": seed, "dims": int(Z.shape[1]),
            "kmeans_ari": km["ari"], "kmeans_nmi": km["nmi"], "kmeans100_ari": km100["ari"],
            "kmeans100_nmi": km100["nmi"], "leiden_ari": ld["ari"],
            "leiden_nmi": ld["nmi"], "leiden_k": ld["n_clusters"], "wall_s": wall,
            "cpu_s": cpu, "epochs": embed.last_epochs,
            "max_epochs": None if method == "pca" else max_epochs, "config": embed.last_config,
            "n_cells": adata.n_obs, "n_types": int(len(np.unique(labels)))}


def record(path: Path, run, *args) -> dict:
    """``run(*args)`` with warnings silenced; its result row is printed and appended to the
    JSON-lines file ``path``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        row = run(*args)
    print(json.dumps(row), flush=True)
    with open(path, "a") as fh:
        fh.write(json.dumps(row) + "\n")
    return row


def read_results(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def table(rows: list[dict]) -> str:
    import pandas as pd

    if not rows:
        return "(no results yet)"
    df = pd.DataFrame(rows)
    for col in ("max_epochs", "kmeans100_ari"):
        if col not in df:
            df[col] = None
    cap = df["max_epochs"].map(lambda v: "" if v is None or v != v else f" (<= {int(v)} ep)")
    df["label"] = df["method"] + cap
    df = df.drop_duplicates(["dataset", "label", "seed"], keep="last")

    def ms(s):
        s = s.dropna()
        if len(s) == 0:
            return "-"
        return f"{s.mean():.3f} ± {s.std(ddof=1):.3f}" if len(s) > 1 else f"{s.mean():.3f}"

    def mt(s):
        return f"{s.mean():.0f}" if len(s) else "-"

    lines = ["| dataset | method | seeds | KMeans ARI | KMeans NMI | KMeans ARI, 100 restarts | "
             "Leiden ARI | Leiden NMI | Leiden k | epochs | wall s | CPU s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in [d for d in DATASETS if d in set(df.dataset)]:
        sub = df[df.dataset == name]
        labels = sorted(set(sub.label), key=lambda lab: (METHODS.index(lab.split()[0]), lab))
        for method in labels:
            g = sub[sub.label == method]
            ep = g["epochs"].dropna()
            lines.append(
                f"| {name} | {method} | {len(g)} | {ms(g.kmeans_ari)} | {ms(g.kmeans_nmi)} | "
                f"{ms(pd.to_numeric(g.kmeans100_ari))} | {ms(g.leiden_ari)} | "
                f"{ms(g.leiden_nmi)} | {g.leiden_k.mean():.1f} | "
                f"{f'{ep.mean():.0f}' if len(ep) else '-'} | {mt(g.wall_s)} | {mt(g.cpu_s)} |")
        for ref, v in REFERENCE.get(name, {}).items():
            lines.append(f"| {name} | {ref} | - | {v:.2f} | - | - | - | - | - | - | - | - |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--rerun", action="store_true", help="redo results already in the file")
    p.add_argument("--table-only", action="store_true")
    p.add_argument("--threads", type=int, default=None, help="torch threads")
    p.add_argument("--max-epochs", type=int, default=None,
                   help="cap on epochs for every Embedder kind (default: the model's own rule)")
    args = p.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if not args.table_only:
        if any(DATASETS[name] for name in args.datasets) and not DATA.is_dir():
            raise SystemExit(f"benchmark data not found at {DATA} (set GNNGENO_SHARED_DATA).")
        done = {(r["dataset"], r["method"], r["seed"], r.get("max_epochs"))
                for r in read_results(args.results)}
        args.results.parent.mkdir(parents=True, exist_ok=True)
        for name in args.datasets:
            for method in args.methods:
                for seed in args.seeds:
                    cap = None if method == "pca" else args.max_epochs
                    if (name, method, seed, cap) in done and not args.rerun:
                        continue
                    record(args.results, run_one, name, method, seed, args.max_epochs)
    print(table(read_results(args.results)))


if __name__ == "__main__":
    main()
