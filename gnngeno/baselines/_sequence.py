"""Hand-crafted sequence features and logistic regression: the baselines every sequence CNN is
compared with (GC content, a classic predictor of CpG-island methylation, Bock et al. 2006;
then k-mer counts)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from .._settings import resolve_seed
from .._validate import InputError, check_choice
from ..io._sequence import check_sequences

_CODE = np.full(256, 4, dtype=np.int64)
for _i, _c in enumerate("ACGT"):
    _CODE[ord(_c)] = _i


def _codes(seqs: list[str]) -> list[np.ndarray]:  # per-sequence letter codes (N -> 4)
    return [_CODE[np.frombuffer(s.encode("ascii"), np.uint8)] for s in seqs]


def gc_content(sequences: str | Sequence[str]) -> np.ndarray:
    """Fraction of G and C among the A/C/G/T letters of each sequence (``N`` ignored; NaN when
    a sequence has no A/C/G/T).

    Returns
    -------
    ``(N,)`` float array.
    """
    seqs = check_sequences(sequences)
    out = np.full(len(seqs), np.nan)
    for i, c in enumerate(_codes(seqs)):
        known = c < 4
        if known.any():
            out[i] = np.isin(c[known], (1, 2)).mean()
    return out


def _ks(k) -> list[int]:
    ks = list(range(1, int(k) + 1)) if np.isscalar(k) else [int(v) for v in k]
    if not ks or min(ks) < 1 or max(ks) > 10:
        raise InputError(f"k={k} must be an integer 1..10 or a list of them.")
    return ks


def kmer_names(k: int | Sequence[int] = 6) -> list[str]:
    """Names of the columns of :func:`kmer_counts` (all k-mers, lexicographic, per k)."""
    names = []
    for kk in _ks(k):
        idx = np.arange(4**kk)
        letters = np.array(list("ACGT"))
        digits = [(idx // 4 ** (kk - 1 - p)) % 4 for p in range(kk)]
        names += ["".join(t) for t in zip(*[letters[d] for d in digits], strict=True)]
    return names


def kmer_counts(sequences: str | Sequence[str], k: int | Sequence[int] = 6, *,
                both_strands: bool = True, normalize: bool = True) -> sp.csr_matrix:
    """Counts of every k-mer (k = 1..``k``, or the listed ``k``) in each sequence.

    Parameters
    ----------
    sequences
        Strings of ACGTN; k-mers containing ``N`` are skipped.
    k
        Largest k (all of 1..k are counted), or a list of k values.
    both_strands
        Add the counts of the reverse complement (strand-symmetric features).
    normalize
        Divide by the number of k-mer positions (frequencies instead of counts).

    Returns
    -------
    Sparse ``(N, sum 4^k)`` matrix; columns named by :func:`kmer_names`.
    """
    seqs = check_sequences(sequences)
    strands = [seqs]
    if both_strands:
        from ..data._sequence import reverse_complement

        strands.append(reverse_complement(seqs))
    lengths = np.array([len(s) for s in seqs])
    blocks = []
    for kk in _ks(k):
        weights = 4 ** np.arange(kk - 1, -1, -1)
        rows, cols, vals = [], [], []
        for L in np.unique(lengths):  # vectorised over sequences of one length
            members = np.flatnonzero(lengths == L)
            n_pos = L - kk + 1
            if n_pos <= 0:
                continue
            for strand in strands:
                codes = _CODE[np.frombuffer("".join(strand[i] for i in members).encode("ascii"),
                                            np.uint8)].reshape(len(members), L)
                win = np.lib.stride_tricks.sliding_window_view(codes, kk, axis=1)
                ok = (win < 4).all(2)
                idx = (win * weights).sum(2)
                r = np.broadcast_to(members[:, None], idx.shape)
                rows.append(r[ok])
                cols.append(idx[ok])
                vals.append(np.full(int(ok.sum()), 1.0 / (n_pos if normalize else 1.0)))
        m = sp.coo_matrix((np.concatenate(vals) if vals else np.zeros(0),
                           (np.concatenate(rows) if rows else np.zeros(0, int),
                            np.concatenate(cols) if cols else np.zeros(0, int))),
                          shape=(len(seqs), 4**kk)).tocsr()
        m.sum_duplicates()
        blocks.append(m)
    return sp.hstack(blocks, format="csr")


class SequenceLogisticRegression:
    """Logistic regression on hand-crafted sequence features.

    Parameters
    ----------
    features
        ``"kmer"`` (k-mer frequencies, k = 1..``k``) or ``"gc"`` (GC content only).
    k
        Largest k-mer length (or list of lengths).
    C
        Inverse L2 regularisation strength of :class:`sklearn.linear_model.LogisticRegression`;
        a list of values picks the best by validation AUROC on a held-out 10%.
    max_iter
        Solver iterations.
    seed
        Random seed for the held-out split.

    Examples
    --------
    >>> from gnngeno.data import simulate_sequences
    >>> seqs, y, _ = simulate_sequences(300, 60, seed=0)
    >>> lr = SequenceLogisticRegression(k=4).fit(seqs, y)
    >>> lr.predict(seqs).shape
    (300,)
    """

    def __init__(self, features: str = "kmer", *, k: int | Sequence[int] = 6,
                 C: float | Sequence[float] = (0.1, 1.0, 10.0), max_iter: int = 500,
                 seed: int | None = None) -> None:
        self.features = check_choice(features, ("kmer", "gc"), "features")
        self.k = k
        self.C = C
        self.max_iter = max_iter
        self.seed = resolve_seed(seed)

    def transform(self, sequences) -> sp.csr_matrix | np.ndarray:
        """The feature matrix of ``sequences``."""
        if self.features == "gc":
            gc = np.nan_to_num(gc_content(sequences), nan=0.5)
            return gc[:, None]
        X = kmer_counts(sequences, self.k)
        return X

    def fit(self, sequences, y) -> SequenceLogisticRegression:
        """Fit on strings ``sequences`` and binary labels ``y``."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import roc_auc_score
        from sklearn.preprocessing import MaxAbsScaler, StandardScaler

        y = np.asarray(y, dtype=float).ravel()
        if not np.isin(y, (0.0, 1.0)).all() or len(np.unique(y)) < 2:
            raise InputError("SequenceLogisticRegression needs binary labels 0/1 with both "
                             "classes present.")
        X = self.transform(sequences)
        self.scaler_ = (StandardScaler() if self.features == "gc" else MaxAbsScaler()).fit(X)
        X = self.scaler_.transform(X)
        Cs = [self.C] if np.isscalar(self.C) else list(self.C)
        best_c = Cs[0]
        if len(Cs) > 1:
            from ..data._sequence import split_indices

            tr, va = split_indices(len(y), (0.9, 0.1), stratify=y, seed=self.seed)
            scores = []
            for c in Cs:
                m = LogisticRegression(C=c, max_iter=self.max_iter).fit(X[tr], y[tr])
                scores.append(roc_auc_score(y[va], m.decision_function(X[va])))
            best_c = Cs[int(np.argmax(scores))]
            self.validation_auroc_ = dict(zip(Cs, scores, strict=True))
        self.C_ = best_c
        self.model_ = LogisticRegression(C=best_c, max_iter=self.max_iter).fit(X, y)
        return self

    def predict(self, sequences) -> np.ndarray:
        """Probability of the positive class, ``(N,)``."""
        if not hasattr(self, "model_"):
            raise RuntimeError("SequenceLogisticRegression is not fitted; call .fit() first.")
        return self.model_.predict_proba(self.scaler_.transform(self.transform(sequences)))[:, 1]


def kmer_logistic_regression(k: int | Sequence[int] = 6, **kwargs) -> SequenceLogisticRegression:
    """Shortcut: ``SequenceLogisticRegression("kmer", k=k, ...)``."""
    return SequenceLogisticRegression("kmer", k=k, **kwargs)


def gc_logistic_regression(**kwargs) -> SequenceLogisticRegression:
    """Shortcut: ``SequenceLogisticRegression("gc", ...)``."""
    return SequenceLogisticRegression("gc", **kwargs)
