"""Out-of-core h5ad: chunked reading, chunked PCA, backed cell graph, chunked writing."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp

from gnngeno import _keys as keys
from gnngeno._validate import InputError
from gnngeno.io import (
    ChunkWriter,
    backed_cell_graph,
    chunked_pca,
    iter_chunks,
    load_sparse,
    write_elems,
)


def _counts(n=300, g=40, seed=0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    types = rng.integers(0, 3, n)
    prog = rng.lognormal(0, 1, (3, g))
    X = rng.poisson(prog[types] * rng.binomial(1, 0.3, (n, g))).astype(np.float32)
    X[:, 0] += 1  # no empty cell
    return sp.csr_matrix(X)


@pytest.fixture()
def h5ad(tmp_path):
    X = _counts()
    a = ad.AnnData(X=X)
    a.obs_names = [f"c{i}" for i in range(a.n_obs)]
    a.var_names = [f"g{j}" for j in range(a.n_vars)]
    a.layers["counts"] = X.copy()
    a.layers["dense"] = X.toarray()
    p = tmp_path / "a.h5ad"
    a.write_h5ad(p)
    return p, a


@pytest.mark.parametrize("layer", [None, "counts", "dense"])
def test_iter_chunks_reassembles_matrix(h5ad, layer):
    p, a = h5ad
    sizes = []
    parts = []
    for rows, C in iter_chunks(p, layer=layer, chunk_size=70):
        assert sp.isspmatrix_csr(C) and C.dtype == np.float32
        sizes.append(rows.stop - rows.start)
        parts.append(C)
    assert sizes == [70, 70, 70, 70, 20]
    assert (sp.vstack(parts) != a.X).nnz == 0
    assert (load_sparse(p, layer=layer, chunk_size=64) != a.X).nnz == 0


def test_iter_chunks_backed_and_memory_sources_agree(h5ad):
    p, a = h5ad
    backed = ad.read_h5ad(p, backed="r")
    got = sp.vstack([C for _, C in iter_chunks(backed, chunk_size=100)])
    mem = sp.vstack([C for _, C in iter_chunks(a, chunk_size=100)])
    backed.file.close()
    assert (got != mem).nnz == 0


def test_missing_layer_and_csc_are_refused(h5ad, tmp_path):
    p, a = h5ad
    with pytest.raises(InputError, match="no 'layers/nope'"):
        next(iter_chunks(p, layer="nope"))
    b = ad.AnnData(X=sp.csc_matrix(a.X))
    q = tmp_path / "csc.h5ad"
    b.write_h5ad(q)
    with pytest.raises(InputError, match="CSC"):
        next(iter_chunks(q))


def test_chunked_pca_matches_exact_pca(h5ad):
    p, a = h5ad
    scores, info = chunked_pca(p, n_comps=5, chunk_size=64, n_iter=4, seed=0)
    assert scores.shape == (a.n_obs, 5) and info["normalize"] is True
    assert info["passes"] == 2 * 4 + 2
    # exact reference: SVD of the centred log-normalised dense matrix
    X = a.X.toarray()
    L = np.log1p(X / X.sum(1, keepdims=True) * 1e4)
    Lc = L - L.mean(0)
    U, S, Vt = np.linalg.svd(Lc, full_matrices=False)
    # randomised SVD: leading variances within 1 % of the exact ones on this flat spectrum
    np.testing.assert_allclose(info["variance"], S[:5] ** 2 / (a.n_obs - 1), rtol=1e-2)
    # same subspace (component by component, up to sign)
    for i in range(3):
        c = abs(np.corrcoef(scores[:, i], U[:, i] * S[i])[0, 1])
        assert c > 0.99
    again, _ = chunked_pca(p, n_comps=5, chunk_size=100, n_iter=4, seed=0)
    np.testing.assert_allclose(scores, again, rtol=1e-3, atol=1e-3)  # chunking-independent


def test_backed_cell_graph_writes_graph(h5ad):
    p, a = h5ad
    out = backed_cell_graph(p, n_neighbors=10, n_pcs=5, transformer="sklearn", write=True,
                            seed=0)
    C = out.obsp[keys.connectivities_key(keys.CELL_GRAPH_KEY)]
    assert C.shape == (a.n_obs, a.n_obs) and (C != C.T).nnz == 0
    assert out.uns[keys.CELL_GRAPH_KEY]["params"]["backed"] is True
    assert list(out.obs_names[:2]) == ["c0", "c1"]
    back = ad.read_h5ad(p)
    assert (back.obsp[keys.connectivities_key(keys.CELL_GRAPH_KEY)] != C).nnz == 0
    assert back.obsm[f"{keys.CELL_GRAPH_KEY}_pca"].shape == (a.n_obs, 5)
    assert (back.X != a.X).nnz == 0  # the rest of the file is untouched
    # neighbours agree with the in-memory builder on the same PCA: most edges shared
    import gnngeno as gg

    ref = a.copy()
    ref.obsm["rep"] = out.obsm[f"{keys.CELL_GRAPH_KEY}_pca"]
    gg.gr.cell_graph(ref, n_neighbors=10, use_rep="rep", transformer="sklearn", seed=0)
    R = ref.obsp[keys.connectivities_key(keys.CELL_GRAPH_KEY)]
    assert ((R > 0).multiply(C > 0)).nnz == (R > 0).nnz


def test_chunk_writer_is_atomic(h5ad):
    p, a = h5ad
    with ChunkWriter(p, "imputed", a.n_vars) as w:
        for rows, C in iter_chunks(p, chunk_size=128):
            w[rows] = C.toarray() * 2
    back = ad.read_h5ad(p)
    np.testing.assert_array_equal(back.layers["imputed"], a.X.toarray() * 2)
    # a failing writer leaves the previous layer in place and no temporary dataset
    with pytest.raises(RuntimeError):
        with ChunkWriter(p, "imputed", a.n_vars) as w:
            w[0:10] = np.zeros((10, a.n_vars))
            raise RuntimeError("boom")
    back = ad.read_h5ad(p)
    np.testing.assert_array_equal(back.layers["imputed"], a.X.toarray() * 2)
    assert sorted(back.layers) == ["counts", "dense", "imputed"]
    with pytest.raises(InputError, match="one column per gene"):
        with ChunkWriter(p, "bad", 3):
            pass


def test_write_elems_checks_rows(h5ad):
    p, a = h5ad
    write_elems(p, obsm={"X_test": np.ones((a.n_obs, 2))}, uns={"note": {"x": 1}})
    back = ad.read_h5ad(p)
    assert back.obsm["X_test"].shape == (a.n_obs, 2) and back.uns["note"]["x"] == 1
    with pytest.raises(InputError, match="rows"):
        write_elems(p, obsm={"bad": np.ones((3, 2))})
