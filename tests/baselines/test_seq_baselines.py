"""GC content, k-mer counts and logistic-regression baselines."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from gnngeno import InputError
from gnngeno.baselines import (
    SequenceLogisticRegression,
    gc_content,
    gc_logistic_regression,
    kmer_counts,
    kmer_logistic_regression,
    kmer_names,
)
from gnngeno.data import add_shuffled_negatives, simulate_sequences


def test_gc_content():
    np.testing.assert_allclose(gc_content(["GGCA", "ATAT", "GCNN"]), [0.75, 0.0, 1.0])
    assert np.isnan(gc_content(["NNN"])[0])


def test_kmer_counts_by_hand():
    X = kmer_counts(["ACGTN", "AAC"], k=2, both_strands=False, normalize=False).toarray()
    names = kmer_names(2)
    assert X.shape == (2, 4 + 16) and len(names) == 20
    row = dict(zip(names, X[0], strict=True))
    assert row["A"] == row["C"] == row["G"] == row["T"] == 1
    assert row["AC"] == row["CG"] == row["GT"] == 1 and row["TT"] == 0
    assert X[0].sum() == 4 + 3  # k-mers with N are skipped
    both = kmer_counts(["AAC"], k=[3], both_strands=True, normalize=False).toarray()[0]
    names3 = kmer_names([3])
    assert both[names3.index("AAC")] == 1 and both[names3.index("GTT")] == 1
    # unequal lengths are fine
    assert kmer_counts(["ACGT", "ACGTAC"], k=1).shape == (2, 4)


def test_kmer_lr_learns_motif_gc_does_not():
    seqs, y, _ = simulate_sequences(300, 50, motif="TATGCAAAT", seed=0)
    test, yt, _ = simulate_sequences(200, 50, motif="TATGCAAAT", seed=1)
    km = kmer_logistic_regression(k=4).fit(seqs, y)
    assert roc_auc_score(yt, km.predict(test)) > 0.9
    # dinucleotide-shuffled negatives keep GC content exactly: GC alone is at chance
    X, lab = add_shuffled_negatives([s for s, t in zip(seqs, y, strict=True) if t == 1], seed=0)
    gc = gc_logistic_regression().fit(X, lab)
    assert abs(roc_auc_score(lab, gc.predict(X)) - 0.5) < 0.05


def test_baseline_errors():
    with pytest.raises(InputError, match="binary labels"):
        SequenceLogisticRegression(k=2).fit(["ACGT", "AAAA"], [1, 1])
    with pytest.raises(InputError, match="features"):
        SequenceLogisticRegression("pwm")
    with pytest.raises(RuntimeError, match="not fitted"):
        SequenceLogisticRegression().predict(["ACGT"])
