"""Write a simulated dataset with a planted regulatory network to files.

Usage: python datasets/make_simulated.py --out datasets/simulated [--cells 500 --genes 200 --tfs 20 --seed 0]

The files feed the command line, e.g.
``gnngeno grn --expression datasets/simulated/counts.h5ad --tfs datasets/simulated/tfs.txt
--prior datasets/simulated/network.tsv --out edges.tsv``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gnngeno as gg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("datasets/simulated"))
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--genes", type=int, default=200)
    parser.add_argument("--tfs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    adata, net = gg.datasets.simulate(args.cells, args.genes, args.tfs, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    adata.write_h5ad(args.out / "counts.h5ad")
    net.to_csv(args.out / "network.tsv", sep="\t", index=False)
    tfs = adata.var_names[adata.var["is_tf"]]
    (args.out / "tfs.txt").write_text("\n".join(tfs) + "\n")
    print(f"wrote {args.out}/counts.h5ad ({adata.n_obs} cells x {adata.n_vars} genes), "
          f"network.tsv ({len(net)} edges), tfs.txt ({len(tfs)} TFs)")


if __name__ == "__main__":
    main()
