"""GRN benchmark splits: no test edge reaches training (in either direction for undirected
references), no test pair among training negatives, and degree-matched negatives that
degree alone cannot rank."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gnngeno import InputError, InputWarning
from gnngeno.baselines import degree_scores
from gnngeno.data import (
    LinkSplit,
    cross_reference_split,
    degree_matched_negatives,
    degree_matched_pairs,
    pair_keys,
    split_grn,
    split_leaks,
    training_negatives,
)
from gnngeno.metrics import auroc

N, TFS = 150, np.arange(10)


def _network(seed: int, n_edges: int = 300) -> np.ndarray:
    """A TF -> gene network with skewed TF out-degrees (a few hubs)."""
    rng = np.random.default_rng(seed)
    w = np.r_[np.full(3, 8.0), np.ones(len(TFS) - 3)]
    src = rng.choice(TFS, n_edges, p=w / w.sum())
    tgt = rng.integers(0, N, n_edges)
    pos = np.stack([src, tgt])
    return np.unique(pos[:, pos[0] != pos[1]], axis=1)


def _keys(pairs: np.ndarray) -> np.ndarray:
    return pair_keys(pairs, N)


def _check_sound(sp: LinkSplit, reference: np.ndarray, undirected: bool) -> None:
    assert all(v == 0 for v in split_leaks(sp).values()), split_leaks(sp)
    test_pos = sp.test_pairs[:, sp.test_labels == 1]
    test_neg = sp.test_pairs[:, sp.test_labels == 0]
    train = _keys(sp.train_pos)
    assert not np.isin(_keys(test_pos), train).any()
    if undirected:
        assert not np.isin(_keys(test_pos[::-1]), train).any()
        assert not np.isin(pair_keys(test_neg, N, undirected=True),
                           pair_keys(reference, N, undirected=True)).any()
    assert not np.isin(_keys(test_neg), _keys(reference)).any()  # a negative is no known edge
    assert not np.isin(_keys(sp.test_pairs), _keys(sp.val_pairs)).any()
    neg = training_negatives(sp, 200, seed=1)  # drawn after the split
    assert not np.isin(_keys(neg), _keys(sp.test_pairs)).any()
    assert not np.isin(_keys(neg), _keys(sp.val_pairs)).any()
    assert not np.isin(_keys(neg), train).any()
    if undirected:
        assert not np.isin(pair_keys(neg, N, undirected=True),
                           pair_keys(sp.test_pairs, N, undirected=True)).any()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["random", "tf", "target", "both"]),
       negatives=st.sampled_from(["uniform", "degree-matched"]), undirected=st.booleans(),
       tfs_with_positive=st.booleans())
def test_every_split_keeps_test_pairs_out_of_training(seed, method, negatives, undirected,
                                                      tfs_with_positive):
    pos = _network(seed % 7)
    try:
        sp = split_grn(pos, n_genes=N, tf_index=TFS, method=method, negatives=negatives,
                       undirected=undirected, tfs_with_positive=tfs_with_positive, seed=seed)
    except InputError:  # a draw without a test positive: refused, not silently empty
        return
    _check_sound(sp, pos, undirected)
    test_pos = sp.test_pairs[:, sp.test_labels == 1]
    if method in ("tf", "both"):  # a held-out TF has no training edge
        assert not np.isin(test_pos[0], sp.train_pos[0]).any()
    if method in ("target", "both"):
        assert not np.isin(test_pos[1], sp.train_pos[1]).any()
    if method == "both":  # neither end of a test pair is in the training graph
        seen = np.unique(sp.train_pos)
        assert not np.isin(sp.test_pairs, seen).any()
    if tfs_with_positive:
        assert np.isin(sp.test_pairs[0], test_pos[0]).all()


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), negatives=st.sampled_from(["uniform", "degree-matched"]),
       undirected=st.booleans())
def test_cross_reference_tests_new_edges_only(seed, negatives, undirected):
    a, b = _network(seed % 5), _network(seed % 5 + 1)
    sp = cross_reference_split(a, b, n_genes=N, tf_index=TFS, negatives=negatives,
                               undirected=undirected, seed=seed)
    _check_sound(sp, np.concatenate([a, b], axis=1), undirected)
    test_pos = sp.test_pairs[:, sp.test_labels == 1]
    assert np.isin(_keys(test_pos), _keys(b)).all()
    assert not np.isin(pair_keys(test_pos, N, undirected=undirected),
                       pair_keys(a, N, undirected=undirected)).any()
    assert np.isin(_keys(sp.train_pos), _keys(a)).all()
    assert sp.method == "cross-reference"


def test_split_leaks_detects_a_leaking_split():
    pos = _network(0)
    sp = split_grn(pos, n_genes=N, tf_index=TFS, method="random", seed=0)
    test_pos = sp.test_pairs[:, sp.test_labels == 1]
    sp.train_pos = np.concatenate([sp.train_pos, test_pos[:, :2]], axis=1)
    sp.train_neg = sp.test_pairs[:, -3:]
    leaks = split_leaks(sp)
    assert leaks["test_pos_in_train"] == 2 and leaks["test_pairs_in_train_neg"] == 3
    und = split_grn(pos, n_genes=N, tf_index=TFS, undirected=True, seed=0)
    t = und.test_pairs[:, und.test_labels == 1][:, :1]
    und.train_pos = np.concatenate([und.train_pos, t[::-1]], axis=1)
    assert split_leaks(und)["test_pos_reversed_in_train"] == 1


def test_undirected_reference_drops_reversed_training_edges():
    pos = _network(3)
    both_ways = np.unique(np.concatenate([pos, pos[::-1][:, np.isin(pos[1], TFS)]], axis=1),
                          axis=1)
    directed = split_grn(both_ways, n_genes=N, tf_index=TFS, seed=2)
    undirected = split_grn(both_ways, n_genes=N, tf_index=TFS, undirected=True, seed=2)
    t = directed.test_pairs[:, directed.test_labels == 1]
    assert np.isin(_keys(t[::-1]), _keys(directed.train_pos)).any()  # a directed split keeps them
    t = undirected.test_pairs[:, undirected.test_labels == 1]
    assert not np.isin(_keys(t[::-1]), _keys(undirected.train_pos)).any()


def test_degree_matched_negatives_defeat_degree_only():
    pos = _network(1, n_edges=400)
    ranks = {}
    for neg in ("uniform", "degree-matched"):
        sp = split_grn(pos, n_genes=N, tf_index=TFS, method="random", negatives=neg, seed=0)
        S = degree_scores(sp.train_pos, N, TFS)
        ranks[neg] = auroc(sp.test_labels, S[sp.test_pairs[0], sp.test_pairs[1]])
        if neg == "degree-matched":  # same marginals: sources and targets of test positives
            tp = sp.test_pairs[:, sp.test_labels == 1]
            tn = sp.test_pairs[:, sp.test_labels == 0]
            assert np.isin(tn[0], tp[0]).all() and np.isin(tn[1], tp[1]).all()
            assert abs(tn.shape[1] - tp.shape[1]) <= 0.1 * tp.shape[1]
    assert ranks["uniform"] > 0.7
    assert abs(ranks["degree-matched"] - 0.5) < ranks["uniform"] - 0.5 - 0.1


def _counts(pairs: np.ndarray, side: int) -> np.ndarray:
    return np.bincount(pairs[side], minlength=N)


def test_degree_matched_pairs_have_exactly_the_positives_tfs_and_targets():
    rng = np.random.default_rng(3)  # sparse, no hub: every negative can be placed
    pairs = np.unique(np.stack([rng.choice(TFS, 250), rng.integers(10, N, 250)]), axis=1)
    pos, forbid = pairs[:, :150], pairs[:, 150:]  # forbid: e.g. training edges
    kept, neg = degree_matched_pairs(pos, n_genes=N, forbidden=[forbid], seed=1)
    assert kept.shape[1] == neg.shape[1] == pos.shape[1]  # a sparse network: nothing left out
    np.testing.assert_array_equal(_counts(neg, 0), _counts(pos, 0))
    np.testing.assert_array_equal(_counts(neg, 1), _counts(pos, 1))
    assert not np.isin(_keys(neg), _keys(np.concatenate([pos, forbid], axis=1))).any()
    assert len(np.unique(_keys(neg))) == neg.shape[1] and (neg[0] != neg[1]).all()
    # inside a candidate space (e.g. a held-out part): only its pairs
    cand = np.stack(np.meshgrid(TFS, np.arange(0, N, 2))).reshape(2, -1)
    sub = pos[:, pos[1] % 2 == 0]
    kept, neg = degree_matched_pairs(sub, n_genes=N, candidates=cand, seed=1)
    assert np.isin(_keys(neg), _keys(cand)).all()
    np.testing.assert_array_equal(_counts(neg, 1), _counts(kept, 1))


def test_dense_reference_keeps_a_matched_subset_that_degree_only_cannot_rank():
    # 10 TFs x 40 targets, the hub TFs regulate almost every target: their test positives
    # outnumber their free pairs, so a plain draw would leave hubs out of the negatives
    rng = np.random.default_rng(0)
    n_t = 40
    dense = np.array([[t, g] for t in range(10) for g in range(10, 10 + n_t)
                      if rng.random() < (0.95 if t < 3 else 0.3)]).T
    test = rng.random(dense.shape[1]) < 0.3
    train, test_pos = dense[:, ~test], dense[:, test]
    with pytest.warns(InputWarning, match="left out"):
        kept, neg = degree_matched_pairs(test_pos, n_genes=N, forbidden=[dense], seed=0)
    assert 0 < kept.shape[1] < test_pos.shape[1] and kept.shape[1] == neg.shape[1]
    np.testing.assert_array_equal(_counts(neg, 0), _counts(kept, 0))
    np.testing.assert_array_equal(_counts(neg, 1), _counts(kept, 1))
    assert np.isin(_keys(kept), _keys(test_pos)).all()
    # any score that adds a TF term and a target term has the same mean on both sides
    S = np.log(degree_scores(train, N, np.arange(10)))  # log(1 + out) + log(1 + in)
    assert S[kept[0], kept[1]].mean() == pytest.approx(S[neg[0], neg[1]].mean())
    again = degree_matched_pairs(test_pos, n_genes=N, forbidden=[dense], seed=0)
    np.testing.assert_array_equal(again[1], neg)


def test_degree_matched_negatives_avoid_forbidden_pairs_and_repeat_with_seed():
    pos = _network(2)
    forbid = pos[:, :50][::-1]
    a = degree_matched_negatives(pos, n_genes=N, num=100, forbidden=[forbid], undirected=True,
                                 seed=4)
    b = degree_matched_negatives(pos, n_genes=N, num=100, forbidden=[forbid], undirected=True,
                                 seed=4)
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(pair_keys(a, N, undirected=True))) == a.shape[1]
    bad = pair_keys(np.concatenate([pos, forbid], axis=1), N, undirected=True)
    assert not np.isin(pair_keys(a, N, undirected=True), bad).any()
    assert (a[0] != a[1]).all()


def test_split_grn_refuses_unknown_options():
    pos = _network(0)
    with pytest.raises(InputError, match="negatives"):
        split_grn(pos, n_genes=N, tf_index=TFS, negatives="hard")
    with pytest.raises(InputError, match="split"):
        split_grn(pos, n_genes=N, tf_index=TFS, method="cross-reference")
    with pytest.raises(InputError, match="training edge"):
        cross_reference_split(pos, pos, n_genes=N, tf_index=TFS)
