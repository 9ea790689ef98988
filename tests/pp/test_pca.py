"""PCA of a matrix read in row chunks, against the exact PCA."""

from __future__ import annotations

import anndata as ad
import numpy as np

from gnngeno.pp import chunked_pca


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


def test_chunked_pca_of_in_memory_anndata_matches_the_file(h5ad):
    p, a = h5ad
    from_file, _ = chunked_pca(p, n_comps=4, chunk_size=64, seed=0)
    in_memory, info = chunked_pca(a, n_comps=4, chunk_size=64, seed=0)
    np.testing.assert_allclose(from_file, in_memory, rtol=1e-5, atol=1e-5)
    lognorm, _ = chunked_pca(ad.AnnData(X=np.log1p(a.X.toarray())), n_comps=4, seed=0)
    assert info["normalize"] is True  # counts are log-normalised first
    assert not np.allclose(np.abs(lognorm), np.abs(in_memory), atol=1e-2)
