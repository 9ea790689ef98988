"""Gene features from expression: kept for the models of one cross-fit, equal to a fresh
computation, and never shared between callers."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from gnngeno.data._grn_graph import _expression_features, expression_features, fingerprint


def test_fingerprint_follows_values_not_objects():
    rng = np.random.default_rng(0)
    X = rng.poisson(1.0, size=(30, 8)).astype(np.float32)
    assert fingerprint(X) == fingerprint(X.copy())
    assert fingerprint(sp.csr_matrix(X)) == fingerprint(sp.csc_matrix(X))
    Y = X.copy()
    Y[0, 0] += 1
    assert fingerprint(Y) != fingerprint(X)
    assert fingerprint(X) != fingerprint(X.astype(np.float64))


def test_kept_features_equal_a_fresh_computation_and_are_copies():
    rng = np.random.default_rng(0)
    X = rng.poisson(2.0, size=(40, 25)).astype(np.float32)
    first = expression_features(X, n_components=5, seed=0)
    np.testing.assert_array_equal(first, _expression_features(X, 5, 0))
    first[:] = 0  # a caller changing its array changes nobody else's
    again = expression_features(X, n_components=5, seed=0)
    np.testing.assert_array_equal(again, _expression_features(X, 5, 0))
    assert expression_features(X, n_components=4, seed=0).shape == (25, 4)
    Y = X.copy()
    Y[:, 0] = rng.poisson(5.0, size=40)
    np.testing.assert_array_equal(expression_features(Y, n_components=5, seed=0),
                                  _expression_features(Y, 5, 0))
