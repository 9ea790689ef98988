"""SequenceCNN: shapes, strand invariance, batched predict."""

from __future__ import annotations

import pytest
import torch

from gnngeno.data import one_hot_encode, reverse_complement, simulate_sequences
from gnngeno.nn import SequenceCNN, predict


@pytest.fixture()
def X():
    seqs, _, _ = simulate_sequences(12, 30, seed=0)
    return one_hot_encode(seqs)


@pytest.mark.parametrize("n_dilated,pooling,hidden", [(0, "max+mean", 8), (2, "max", 0),
                                                      (1, "mean", 4)])
def test_shapes(X, n_dilated, pooling, hidden):
    torch.manual_seed(0)
    m = SequenceCNN(3, n_filters=5, filter_size=7, n_dilated=n_dilated, pooling=pooling,
                    hidden=hidden).eval()
    assert m(X).shape == (12, 3)
    assert m.embed(X).shape == (12, m.embedding_dim)
    assert m.first_layer_activations(X).shape == (12, 5, 30 - 7 + 1)


def test_both_strands_is_reverse_complement_invariant(X):
    torch.manual_seed(0)
    m = SequenceCNN(1, n_filters=6, filter_size=5, n_dilated=1).eval()
    torch.testing.assert_close(m(X), m(reverse_complement(X)))
    single = SequenceCNN(1, n_filters=6, filter_size=5, both_strands=False).eval()
    assert not torch.allclose(single(X), single(reverse_complement(X)))


def test_predict_batches_match_one_pass(X):
    torch.manual_seed(0)
    m = SequenceCNN(2, n_filters=4, filter_size=5).train()
    full = m.eval()(X)
    m.train()
    out = predict(m, X, batch_size=5)
    torch.testing.assert_close(out, full.detach())
    assert m.training  # mode restored
    torch.testing.assert_close(predict(m, X, batch_size=4, func=m.embed), m.eval().embed(X))


def test_too_short_sequences(X):
    m = SequenceCNN(1, n_filters=2, filter_size=40)
    with pytest.raises(ValueError, match="shorter than the filters"):
        m(X)
