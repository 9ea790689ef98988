"""Imputation benchmark: GraphImputer against no imputation, kNN mean, MAGIC and scVI (and
GraphImputer with message-passing GCN layers, the previous default, and without any graph, an
ablation).

Protocol (scVI / scGNN): hide a seeded 10 % of the non-zero counts, give every method the
masked counts, then compare in log-normalised space (log1p of counts normalised to 1e4 with
the library size of the masked matrix) on the hidden entries: median L1, RMSE, Pearson r,
cosine; plus the error on the entries that stayed visible, the mean imputed value on true zeros
(over-imputation), and KMeans (true k) on PCA(50) against the labels (ARI, NMI).

Each (dataset, method, seed) runs in its own process, so the CPU seconds (user + system of the
whole process: imports, graph, training, metrics and clustering) and the peak resident memory
belong to that method alone. Results are appended to a JSON-lines file and reused by later
calls (``--rerun`` to redo them).

Usage::

    .venv/bin/python benchmarks/impute.py                       # everything, then the table
    .venv/bin/python benchmarks/impute.py --datasets pbmc --methods gnngeno scvi --seeds 0
    .venv/bin/python benchmarks/impute.py --table-only          # print the table from results

MAGIC (``magic-impute``) and scVI (``scvi-tools``) are optional benchmark dependencies
(``pip install "gnngeno[benchmarks]"``); a method whose package is missing is reported as such.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GNNGENO_SHARED_DATA", REPO.parent / "shared" / "data"))
DATASETS = {
    "pbmc": ("PBMC 4k", SHARED / "sc" / "10X_PBMC_top2000.h5"),
    "bladder": ("mouse bladder", SHARED / "sc" / "mouse_bladder_cell_top2000.h5"),
}
METHODS = ("none", "knn", "magic", "scvi", "gnngeno", "gcn", "nograph")
LABELS = {"none": "none", "knn": "kNN mean", "magic": "MAGIC", "scvi": "scVI",
          "gnngeno": "GraphImputer (ours)",
          "gcn": "GraphImputer, conv='gcn' (message passing; previous default)",
          "nograph": "GraphImputer, n_layers=0 (ablation: no graph)"}
RESULTS = REPO / "benchmarks" / "results" / "impute.jsonl"
N_NEIGHBORS = 15


# ---------------------------------------------------------------------------------- one run
def _usage() -> dict[str, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"cpu_s": me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime,
            "peak_mb": max(me.ru_maxrss, ch.ru_maxrss) / 1024.0}


def load(dataset: str):
    import gnngeno as gg

    path = DATASETS[dataset][1]
    if not path.exists():
        raise FileNotFoundError(f"{path} not found; set GNNGENO_SHARED_DATA to the shared data folder.")
    adata = gg.io.read_dense_h5(path)
    labels = adata.obs["label"].to_numpy()
    return adata, labels


def run_method(method: str, masked, seed: int, *, epochs: int | None = None) -> tuple[object, dict]:
    """Impute ``masked`` (counts in layers["counts"]); returns (log-normalised matrix, info)."""
    import numpy as np

    import gnngeno as gg

    counts = masked.layers["counts"]
    info: dict = {}
    if method == "none":
        return gg.pp.log_normalize(counts), info
    if method == "knn":
        # mean of the cell and its kNN-graph neighbours in log-normalised space, on the same
        # graph GraphImputer uses (gnngeno.gr.cell_graph on the masked counts)
        import scipy.sparse as sp

        holder = masked.copy()
        gg.gr.cell_graph(holder, layer="counts", n_neighbors=N_NEIGHBORS, seed=seed)
        A = holder.obsp["gnngeno_cell_connectivities"]
        A = (A > 0).astype(np.float32) + sp.identity(A.shape[0], dtype=np.float32, format="csr")
        A = sp.diags(1.0 / np.asarray(A.sum(1)).ravel()) @ A
        return np.asarray((A @ gg.pp.log_normalize(counts)).todense(), dtype=np.float32), info
    if method == "magic":
        import magic

        X = gg.pp.log_normalize(counts)
        op = magic.MAGIC(random_state=seed, n_jobs=1, verbose=0)
        return np.asarray(op.fit_transform(X), dtype=np.float32), info
    if method == "scvi":
        import scvi
        import torch

        torch.set_num_threads(1)
        scvi.settings.seed = seed
        scvi.settings.dl_num_workers = 0
        ad = masked.copy()
        scvi.model.SCVI.setup_anndata(ad, layer="counts")
        model = scvi.model.SCVI(ad)
        kw = {"early_stopping": True, "enable_progress_bar": False, "accelerator": "cpu"}
        if epochs:
            kw["max_epochs"] = epochs
        model.train(**kw)
        info["epochs"] = int(model.history["elbo_train"].shape[0])
        rho = model.get_normalized_expression(library_size=1e4, return_numpy=True)
        return np.log1p(np.asarray(rho, dtype=np.float32)), info
    if method in ("gnngeno", "gcn", "nograph"):
        gg.settings.n_threads = 1
        gg.settings.progress = False
        # gcn: message-passing GCN layers instead of the default SGC-style encoder; nograph
        # (the ablation): the same model and training without the graph (a masked
        # autoencoder; its cell graph is still built, unused)
        extra = {"nograph": {"n_layers": 0}, "gcn": {"conv": "gcn"}}.get(method, {})
        model = gg.models.GraphImputer(masked, layer="counts", n_neighbors=N_NEIGHBORS, seed=seed,
                                       **extra)
        model.train(**({"max_epochs": epochs} if epochs else {}))
        info["epochs"] = len(model.history_)
        info["best_epoch"] = int(model.history_.best_epoch)
        if method == "gnngeno":  # the same model's prediction for every entry (denoising)
            info["denoised"] = model.get_imputed(keep_observed=False)
        return model.get_imputed(), info
    raise ValueError(f"unknown method {method!r}")


def child(dataset: str, method: str, seed: int, epochs: int | None) -> dict:
    t0 = time.perf_counter()
    import gnngeno as gg

    gg.settings.progress = False
    adata, labels = load(dataset)
    masked, hidden = gg.pp.mask_nonzero(adata, fraction=0.1, seed=seed)
    del adata
    t1 = time.perf_counter()
    imputed, info = run_method(method, masked, seed, epochs=epochs)
    t_fit = time.perf_counter() - t1

    def score(X):
        m = gg.metrics.imputation_metrics(X, masked.layers["counts"], hidden)
        m.update(gg.metrics.clustering_agreement(X, labels, n_pcs=50, seed=seed))
        return m

    metrics = score(imputed)
    if "denoised" in info:
        info["denoise"] = score(info.pop("denoised"))
    if method == "none":
        for k in ("pearson", "cosine"):
            metrics[k] = float("nan")  # constant 0 prediction: undefined
    return {"dataset": dataset, "method": method, "seed": seed, **metrics, **info,
            "method_s": t_fit, "wall_s": time.perf_counter() - t0, **_usage()}


def child_sim(n_cells: int, seed: int, epochs: int) -> dict:
    """GraphImputer alone on a simulated dataset (read from a cached h5ad): time, memory."""
    t0 = time.perf_counter()
    import anndata as ad

    import gnngeno as gg

    gg.settings.progress = False
    gg.settings.n_threads = 1
    path = sim_path(n_cells)
    adata = ad.read_h5ad(path)
    t1 = time.perf_counter()
    model = gg.models.GraphImputer(adata, layer="counts", n_neighbors=N_NEIGHBORS, seed=seed)
    t_graph = time.perf_counter() - t1
    model.train(max_epochs=epochs)
    t_train = time.perf_counter() - t1 - t_graph
    imputed = model.get_imputed()
    t_all = time.perf_counter() - t1
    return {"dataset": f"sim{n_cells}", "method": "gnngeno", "seed": seed,
            "n_cells": n_cells, "n_genes": int(adata.n_vars), "nnz": int(adata.layers["counts"].nnz),
            "epochs": len(model.history_), "graph_s": t_graph, "train_s": t_train,
            "impute_s": t_all - t_graph - t_train, "method_s": t_all,
            "output_mb": imputed.nbytes / 2**20, "wall_s": time.perf_counter() - t0, **_usage()}


def sim_path(n_cells: int) -> Path:
    cache = Path(os.environ.get("GNNGENO_BENCH_CACHE", "/tmp/gnngeno_bench"))
    return cache / f"sim_{n_cells}.h5ad"


def make_sim(n_cells: int, n_genes: int = 2000, chunk: int = 10_000) -> Path:
    """Simulated counts (chunks of ``gnngeno.datasets.simulate`` with different seeds, so peak
    memory stays low), cached as h5ad."""
    path = sim_path(n_cells)
    if path.exists():
        return path
    import anndata as ad
    import scipy.sparse as sp

    import gnngeno as gg

    parts = []
    for i, start in enumerate(range(0, n_cells, chunk)):
        a, _ = gg.datasets.simulate(n_cells=min(chunk, n_cells - start), n_genes=n_genes,
                                    n_tfs=100, n_cell_types=8, seed=1000 + i)
        parts.append(sp.csr_matrix(a.layers["counts"], dtype="float32"))
    X = sp.vstack(parts).tocsr()
    adata = ad.AnnData(X=X)
    adata.obs_names = [f"c{i}" for i in range(X.shape[0])]
    adata.var_names = a.var_names
    adata.layers["counts"] = X
    path.parent.mkdir(parents=True, exist_ok=True)
    adata.write_h5ad(path)
    return path


# ---------------------------------------------------------------------------------- driver
def read_results(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def spawn(args: list[str]) -> dict | None:
    cmd = [sys.executable, __file__, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        print(f"  failed: {' '.join(args)}: {' | '.join(tail)}", file=sys.stderr)
        return None
    return json.loads(lines[-1])


def fmt(vals: list[float], digits: int = 2) -> str:
    import numpy as np

    v = np.array([x for x in vals if x is not None and np.isfinite(x)], dtype=float)
    if v.size == 0:
        return "–"
    if v.size == 1:
        return f"{v[0]:.{digits}f}"
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}"


def table(rows: list[dict]) -> str:
    cols = [("median L1", "median_l1", 2), ("RMSE", "rmse", 2), ("Pearson r", "pearson", 2),
            ("cosine", "cosine", 3), ("visible L1", "visible_median_l1", 2),
            ("zeros mean", "zero_mean", 2), ("KMeans ARI", "ari", 2), ("NMI", "nmi", 2),
            ("CPU s", "cpu_s", 0), ("wall s", "wall_s", 0), ("peak MB", "peak_mb", 0)]
    out = ["| dataset | method | seeds | " + " | ".join(c[0] for c in cols) + " |",
           "|---|---|---|" + "---|" * len(cols)]
    for ds in DATASETS:
        for m in METHODS:
            rs = [r for r in rows if r["dataset"] == ds and r["method"] == m]
            if not rs:
                continue
            name = LABELS[m]
            if "epochs" in rs[0]:
                name += f" ({'/'.join(str(r['epochs']) for r in rs)} epochs)"
            seeds = ",".join(str(r["seed"]) for r in sorted(rs, key=lambda r: r["seed"]))
            out.append(f"| {DATASETS[ds][0]} | {name} | {seeds} | "
                       + " | ".join(fmt([r.get(k) for r in rs], d) for _, k, d in cols) + " |")
            if m == "gnngeno" and all("denoise" in r for r in rs):  # same runs, all predicted
                dn = [{**r, **r["denoise"]} for r in rs]
                out.append(f"| {DATASETS[ds][0]} | {LABELS[m]}, --denoise (same runs) | {seeds} | "
                           + " | ".join(fmt([r.get(k) for r in dn], d) for _, k, d in cols) + " |")
    sims = sorted((r for r in rows if r["dataset"].startswith("sim")), key=lambda r: r["n_cells"])
    if sims:
        out += ["", "GraphImputer on simulated counts (time and memory; one process each):", "",
                "| cells | genes | non-zeros | epochs | graph s | train s | s/epoch | impute s | "
                "CPU s | wall s | peak MB | output MB | peak − output, MB per 1k cells |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in sims:
            per = (r["peak_mb"] - r["output_mb"]) / (r["n_cells"] / 1000)
            out.append(f"| {r['n_cells']} | {r['n_genes']} | {r['nnz']} | {r['epochs']} | "
                       f"{r['graph_s']:.0f} | {r['train_s']:.0f} | {r['train_s'] / r['epochs']:.0f} | "
                       f"{r['impute_s']:.0f} | {r['cpu_s']:.0f} | {r['wall_s']:.0f} | "
                       f"{r['peak_mb']:.0f} | {r['output_mb']:.0f} | {per:.1f} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=None,
                   help="Cap on training epochs for scVI / GraphImputer (default: their own).")
    p.add_argument("--sim-cells", nargs="*", type=int, default=[25_000, 50_000, 100_000],
                   help="Simulated sizes for the GraphImputer scaling run (none to skip).")
    p.add_argument("--sim-epochs", type=int, default=2)
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--rerun", action="store_true", help="Redo runs already in --results.")
    p.add_argument("--table-only", action="store_true")
    p.add_argument("--_child", nargs=4, metavar=("KIND", "A", "B", "C"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)

    if a._child:
        kind, x, y, z = a._child
        if kind == "real":
            res = child(x, y, int(z), a.epochs)
        else:
            res = child_sim(int(x), int(y), int(z))
        print(json.dumps(res))
        return

    done = read_results(a.results)
    if not a.table_only:
        a.results.parent.mkdir(parents=True, exist_ok=True)
        key = lambda r: (r["dataset"], r["method"], r["seed"])  # noqa: E731
        have = {key(r) for r in done}
        jobs = [(ds, m, s) for ds in a.datasets for m in a.methods for s in a.seeds]
        for ds, m, s in jobs:
            if (ds, m, s) in have and not a.rerun:
                continue
            print(f"running {ds} {m} seed {s} ...", file=sys.stderr, flush=True)
            extra = ["--epochs", str(a.epochs)] if a.epochs else []
            r = spawn(["--_child", "real", ds, m, str(s), *extra])
            if r is not None:
                done = [d for d in done if key(d) != (ds, m, s)] + [r]
                with open(a.results, "a") as fh:
                    fh.write(json.dumps(r) + "\n")
        for n in a.sim_cells:
            if (f"sim{n}", "gnngeno", 0) in have and not a.rerun:
                continue
            print(f"simulating {n} cells / GraphImputer ...", file=sys.stderr, flush=True)
            make_sim(n)
            r = spawn(["--_child", "sim", str(n), "0", str(a.sim_epochs)])
            if r is not None:
                done = [d for d in done if key(d) != (r["dataset"], "gnngeno", 0)] + [r]
                with open(a.results, "a") as fh:
                    fh.write(json.dumps(r) + "\n")
    # the last record of each run counts
    last: dict = {}
    for r in done:
        last[(r["dataset"], r["method"], r["seed"])] = r
    print(table(list(last.values())))


if __name__ == "__main__":
    main()
