"""Link splits of TF -> gene edges: no test edge reaches training; negatives avoid positives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from gnngeno import InputError
from gnngeno.data import message_graph, sample_negatives, split_edges, split_from_pairs

N_GENES, TFS = 30, np.arange(6)


def _keys_of(pairs: np.ndarray, n: int) -> np.ndarray:
    """One integer per (source, target) pair, for set comparisons."""
    return pairs[0].astype(np.int64) * n + pairs[1].astype(np.int64)


def _pos(seed=0):
    rng = np.random.default_rng(seed)
    src = rng.choice(TFS, 60)
    tgt = rng.integers(0, N_GENES, 60)
    keep = src != tgt
    return np.unique(np.stack([src[keep], tgt[keep]]), axis=1)


def test_random_split_partitions_positives_and_keeps_test_out_of_training():
    pos = _pos()
    sp = split_edges(pos, n_genes=N_GENES, tf_index=TFS, method="random", seed=0)
    n = N_GENES
    test_pos = sp.test_pairs[:, sp.test_labels == 1]
    val_pos = sp.val_pairs[:, sp.val_labels == 1]
    assert not np.isin(_keys_of(test_pos, n), _keys_of(sp.train_pos, n)).any()
    assert not np.isin(_keys_of(val_pos, n), _keys_of(sp.train_pos, n)).any()
    assert sp.train_pos.shape[1] + test_pos.shape[1] + val_pos.shape[1] == pos.shape[1]
    assert abs(test_pos.shape[1] - 0.2 * pos.shape[1]) <= 1
    # test negatives are true non-edges, and no self-pairs anywhere
    neg = sp.test_pairs[:, sp.test_labels == 0]
    assert not np.isin(_keys_of(neg, n), _keys_of(pos, n)).any()
    assert (sp.test_pairs[0] != sp.test_pairs[1]).all()


def test_heldout_tf_split_hides_whole_tfs():
    pos = _pos()
    sp = split_edges(pos, n_genes=N_GENES, tf_index=TFS, method="tf", fractions=(0.5, 0.17, 0.33),
                     seed=1)
    test_tfs = np.unique(sp.test_pairs[0])
    assert len(test_tfs) == 2
    assert not np.isin(sp.train_pos[0], test_tfs).any()
    assert not np.isin(sp.neg_sources, test_tfs).any()
    # every candidate pair of a test TF is in the test set, labelled from the network
    assert sp.test_pairs.shape[1] == len(test_tfs) * (N_GENES - 1)
    assert sp.test_labels.sum() == np.isin(pos[0], test_tfs).sum()


def test_heldout_target_split():
    sp = split_edges(_pos(), n_genes=N_GENES, tf_index=TFS, method="target", seed=0)
    test_targets = np.unique(sp.test_pairs[1])
    assert not np.isin(sp.train_pos[1], test_targets).any()
    assert not np.isin(sp.neg_targets, test_targets).any()


def test_split_is_seeded():
    a = split_edges(_pos(), n_genes=N_GENES, tf_index=TFS, seed=3)
    b = split_edges(_pos(), n_genes=N_GENES, tf_index=TFS, seed=3)
    c = split_edges(_pos(), n_genes=N_GENES, tf_index=TFS, seed=4)
    np.testing.assert_array_equal(a.test_pairs, b.test_pairs)
    assert not np.array_equal(a.test_pairs, c.test_pairs)


def test_split_errors():
    with pytest.raises(InputError, match="not a TF"):
        split_edges(np.array([[10], [2]]), n_genes=N_GENES, tf_index=TFS)
    with pytest.raises(InputError, match="split="):
        split_edges(_pos(), n_genes=N_GENES, tf_index=TFS, method="cells")
    with pytest.raises(InputError, match="summing to 1"):
        split_edges(_pos(), n_genes=N_GENES, tf_index=TFS, fractions=(0.5, 0.1, 0.1))


def test_negatives_avoid_positives_and_self_pairs():
    torch.manual_seed(0)
    pos = _pos()
    neg = sample_negatives(pos, sources=TFS, targets=np.arange(N_GENES), num=30).numpy()
    assert neg.shape[1] > 20
    assert np.isin(neg[0], TFS).all()
    assert not np.isin(_keys_of(neg, N_GENES), _keys_of(pos, N_GENES)).any()
    assert (neg[0] != neg[1]).all()
    # re-drawn: a second call gives other pairs
    neg2 = sample_negatives(pos, sources=TFS, targets=np.arange(N_GENES), num=30).numpy()
    assert not np.array_equal(neg, neg2)


def test_split_from_named_pairs_and_leak_check():
    genes = [f"g{i}" for i in range(5)]
    tr = pd.DataFrame({"source": ["g0", "g0", "g1"], "target": ["g2", "g3", "g4"], "label": [1, 0, 1]})
    te = pd.DataFrame({"source": ["g0", "g1"], "target": ["g4", "g2"], "label": [1, 0]})
    sp = split_from_pairs({"train": tr, "test": te}, genes=genes, tf_index=[0, 1])
    assert sp.train_pos.tolist() == [[0, 1], [2, 4]]
    assert sp.train_neg.tolist() == [[0], [3]]
    assert sp.test_labels.tolist() == [1, 0]
    leak = pd.DataFrame({"source": ["g0"], "target": ["g2"], "label": [1]})
    with pytest.raises(InputError, match="leaks"):
        split_from_pairs({"train": tr, "test": leak}, genes=genes, tf_index=[0, 1])
    with pytest.raises(InputError, match="absent"):
        split_from_pairs({"train": tr, "test": te.assign(target=["zz", "g2"])}, genes=genes,
                         tf_index=[0, 1])


def test_message_graph_is_undirected_without_self_loops():
    ei = message_graph(4, np.array([[0, 1, 2], [1, 1, 3]])).numpy()
    pairs = set(map(tuple, ei.T))
    assert pairs == {(0, 1), (1, 0), (2, 3), (3, 2)}
