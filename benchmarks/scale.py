"""Scaling benchmark: cell graph, imputation and embedding from 10k to 1M cells, out of core,
and 1 vs 2 processes under torchrun.

Simulated sparse counts (2 000 genes, ~8 % non-zero, 10 cell types; the generator of
``benchmarks/cell_graph.py``) are written chunk by chunk to an ``.h5ad`` file; every step then
runs in a fresh process (so that its peak memory is its own) and reads the file in chunks:

- ``graph``: :func:`gnngeno.gr.backed_cell_graph` (chunked PCA(50) of the log-normalised
  counts + ``scanpy.pp.neighbors`` with 15 neighbours), written back into the file;
- ``impute``: :class:`gnngeno.models.GraphImputer` on that graph, one epoch of mini-batch
  training, then imputed values streamed into ``layers['gnngeno_imputed']`` of the file;
- ``embed``: :class:`gnngeno.models.Embedder` (VAE), one epoch, embedding into ``obsm``;
- ``embed_gae``: the same with the graph autoencoder (``kind="gae"``, SGC encoder on the
  file's cell graph; mini-batches of 4 096 nodes and their share of the edges), one epoch;
- ``gcn_epoch``: one full-graph GCN epoch (PCA(50) -> 64 -> 64, forward + backward) with the
  torch CSR propagation of :func:`gnngeno.data.propagate`, beside one plain ``A @ X``
  (64 features), the floor of any GNN epoch;
- ``ddp``: the same mini-batch GCN trained under ``torchrun --nproc_per_node=1`` and ``=2``
  (gloo, CPU): time and final validation loss.

Usage::

    python benchmarks/scale.py --sizes 10000 100000 1000000 --steps graph impute embed gcn_epoch
    python benchmarks/scale.py --sizes 10000 100000 1000000 --steps embed_gae
    python benchmarks/scale.py --sizes 100000 --steps ddp

Peak memory is the step process's maximum resident set size (``ru_maxrss``), which includes
the ~0.5 GiB of Python, torch and scanpy themselves (the ``import`` row). Wall time and CPU
time (user + system, all threads) are both reported: the machine's 2 cores are shared.
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

import numpy as np

HERE = Path(__file__).resolve().parent
GIB = 2**30


# --------------------------------------------------------------------------- data
def write_counts_h5ad(path: Path, n_cells: int, n_genes: int = 2000, density: float = 0.08,
                      seed: int = 0, chunk: int = 20_000) -> None:
    """Simulated NB-like counts with cluster structure, written to ``path`` in row chunks
    (never the whole matrix in memory)."""
    import anndata as ad
    import h5py
    import pandas as pd
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    n_types = 10
    programme = rng.lognormal(0, 1, (n_types, n_genes))
    tmp = path.with_name(f".{path.name}.tmp")
    obs = pd.DataFrame(index=[f"cell{i}" for i in range(n_cells)])
    var = pd.DataFrame(index=[f"gene{j}" for j in range(n_genes)])
    ad.AnnData(obs=obs, var=var).write_h5ad(tmp)
    with h5py.File(tmp, "r+") as f:
        if "X" in f:
            del f["X"]
        g = f.create_group("X")
        g.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0",
                        "shape": np.array([n_cells, n_genes])})
        data = g.create_dataset("data", shape=(0,), maxshape=(None,), dtype=np.float32,
                                chunks=(1 << 20,))
        indices = g.create_dataset("indices", shape=(0,), maxshape=(None,), dtype=np.int32,
                                   chunks=(1 << 20,))
        indptr = np.zeros(n_cells + 1, dtype=np.int64)
        nnz = 0
        for start in range(0, n_cells, chunk):
            n = min(chunk, n_cells - start)
            t = rng.integers(0, n_types, n)
            per_cell = rng.binomial(n_genes, density, n)
            rows = np.repeat(np.arange(n), per_cell)
            cols = rng.integers(0, n_genes, rows.size)
            vals = 1 + rng.poisson(programme[t[rows], cols])
            X = sp.csr_matrix((vals.astype(np.float32), (rows, cols)), shape=(n, n_genes))
            X.sum_duplicates()
            X.sort_indices()
            data.resize((nnz + X.nnz,))
            indices.resize((nnz + X.nnz,))
            data[nnz:] = X.data
            indices[nnz:] = X.indices
            indptr[start + 1:start + n + 1] = nnz + X.indptr[1:]
            nnz += X.nnz
        g.create_dataset("indptr", data=indptr)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- steps
def _adata_for_models(path: Path):
    """In-memory AnnData with the counts as CSR (read in chunks, never dense) and the graph."""
    import anndata as ad
    import h5py
    from anndata.io import read_elem

    import gnngeno as gg

    X = gg.io.load_sparse(path)
    with h5py.File(path, "r") as f:
        obsp = {k: read_elem(f["obsp"][k]) for k in f["obsp"]} if "obsp" in f else {}
    return ad.AnnData(X=X, obsp=obsp)


def step_graph(path: Path, args) -> dict:
    import gnngeno as gg

    t0 = time.perf_counter()
    out = gg.gr.backed_cell_graph(path, n_neighbors=15, n_pcs=50, write=True, seed=0)
    return {"edges": int(out.obsp["gnngeno_cell_connectivities"].nnz),
            "wall": time.perf_counter() - t0}


def step_impute(path: Path, args) -> dict:
    import gnngeno as gg

    t0 = time.perf_counter()
    adata = _adata_for_models(path)
    t_load = time.perf_counter() - t0
    model = gg.models.GraphImputer(adata, layer=None, graph_key="gnngeno_cell", seed=0)
    t0 = time.perf_counter()
    model.train(max_epochs=args.epochs)  # package defaults otherwise
    t_train = time.perf_counter() - t0
    t1 = time.perf_counter()
    with gg.io.ChunkWriter(path, "gnngeno_imputed", adata.n_vars) as w:
        model.get_imputed(out=w, batch_size=args.chunk_size)
    t_write = time.perf_counter() - t1
    h = model.history
    n = adata.n_obs
    return {"train_s": t_train, "infer_write_s": t_write, "load_s": t_load,
            "batch_sampling": model.train_params_["batch_sampling"],
            "default_epochs": gg.models.GraphImputer.default_max_epochs(n),
            "loss": float(h["loss"].iloc[-1]),
            "val_loss": float(h["val_loss"].iloc[-1]) if "val_loss" in h else float("nan")}


def step_embed(path: Path, args) -> dict:
    import gnngeno as gg

    adata = _adata_for_models(path)
    model = gg.models.Embedder(adata, kind="vae", n_latent=10, seed=0)
    t0 = time.perf_counter()
    model.train(max_epochs=args.epochs, batch_size=args.batch_size, validation_fraction=0.01)
    t_train = time.perf_counter() - t0
    t1 = time.perf_counter()
    Z = model.get_latent(batch_size=args.chunk_size)
    gg.io.write_elems(path, obsm={"X_gnngeno": Z})
    return {"train_s": t_train, "infer_write_s": time.perf_counter() - t1,
            "loss": float(model.history["loss"].iloc[-1])}


def step_embed_gae(path: Path, args) -> dict:
    """Graph autoencoder (package defaults: SGC encoder, NB feature term) on the file's cell
    graph, trained on mini-batches of 4 096 nodes (and their share of the edges)."""
    import gnngeno as gg

    adata = _adata_for_models(path)
    t0 = time.perf_counter()
    model = gg.models.Embedder(adata, kind="gae", graph_key="gnngeno_cell", seed=0)
    t_setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.train(max_epochs=args.epochs, batch_size=4096, validation_fraction=0.01)
    t_train = time.perf_counter() - t0
    t1 = time.perf_counter()
    Z = model.get_latent(batch_size=args.chunk_size)
    gg.io.write_elems(path, obsm={"X_gnngeno_gae": Z})
    return {"setup_s": t_setup, "train_s": t_train, "infer_write_s": time.perf_counter() - t1,
            "batch_size": model.train_params_["batch_size"],
            "loss": float(model.history["loss"].iloc[-1]),
            "val_loss": float(model.history["val_loss"].iloc[-1])}


def _gcn_inputs(path: Path):
    import h5py
    from anndata.io import read_elem

    from gnngeno.nn import gcn_adjacency

    with h5py.File(path, "r") as f:
        rep = np.asarray(f["obsm"]["gnngeno_cell_pca"][()], dtype=np.float32)
        A = read_elem(f["obsp"]["gnngeno_cell_connectivities"])
    return rep, gcn_adjacency(A)


def step_gcn_epoch(path: Path, args) -> dict:
    """GCN epochs (forward + backward) with torch CSR propagation vs one ``A @ X``."""
    import torch

    from gnngeno.nn import propagate, to_torch_csr

    rep, An = _gcn_inputs(path)
    A = to_torch_csr(An)
    x = torch.from_numpy(rep)
    torch.manual_seed(0)
    lin1, lin2 = torch.nn.Linear(rep.shape[1], 64), torch.nn.Linear(64, 64)
    H = torch.randn(rep.shape[0], 64)
    torch.sparse.mm(A, H)  # warm-up
    res = {}

    def timed(name, fn, reps=3):
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(reps):
            fn()
        res[f"{name}_s"] = (time.perf_counter() - t0) / reps
        res[f"{name}_cpu_s"] = (time.process_time() - c0) / reps

    timed("spmm", lambda: torch.sparse.mm(A, H))

    def layer():  # the bar's "GCNConv(50 -> 64) forward + backward"
        propagate(A, lin1(x)).pow(2).mean().backward()

    def gcn2():  # 2 layers, hidden states propagated (4 products: 2 forward, 2 backward)
        out = propagate(A, lin2(torch.relu(propagate(A, lin1(x)))))
        out.pow(2).mean().backward()

    t0 = time.perf_counter()
    ax = torch.sparse.mm(A, x)  # the input's propagation, once: (A X) W1 = A (X W1)
    res["precompute_s"] = time.perf_counter() - t0

    def gcn2_cached():  # same model, A X cached: 2 products per epoch
        out = propagate(A, lin2(torch.relu(lin1(ax))))
        out.pow(2).mean().backward()

    def layer_xfirst():  # the same layer as (A X) W1: X needs no gradient, so one product
        lin1(torch.sparse.mm(A, x)).pow(2).mean().backward()

    timed("gcn_layer", layer)
    timed("gcn_layer_xfirst", layer_xfirst)
    timed("gcn2_epoch", gcn2)
    timed("gcn2_cached_epoch", gcn2_cached)
    for k in ("gcn_layer", "gcn_layer_xfirst", "gcn2_epoch", "gcn2_cached_epoch"):
        res[f"{k}_ratio"] = res[f"{k}_s"] / res["spmm_s"]
        res[f"{k}_cpu_ratio"] = res[f"{k}_cpu_s"] / max(res["spmm_cpu_s"], 1e-9)
    return res


def step_ddp(path: Path, args) -> dict:
    """Mini-batch GCN (cluster batches) on PCA features: denoise masked PCA coordinates."""
    import torch

    from gnngeno._settings import seed_everything
    from gnngeno.data import cell_batches, graph_parts, neighbourhood
    from gnngeno.nn import propagate, to_torch_csr
    from gnngeno.train import distributed, fit, reduce_dict, shard_indices, wrap_ddp

    with distributed(device="cpu") as ctx:
        rep, An = _gcn_inputs(path)
        n, d = rep.shape
        rng = np.random.default_rng(0)
        hidden = rng.random((n, d)) < 0.2
        x_in = torch.from_numpy(np.where(hidden, 0.0, rep).astype(np.float32))
        y = torch.from_numpy(rep)
        is_val = rng.random(n) < 0.05
        # cluster batches: balls of neighbouring cells, several per step
        parts = graph_parts(An, 2000, seed=0)
        seed_everything(0)
        model = torch.nn.ModuleDict({"a": torch.nn.Linear(d, 64), "b": torch.nn.Linear(64, d)})

        class Net(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, x, adj):
                return self.m["b"](torch.relu(propagate(adj, self.m["a"](x))))

        net = Net(model)
        ddp = wrap_ddp(net)
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        gen = torch.Generator().manual_seed(0)
        per_step = max(1, 8 // ctx.world_size)

        def train_epoch(epoch):
            groups = cell_batches(n, 2000, generator=gen, parts=parts)
            mine = [groups[i] for i in shard_indices(len(groups), shuffle=False)]
            tot, cnt = 0.0, 0
            for start in range(0, len(mine), per_step):
                cells = np.concatenate(mine[start:start + per_step])
                cells = np.sort(cells[~is_val[cells]])
                nodes, sub = neighbourhood(An, cells, 1)
                pred = ddp(x_in[nodes], to_torch_csr(sub))[: cells.size]
                loss = ((pred - y[cells]) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                tot += float(loss.detach()) * cells.size
                cnt += cells.size
            return reduce_dict({"loss": tot / cnt}, weight=cnt)

        val = np.flatnonzero(is_val)
        A_full = to_torch_csr(An)

        def validate():
            with torch.no_grad():
                pred = net(x_in, A_full).numpy()
            m = hidden[val]
            return reduce_dict({"val_loss": float(((pred[val] - rep[val]) ** 2)[m].mean())})

        t0 = time.perf_counter()
        h = fit(net, opt, train_epoch, max_epochs=args.epochs, validate=validate, patience=None)
        return {"world_size": ctx.world_size, "train_s": time.perf_counter() - t0,
                "loss": h.records[-1]["loss"], "val_loss": h.records[-1]["val_loss"]}


STEPS = {"graph": step_graph, "impute": step_impute, "embed": step_embed,
         "embed_gae": step_embed_gae,
         "gcn_epoch": step_gcn_epoch, "ddp": step_ddp}


def run_step(args) -> None:
    """Child process: run one step, print one JSON line with time and peak memory."""
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1)))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB
    import scanpy  # noqa: F401

    import gnngeno  # noqa: F401

    imported = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB
    path = Path(args.workdir) / f"counts_{args.cells}.h5ad"
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    res = STEPS[args.run_step](path, args)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    res.update({"step": args.run_step, "cells": args.cells,
                "wall_s": time.perf_counter() - t0,
                "cpu_s": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
                "peak_gib": r1.ru_maxrss * 1024 / GIB, "import_gib": imported,
                "start_gib": base})
    if os.environ.get("RANK", "0") == "0":
        print("RESULT " + json.dumps(res), flush=True)


# --------------------------------------------------------------------------- driver
def _child(args, step: str, cells: int, nproc: int | None = None) -> dict | None:
    cmd = [sys.executable, __file__, "--run-step", step, "--cells", str(cells),
           "--workdir", str(args.workdir), "--epochs", str(args.epochs),
           "--batch-size", str(args.batch_size), "--chunk-size", str(args.chunk_size)]
    env = dict(os.environ, GNNGENO_NO_PROGRESS="1")
    if nproc is not None:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={nproc}"] + cmd[1:]
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 2) // nproc))
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        err = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        print(f"  {step} at {cells} cells failed (exit {proc.returncode}): {' | '.join(err)}",
              flush=True)
        return {"step": step, "cells": cells, "failed": " ".join(err)[-200:]}
    res = json.loads(lines[-1][7:])
    res["process_wall_s"] = wall
    res["children_cpu_s"] = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if nproc is not None:
        res["nproc"] = nproc
    print("  " + json.dumps(res), flush=True)
    return res


def _fmt(x, nd=1):
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{nd}f}"


def print_tables(results: list[dict]) -> None:
    order = {name: i for i, name in enumerate(STEPS)}
    results = sorted(results, key=lambda r: (order.get(r["step"], 99), r["cells"],
                                             r.get("nproc") or 0))
    ok = [r for r in results if "failed" not in r and r["step"] != "ddp"]
    if ok or any("failed" in r for r in results):
        print("\n| step | cells | wall s | CPU s | peak RSS GiB (import) | notes |")
        print("|---|---|---|---|---|---|")
        for r in results:
            if r["step"] == "ddp":
                continue
            if "failed" in r:
                print(f"| {r['step']} | {r['cells']:,} | failed | | | {r['failed'][:80]} |")
                continue
            notes = []
            if r["step"] == "impute" and "batch_sampling" in r:
                notes.append(f"{r['batch_sampling']} batches, default epochs "
                             f"{r['default_epochs']}")
            if r["step"] == "embed_gae":
                notes.append(f"setup (PCA node features) {r['setup_s']:.1f} s, "
                             f"batches of {r['batch_size']} nodes")
            if r["step"] in ("impute", "embed", "embed_gae"):
                notes.append(f"train {r['train_s']:.1f} s, infer+write {r['infer_write_s']:.1f} s")
                notes.append(f"loss {r['loss']:.4g}")
            if r["step"] == "graph":
                notes.append(f"{r['edges']:,} edges")
            if r["step"] == "gcn_epoch" and "gcn_layer_s" in r:
                notes.append(f"A@X(64) {r['spmm_s']:.3f} s (CPU {r['spmm_cpu_s']:.3f})")
                for k, label in (("gcn_layer", "GCN layer 50->64 fwd+bwd, A (X W)"),
                                 ("gcn_layer_xfirst", "same layer as (A X) W"),
                                 ("gcn2_epoch", "2-layer GCN epoch"),
                                 ("gcn2_cached_epoch", "same, A X cached")):
                    notes.append(f"{label} {r[k + '_s']:.3f} s (CPU {r[k + '_cpu_s']:.3f}) = "
                                 f"{r[k + '_ratio']:.1f}x A@X wall, "
                                 f"{r[k + '_cpu_ratio']:.1f}x CPU")
            print(f"| {r['step']} | {r['cells']:,} | {_fmt(r['wall_s'])} | {_fmt(r['cpu_s'])} | "
                  f"{r['peak_gib']:.2f} ({r['import_gib']:.2f}) | {'; '.join(notes)} |")
        # growth per 10x cells
        by = {}
        for r in ok:
            by.setdefault(r["step"], {})[r["cells"]] = r
        rows = []
        for step, d in by.items():
            sizes = sorted(d)
            for a, b in zip(sizes, sizes[1:], strict=False):
                if b == 10 * a:
                    ra, rb = d[a], d[b]
                    mem_a = max(ra["peak_gib"] - ra["import_gib"], 1e-3)
                    mem_b = max(rb["peak_gib"] - rb["import_gib"], 1e-3)
                    rows.append(f"| {step} | {a:,} -> {b:,} | x{rb['wall_s'] / ra['wall_s']:.1f} "
                                f"| x{rb['cpu_s'] / max(ra['cpu_s'], 1e-9):.1f} "
                                f"| x{mem_b / mem_a:.1f} |")
        if rows:
            print("\n| step | cells | wall time growth | CPU time growth | "
                  "memory growth (above import) |")
            print("|---|---|---|---|---|")
            print("\n".join(rows))
        pipe = []
        for n in sorted({r["cells"] for r in ok}):
            for embed_step in ("embed", "embed_gae"):
                parts = [by.get(step, {}).get(n) for step in ("graph", "impute", embed_step)]
                if all(parts):
                    pipe.append(f"| {n:,} | graph + impute + {embed_step} | "
                                f"{sum(r['wall_s'] for r in parts):.0f} | "
                                f"{sum(r['cpu_s'] for r in parts):.0f} | "
                                f"{max(r['peak_gib'] for r in parts):.2f} |")
        if pipe:
            print("\n| cells | pipeline | wall s | CPU s | largest peak RSS GiB |")
            print("|---|---|---|---|---|")
            print("\n".join(pipe))
    ddp = [r for r in results if r["step"] == "ddp"]
    if ddp:
        print("\n| cells | processes | wall s | CPU s (all processes) | final train loss | "
              "final val loss | val loss vs 1 process |")
        print("|---|---|---|---|---|---|---|")
        ref = {r["cells"]: r for r in ddp if r.get("nproc") == 1 and "failed" not in r}
        for r in ddp:
            if "failed" in r:
                print(f"| {r['cells']:,} | {r.get('nproc')} | failed | | | | {r['failed'][:60]} |")
                continue
            base = ref.get(r["cells"])
            rel = (r["val_loss"] / base["val_loss"] - 1) * 100 if base else float("nan")
            print(f"| {r['cells']:,} | {r['nproc']} | {r['train_s']:.1f} | "
                  f"{r['children_cpu_s']:.1f} | {r['loss']:.5f} | {r['val_loss']:.5f} | "
                  f"{rel:+.2f} % |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--genes", type=int, default=2000)
    p.add_argument("--steps", nargs="+", default=["graph", "impute", "embed", "gcn_epoch"],
                   choices=list(STEPS))
    p.add_argument("--workdir", type=Path, default=HERE / "results" / "scale")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--chunk-size", type=int, default=8192)
    p.add_argument("--json", type=Path, default=None, help="Also append results here.")
    p.add_argument("--report", type=Path, nargs="+", default=None,
                   help="Only print the tables of results saved with --json.")
    p.add_argument("--run-step", choices=list(STEPS), help=argparse.SUPPRESS)
    p.add_argument("--cells", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.run_step:
        run_step(args)
        return
    if args.report:
        rows = [json.loads(ln) for f in args.report for ln in open(f) if ln.strip()]
        print_tables([r for r in rows if r])
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for n in args.sizes:
        path = args.workdir / f"counts_{n}.h5ad"
        if not path.exists():
            t0 = time.perf_counter()
            write_counts_h5ad(path, n, args.genes)
            print(f"simulated {n:,} cells -> {path} ({time.perf_counter() - t0:.0f} s)",
                  flush=True)
        for step in args.steps:
            for nproc in ((1, 2) if step == "ddp" else (None,)):
                results.append(_child(args, step, n, nproc))
                if args.json:
                    with open(args.json, "a") as fh:
                        fh.write(json.dumps(results[-1]) + "\n")
    print_tables([r for r in results if r])


if __name__ == "__main__":
    main()
