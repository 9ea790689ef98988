"""Cell-graph building at scale: simulated sparse counts, time and peak memory.

Usage: python benchmarks/cell_graph.py --cells 100000 --genes 2000
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import scipy.sparse as sp


def sparse_counts(n_cells: int, n_genes: int, density: float, seed: int) -> sp.csr_matrix:
    """Sparse NB-like counts with cluster structure, generated in chunks (never dense)."""
    rng = np.random.default_rng(seed)
    n_types = 10
    programme = rng.lognormal(0, 1, (n_types, n_genes))
    chunks = []
    for start in range(0, n_cells, 20_000):
        n = min(20_000, n_cells - start)
        t = rng.integers(0, n_types, n)
        nnz_per_cell = rng.binomial(n_genes, density, n)
        rows = np.repeat(np.arange(n), nnz_per_cell)
        cols = rng.integers(0, n_genes, rows.size)
        vals = 1 + rng.poisson(programme[t[rows], cols])
        chunks.append(sp.csr_matrix((vals.astype(np.float32), (rows, cols)), shape=(n, n_genes)))
    X = sp.vstack(chunks).tocsr()
    X.sum_duplicates()
    return X


def main() -> None:
    import anndata as ad

    import gnngeno as gg

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--genes", type=int, default=2_000)
    parser.add_argument("--density", type=float, default=0.08)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    t0 = time.perf_counter()
    X = sparse_counts(args.cells, args.genes, args.density, args.seed)
    adata = ad.AnnData(X=X)
    t_sim = time.perf_counter() - t0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    c0, t0 = time.process_time(), time.perf_counter()
    gg.gr.cell_graph(adata, n_neighbors=15, n_pcs=50)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print("| cells | genes | non-zero | simulate s | cell_graph wall s | cell_graph CPU s | "
          "peak RSS GiB (before graph) |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {args.cells} | {args.genes} | {X.nnz / X.shape[0] / X.shape[1]:.1%} | {t_sim:.1f} | "
          f"{wall:.1f} | {cpu:.1f} | {peak:.2f} ({rss_before:.2f}) |")


if __name__ == "__main__":
    main()
