"""How sensitive is "KMeans (true k) on PCA(50)" ARI to changes of the matrix that carry no
label information? (issues 4 and 6: the PBMC clustering targets)

For each seed (= mask seed = PCA/KMeans seed, as in ``benchmarks/impute.py``), on the
log-normalised counts (library of the matrix scored):

* ``full``: the unmasked counts; ``mask 5/10/20 %``: after ``gnngeno.pp.mask_nonzero`` with that
  fraction (more dropouts);
* ``graph smoothing, h hops``: the PCA(50) of the 10 %-masked matrix multiplied ``h`` times by
  the GCN-normalised 15-NN cell graph (``Â^h Z``, what SGC-style encoders and neighbour
  averaging do), then KMeans;
* ``GraphImputer``: the package default imputation of the 10 %-masked counts
  (``get_imputed()``), with ``--imputer``;

each with KMeans at ``n_init=10`` (the benchmarks' setting) and ``n_init=100`` (closer to the
lowest-inertia partition, so less dependent on the KMeans seed).

Usage::

    .venv/bin/python benchmarks/ari_sensitivity.py --datasets pbmc bladder --imputer
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def kmeans_ari(Z: np.ndarray, labels: np.ndarray, seed: int, n_init: int) -> float:
    """ARI of KMeans (true k) on ``Z`` as given (float32 here), as
    :func:`gnngeno.metrics.clustering_agreement` clusters in ``benchmarks/impute.py``;
    :func:`gnngeno.metrics.kmeans_scores` casts to float64, which moves some partitions."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    k = np.unique(labels).size
    pred = KMeans(k, n_init=n_init, random_state=seed).fit_predict(Z)
    return float(adjusted_rand_score(labels, pred))


def pca(X, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    return PCA(50, random_state=seed).fit_transform(X.astype(np.float32))


def rows_for_seed(adata, seed: int, imputer: bool) -> dict[str, np.ndarray]:
    """Named PCA(50) embeddings for one seed (``adata``: counts in ``layers['counts']``)."""
    import anndata as ad
    from impute import N_NEIGHBORS

    import gnngeno as gg
    from gnngeno.nn import gcn_adjacency

    out = {"full": pca(gg.pp.log_normalize(adata.layers["counts"]), seed)}
    masks = {f: gg.pp.mask_nonzero(adata, fraction=f, seed=seed)[0] for f in (0.05, 0.1, 0.2)}
    for frac, m in masks.items():
        out[f"mask {frac:.0%}"] = pca(gg.pp.log_normalize(m.layers["counts"]), seed)
    masked = masks[0.1]  # the benchmark's mask: smoothed and imputed below
    holder = ad.AnnData(X=masked.layers["counts"])
    gg.gr.cell_graph(holder, n_neighbors=N_NEIGHBORS, seed=seed)
    A = gcn_adjacency(holder.obsp["gnngeno_cell_connectivities"])
    Z = out["mask 10%"]
    for h in range(1, 5):
        Z = A @ Z
        out[f"mask 10%, graph smoothing {h} hop{'s' if h > 1 else ''}"] = Z
    if imputer:
        gg.settings.n_threads = 1
        model = gg.models.GraphImputer(masked, layer="counts", n_neighbors=N_NEIGHBORS, seed=seed)
        model.train()
        out["mask 10%, GraphImputer (default)"] = pca(model.get_imputed(), seed)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", nargs="+", default=["pbmc"], choices=["pbmc", "bladder"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--imputer", action="store_true", help="Also train GraphImputer per seed.")
    a = p.parse_args(argv)

    from impute import load

    import gnngeno as gg

    gg.settings.progress = False
    print("| dataset | matrix | KMeans ARI, n_init 10 (per seed) | mean | "
          "n_init 100 (per seed) | mean |")
    print("|---|---|---|---|---|---|")
    for ds in a.datasets:
        adata, labels = load(ds)
        res: dict[str, dict[int, list[float]]] = {}
        for s in a.seeds:
            for name, Z in rows_for_seed(adata, s, a.imputer).items():
                res.setdefault(name, {10: [], 100: []})
                for n_init in (10, 100):
                    res[name][n_init].append(kmeans_ari(Z, labels, s, n_init))
        for name, r in res.items():
            cells = [f"{' / '.join(f'{v:.3f}' for v in r[n])} | {np.mean(r[n]):.3f}"
                     for n in (10, 100)]
            print(f"| {ds} | {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
