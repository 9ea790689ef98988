"""One-hot encoding, reverse complement, dinucleotide shuffles, augmentation, splits."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnngeno import InputError
from gnngeno.data import (
    SequenceDataset,
    add_shuffled_negatives,
    augment,
    decode_one_hot,
    dinucleotide_shuffle,
    one_hot_encode,
    reverse_complement,
    simulate_sequences,
    split_indices,
)

dna = st.text(alphabet="ACGTN", min_size=1, max_size=80)


def _dinucs(s: str) -> Counter:
    return Counter(s[i:i + 2] for i in range(len(s) - 1))


def test_one_hot_values_and_padding():
    X = one_hot_encode(["ACgtN", "AC"], length=5, pad="right")
    assert X.shape == (2, 4, 5) and X.dtype == torch.float32
    np.testing.assert_array_equal(X[0, :, :4].argmax(0).numpy(), [0, 1, 2, 3])
    assert torch.all(X[0, :, 4] == 0.25)
    assert torch.all(X[1, :, 2:] == 0)  # padding is all-zero
    assert X[1].sum() == 2


def test_one_hot_crops_centre():
    X = one_hot_encode(["AAACGTAAA"], length=3)
    assert decode_one_hot(X) == ["CGT"]


def test_one_hot_errors():
    with pytest.raises(InputError, match="unequal lengths"):
        one_hot_encode(["ACG", "ACGT"])
    with pytest.raises(InputError, match="letters other than"):
        one_hot_encode(["ACGX"])


@settings(max_examples=50, deadline=None)
@given(st.lists(dna, min_size=1, max_size=5))
def test_reverse_complement_properties(seqs):
    rc = reverse_complement(seqs)
    assert reverse_complement(rc) == seqs
    L = max(map(len, seqs))
    X = one_hot_encode(seqs, length=L, pad="right")
    Xrc = one_hot_encode(rc, length=L, pad="left")
    assert torch.equal(reverse_complement(X), Xrc)
    assert torch.equal(reverse_complement(reverse_complement(X)), X)


def test_reverse_complement_string():
    assert reverse_complement("AACGTN") == "NACGTT"


@settings(max_examples=60, deadline=None)
@given(dna, st.integers(0, 1000))
def test_dinucleotide_shuffle_keeps_dinucleotides(s, seed):
    shuffles = dinucleotide_shuffle(s, n=3, seed=seed)
    for t in shuffles:
        assert len(t) == len(s)
        assert _dinucs(t) == _dinucs(s)
        assert t[0] == s[0] and t[-1] == s[-1]
        assert Counter(t) == Counter(s)


def test_dinucleotide_shuffle_shuffles_and_repeats():
    s = "ACGTTGCAAGGCTTACGATCGATCGGGATTACA" * 3
    a = dinucleotide_shuffle([s] * 20, seed=1)
    assert len(set(a)) > 15 and s not in a
    assert a == dinucleotide_shuffle([s] * 20, seed=1)
    seqs, y = add_shuffled_negatives([s, s[::-1]], seed=0)
    assert len(seqs) == 4 and y.tolist() == [1, 1, 0, 0]


def test_augment_shift_and_rc():
    X = one_hot_encode(["AACGTTTG"] * 50)
    g = torch.Generator().manual_seed(0)
    A = augment(X, reverse_complement=True, max_shift=0, generator=g)
    rc = reverse_complement(X[0])
    n_rc = sum(torch.equal(a, rc) for a in A)
    assert 10 < n_rc < 40 and all(torch.equal(a, X[0]) or torch.equal(a, rc) for a in A)
    S = augment(X, reverse_complement=False, max_shift=2, generator=g)
    assert S.shape == X.shape
    assert torch.all(S.sum(1) <= 1) and (S.sum((1, 2)) >= 6).all()  # at most 2 bp lost


def test_split_indices_default_70_10_20():
    tr, va, te = split_indices(1000, seed=0)
    assert (len(tr), len(va), len(te)) == (700, 100, 200)
    assert len(np.intersect1d(tr, va)) == 0 and len(np.union1d(np.union1d(tr, va), te)) == 1000
    y = np.r_[np.ones(100), np.zeros(900)]
    tr, va, te = split_indices(1000, stratify=y, seed=0)
    assert y[va].sum() == 10 and y[te].sum() == 20
    with pytest.raises(InputError):
        split_indices(10, (0.5, 0.6))


def test_dataset_and_simulation():
    seqs, y, pos = simulate_sequences(40, 30, motif="TATGCAAAT", seed=0)
    assert y.sum() == 20 and all(seqs[i][p:p + 9] == "TATGCAAAT" for i, p in enumerate(pos)
                                 if p >= 0)
    ds = SequenceDataset(seqs, y)
    x, t = ds[3]
    assert x.shape == (4, 30) and t.shape == (1,)
    with pytest.raises(InputError, match="targets"):
        SequenceDataset(seqs, y[:5])
