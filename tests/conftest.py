"""Shared fixtures: small seeded data and the location of ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GNNGENO_NO_PROGRESS", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GNNGENO_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or ``$GNNGENO_SHARED_DATA``); skips the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared benchmark data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture()
def sim():
    """A small simulated dataset with a planted network: ``(adata, net)``."""
    from gnngeno.datasets import simulate

    return simulate(n_cells=200, n_genes=60, n_tfs=8, seed=0)


def _small_counts(n=300, g=40, seed=0):
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    types = rng.integers(0, 3, n)
    prog = rng.lognormal(0, 1, (3, g))
    X = rng.poisson(prog[types] * rng.binomial(1, 0.3, (n, g))).astype(np.float32)
    X[:, 0] += 1  # no empty cell
    return sp.csr_matrix(X)


@pytest.fixture()
def h5ad(tmp_path):
    """A 300 x 40 counts ``.h5ad`` file (``X`` CSR, layers ``counts`` CSR and ``dense``):
    ``(path, adata)``."""
    import anndata as ad

    X = _small_counts()
    a = ad.AnnData(X=X)
    a.obs_names = [f"c{i}" for i in range(a.n_obs)]
    a.var_names = [f"g{j}" for j in range(a.n_vars)]
    a.layers["counts"] = X.copy()
    a.layers["dense"] = X.toarray()
    p = tmp_path / "a.h5ad"
    a.write_h5ad(p)
    return p, a
