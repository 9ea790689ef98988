"""Property-based tests (hypothesis) for sequence encoding and for the GRN, imputation and
clustering metrics."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gnngeno import InputError
from gnngeno.data import (
    decode_one_hot,
    dinucleotide_shuffle,
    one_hot_encode,
    reverse_complement,
)
from gnngeno.metrics import (
    auprc,
    auprc_ratio,
    auroc,
    density,
    early_precision,
    early_precision_ratio,
    grn_metrics,
    imputation_metrics,
    label_agreement,
)
from gnngeno.pp import HiddenEntries

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------------------ strategies
#: DNA over A, C, G, T (the one-hot round trip is exact on these letters).
acgt = st.text(alphabet="ACGT", min_size=1, max_size=60)
#: DNA with N and lower case, as users pass it.
dna = st.text(alphabet="ACGTNacgtn", min_size=1, max_size=60)
#: Several sequences of one length.
same_length = st.integers(1, 40).flatmap(
    lambda n: st.lists(st.text(alphabet="ACGTN", min_size=n, max_size=n), min_size=1,
                       max_size=8))
#: Strings holding at least one letter outside ACGTN.
bad_dna = st.tuples(st.text(alphabet="ACGT", max_size=10),
                    st.sampled_from(list("UXRYBDHVMKSW-. *0")),
                    st.text(alphabet="ACGT", max_size=10)).map("".join)


def _labels_scores(min_size: int = 2, max_size: int = 60):
    """(0/1 labels with at least one positive and one negative, finite scores) pairs."""
    return st.integers(min_size, max_size).flatmap(lambda n: st.tuples(
        arrays(np.int8, n, elements=st.integers(0, 1)).filter(lambda y: 0 < y.sum() < y.size),
        arrays(np.float64, n, elements=st.floats(-1e3, 1e3, allow_nan=False)),
    ))


labels_scores = _labels_scores()
#: Labels only (both classes present).
labels = st.integers(2, 60).flatmap(
    lambda n: arrays(np.int8, n, elements=st.integers(0, 1)).filter(lambda y: 0 < y.sum() < n))


# ------------------------------------------------------------------------------ one-hot
@SETTINGS
@given(seq=dna)
def test_one_hot_columns_sum_to_one(seq):
    X = one_hot_encode(seq).numpy()
    assert X.shape == (1, 4, len(seq))
    np.testing.assert_allclose(X.sum(1), 1.0)
    assert set(np.unique(X)) <= {0.0, 0.25, 1.0}
    n_cols = np.isclose(X[0], 0.25).all(0)
    assert n_cols.sum() == seq.upper().count("N")


@SETTINGS
@given(seqs=same_length)
def test_one_hot_decode_round_trip(seqs):
    X = one_hot_encode(seqs)
    assert tuple(X.shape) == (len(seqs), 4, len(seqs[0]))
    assert decode_one_hot(X) == seqs


@SETTINGS
@given(seqs=st.lists(dna, min_size=1, max_size=6), length=st.integers(1, 80),
       pad=st.sampled_from(["center", "right", "left"]))
def test_one_hot_crop_pad_to_length(seqs, length, pad):
    X = one_hot_encode(seqs, length=length, pad=pad).numpy()
    assert X.shape == (len(seqs), 4, length)
    # each column is one-hot, N (0.25 x 4) or padding (all zero)
    col = X.sum(1)
    assert np.all(np.isclose(col, 0) | np.isclose(col, 1))
    # number of non-padding columns is min(len, length)
    np.testing.assert_array_equal((col > 0).sum(1), [min(len(s), length) for s in seqs])


@SETTINGS
@given(seq=acgt)
def test_one_hot_is_row_order_equivariant(seq):
    seqs = [seq, seq[::-1]]
    a = one_hot_encode(seqs).numpy()
    b = one_hot_encode(seqs[::-1]).numpy()
    np.testing.assert_array_equal(a, b[::-1])


@SETTINGS
@given(seq=bad_dna)
def test_one_hot_refuses_other_letters(seq):
    with pytest.raises(InputError, match="letters other than A, C, G, T, N"):
        one_hot_encode(seq)


@SETTINGS
@given(a=st.integers(1, 30), b=st.integers(1, 30))
def test_one_hot_unequal_lengths_need_length(a, b):
    assume(a != b)
    with pytest.raises(InputError, match="unequal lengths"):
        one_hot_encode(["A" * a, "C" * b])
    assert one_hot_encode(["A" * a, "C" * b], length=max(a, b)).shape[-1] == max(a, b)


# ------------------------------------------------------------------------------ reverse complement
@SETTINGS
@given(seq=dna)
def test_reverse_complement_is_an_involution(seq):
    rc = reverse_complement(seq)
    assert len(rc) == len(seq)
    assert reverse_complement(rc) == seq
    assert Counter(rc.upper())["A"] == Counter(seq.upper())["T"]
    assert Counter(rc.upper())["G"] == Counter(seq.upper())["C"]


@SETTINGS
@given(seqs=same_length)
def test_reverse_complement_string_and_one_hot_agree(seqs):
    X = one_hot_encode(seqs)
    np.testing.assert_array_equal(reverse_complement(X).numpy(),
                                  one_hot_encode(reverse_complement(seqs)).numpy())
    np.testing.assert_array_equal(reverse_complement(X.numpy()), reverse_complement(X).numpy())
    np.testing.assert_array_equal(reverse_complement(reverse_complement(X)).numpy(), X.numpy())


# ------------------------------------------------------------------------------ dinucleotide shuffle
def _dinucs(s: str) -> Counter:
    return Counter(s[i:i + 2] for i in range(len(s) - 1))


@SETTINGS
@given(seq=st.text(alphabet="ACGTN", min_size=1, max_size=80), n=st.integers(1, 3),
       seed=st.integers(0, 2**31))
def test_dinucleotide_shuffle_keeps_dinucleotide_counts(seq, n, seed):
    out = dinucleotide_shuffle(seq, n=n, seed=seed)
    assert len(out) == n
    for s in out:
        assert len(s) == len(seq)
        assert s[0] == seq[0] and s[-1] == seq[-1]
        assert Counter(s) == Counter(seq)
        assert _dinucs(s) == _dinucs(seq)


@SETTINGS
@given(seqs=st.lists(st.text(alphabet="ACGT", min_size=1, max_size=40), min_size=1, max_size=5),
       seed=st.integers(0, 2**31))
def test_dinucleotide_shuffle_repeats_with_seed(seqs, seed):
    a = dinucleotide_shuffle(seqs, seed=seed)
    assert a == dinucleotide_shuffle(seqs, seed=seed)
    assert a == dinucleotide_shuffle([s.lower() for s in seqs], seed=seed)


# ------------------------------------------------------------------------------ GRN metrics
@SETTINGS
@given(y=labels)
def test_perfect_ranking_auroc_one_reversed_zero(y):
    perfect = y.astype(float) + np.linspace(0, 0.5, y.size)  # positives above all negatives
    assert auroc(y, perfect) == pytest.approx(1.0)
    assert auroc(y, -perfect) == pytest.approx(0.0)
    assert auprc(y, perfect) == pytest.approx(1.0)
    assert early_precision(y, perfect) == pytest.approx(1.0)
    assert auprc_ratio(y, perfect) == pytest.approx(1.0 / density(y))


@SETTINGS
@given(data=labels_scores, perm_seed=st.integers(0, 2**31))
def test_metrics_are_invariant_to_row_order(data, perm_seed):
    y, s = data
    p = np.random.default_rng(perm_seed).permutation(y.size)
    a, b = grn_metrics(y, s), grn_metrics(y[p], s[p])
    for k in a:
        assert a[k] == pytest.approx(b[k], abs=1e-12), k


@SETTINGS
@given(data=labels_scores)
def test_metric_ranges(data):
    y, s = data
    m = grn_metrics(y, s)
    assert 0.0 <= m["auroc"] <= 1.0
    assert 0.0 < m["auprc"] <= 1.0
    assert m["auprc_ratio"] >= 0.0
    assert m["epr"] >= 0.0
    assert 0.0 < m["density"] < 1.0
    assert m["density"] == pytest.approx(y.mean())
    assert m["n_pos"] == int(y.sum()) and m["n_candidates"] == y.size
    assert 0.0 <= early_precision(y, s) <= 1.0
    assert early_precision_ratio(y, s) == pytest.approx(early_precision(y, s) / density(y))


@SETTINGS
@given(data=labels_scores, scale=st.floats(0.01, 100), shift=st.floats(-100, 100))
def test_metrics_invariant_to_monotone_transform(data, scale, shift):
    y, s = data
    s = np.round(s, 3)  # keep ties exact under the affine map
    t = s * scale + shift
    assume(np.array_equal(np.argsort(s, kind="stable"), np.argsort(t, kind="stable")))
    assume(len(np.unique(s)) == len(np.unique(t)))
    assert auroc(y, s) == pytest.approx(auroc(y, t))
    assert auprc(y, s) == pytest.approx(auprc(y, t))


@SETTINGS
@given(y=labels)
def test_constant_scores_are_random(y):
    s = np.zeros(y.size)
    assert auroc(y, s) == pytest.approx(0.5)
    assert auprc(y, s) == pytest.approx(density(y))
    assert auprc_ratio(y, s) == pytest.approx(1.0)


@SETTINGS
@given(y=labels)
def test_auroc_of_complement_scores(y):
    rng = np.random.default_rng(int(y.sum()))
    s = rng.normal(size=y.size)
    assert auroc(y, s) + auroc(y, -s) == pytest.approx(1.0)


# ------------------------------------------------------------------------------ imputation metrics
masked_data = st.tuples(st.integers(3, 12), st.integers(3, 10), st.integers(0, 2**31)).map(
    lambda t: _masked(*t))


def _masked(n_cells: int, n_genes: int, seed: int):
    """Counts (every cell with >= 2 non-zeros), the hidden entries and the masked counts."""
    rng = np.random.default_rng(seed)
    X = rng.poisson(3.0, (n_cells, n_genes)).astype(np.float32)
    X[:, :2] += 1  # at least two non-zeros per cell
    nz = np.argwhere(X > 0)
    pick = nz[rng.choice(len(nz), size=max(1, len(nz) // 5), replace=False)]
    pick = pick[np.lexsort((pick[:, 1], pick[:, 0]))]
    masked = X.copy()
    masked[pick[:, 0], pick[:, 1]] = 0
    keep = masked.sum(1) > 0
    assume(keep.all())
    hidden = HiddenEntries(rows=pick[:, 0].astype(np.int64), cols=pick[:, 1].astype(np.int64),
                           values=X[pick[:, 0], pick[:, 1]], shape=X.shape, fraction=0.2,
                           seed=seed)
    return X, masked, hidden


def _truth(X, masked, target_sum=1e4):
    lib = masked.sum(1, keepdims=True)
    return np.log1p(X / lib * target_sum).astype(np.float32)


@SETTINGS
@given(data=masked_data)
def test_perfect_imputation_has_zero_error(data):
    X, masked, hidden = data
    imputed = _truth(X, masked)
    m = imputation_metrics(imputed, masked, hidden)
    assert m["median_l1"] == pytest.approx(0.0, abs=1e-5)
    assert m["rmse"] == pytest.approx(0.0, abs=1e-5)
    assert m["visible_rmse"] == pytest.approx(0.0, abs=1e-5)
    assert m["cosine"] == pytest.approx(1.0)
    assert m["n_hidden"] == len(hidden)


@SETTINGS
@given(data=masked_data, perm_seed=st.integers(0, 2**31), sparse_input=st.booleans())
def test_imputation_metrics_invariant_to_cell_order(data, perm_seed, sparse_input):
    X, masked, hidden = data
    rng = np.random.default_rng(perm_seed)
    imputed = _truth(X, masked) + rng.normal(0, 0.3, X.shape).astype(np.float32)
    p = rng.permutation(X.shape[0])
    inv = np.argsort(p)
    rows = inv[hidden.rows]
    order = np.lexsort((hidden.cols, rows))
    hidden_p = HiddenEntries(rows=rows[order], cols=hidden.cols[order],
                             values=hidden.values[order], shape=hidden.shape, fraction=0.2, seed=0)
    conv = sp.csr_matrix if sparse_input else np.asarray
    a = imputation_metrics(imputed, conv(masked), hidden)
    b = imputation_metrics(imputed[p], conv(masked[p]), hidden_p)
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-5, abs=1e-6, nan_ok=True), k


@SETTINGS
@given(data=masked_data, noise=st.floats(0.01, 1.0))
def test_imputation_errors_are_non_negative_and_grow_with_noise(data, noise):
    X, masked, hidden = data
    truth = _truth(X, masked)
    rng = np.random.default_rng(0)
    e = rng.normal(0, 1, X.shape).astype(np.float32)
    small = imputation_metrics(truth + noise * e, masked, hidden)
    big = imputation_metrics(truth + 3 * noise * e, masked, hidden)
    assert small["rmse"] >= 0 and small["median_l1"] >= 0
    assert big["rmse"] == pytest.approx(3 * small["rmse"], rel=1e-3)


# ------------------------------------------------------------------------------ clustering
cluster_labels = st.lists(st.integers(0, 4), min_size=4, max_size=40).filter(
    lambda v: len(set(v)) >= 2)


@SETTINGS
@given(y=cluster_labels, perm_seed=st.integers(0, 2**31))
def test_label_agreement_perfect_and_invariant(y, perm_seed):
    y = np.asarray(y)
    renamed = np.array([f"c{v * 7}" for v in y])
    assert label_agreement(y, renamed) == pytest.approx({"ari": 1.0, "nmi": 1.0})
    rng = np.random.default_rng(perm_seed)
    other = rng.integers(0, 3, y.size)
    p = rng.permutation(y.size)
    a, b = label_agreement(y, other), label_agreement(y[p], other[p])
    assert a == pytest.approx(b)
    assert label_agreement(y, other) == pytest.approx(label_agreement(other, y))
    assert -1.0 <= a["ari"] <= 1.0 and 0.0 <= a["nmi"] <= 1.0 + 1e-12


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k=st.integers(2, 4), per=st.integers(3, 8), seed=st.integers(0, 2**31),
       perm_seed=st.integers(0, 2**31))
def test_kmeans_scores_perfect_on_separated_groups_any_row_order(k, per, seed, perm_seed):
    from gnngeno.metrics import kmeans_scores

    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), per)
    X = y[:, None] * 100.0 + rng.normal(0, 0.1, (y.size, 2))
    p = np.random.default_rng(perm_seed).permutation(y.size)
    assert kmeans_scores(X, y, seed=0) == pytest.approx({"ari": 1.0, "nmi": 1.0})
    assert kmeans_scores(X[p], y[p], seed=0) == pytest.approx({"ari": 1.0, "nmi": 1.0})
