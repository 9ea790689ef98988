"""Out-of-core h5ad: chunked reading and chunked, atomic writing."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp

from gnngeno import InputError
from gnngeno.io import ChunkWriter, iter_chunks, load_sparse, write_elems


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
