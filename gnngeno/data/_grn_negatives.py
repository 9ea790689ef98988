"""Test negatives of GRN splits: uniform over the candidate space, or degree-matched so that a
score that knows only degrees ranks them at chance (see :mod:`gnngeno.data._grn_splits`)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from .._validate import InputWarning
from ._link_split import _keys_of


def pair_keys(pairs: np.ndarray, n_genes: int, *, undirected: bool = False) -> np.ndarray:
    """One integer per pair (``source * n_genes + target``); with ``undirected=True`` the
    smaller position comes first, so ``(u, v)`` and ``(v, u)`` get the same key."""
    p = np.asarray(pairs, dtype=np.int64).reshape(2, -1)
    if undirected:
        p = np.stack([p.min(axis=0), p.max(axis=0)])
    return _keys_of(p, n_genes)


def _forbidden(n: int, undirected: bool, *pair_sets: np.ndarray) -> np.ndarray:
    parts = [pair_keys(p, n, undirected=undirected) for p in pair_sets if p is not None]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def _allowed(pairs: np.ndarray, n: int, undirected: bool, forbidden: np.ndarray) -> np.ndarray:
    return (pairs[0] != pairs[1]) & ~np.isin(pair_keys(pairs, n, undirected=undirected), forbidden)


def degree_matched_pairs(
    positives: np.ndarray,
    *,
    n_genes: int,
    num: int | None = None,
    forbidden: Sequence[np.ndarray] = (),
    candidates: np.ndarray | None = None,
    undirected: bool = False,
    seed: int = 0,
    max_rounds: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """Test positives and negatives whose TF out-degree and target in-degree distributions
    are the same.

    Negatives are a configuration-model draw: the positives' TFs (each used once per round of
    ``len(positives)`` negatives) are paired with a random permutation of their targets, and a
    pair that is a self-pair, a repeat, ``forbidden`` (in both directions when
    ``undirected``) or outside ``candidates`` swaps its target with another pair's, as long
    as both pairs stay allowed (up to ``max_rounds`` attempts per pair). Swaps keep every
    gene's count among the negatives' TFs and targets exactly that of the positives, so that a
    score that knows only degrees ranks them at chance.

    On a dense reference a TF or a target can have more test positives than free pairs left:
    the negatives that cannot be placed are dropped, then positives and negatives are trimmed,
    alternately by TF and by target (first the pairs whose other gene is most
    over-represented), until every TF and every target has as many negatives as positives
    (``num / E`` times as many). The scored subset is smaller but stays matched, instead of
    leaving the negatives short of hub TFs and targets, which would hand a degree-only score
    the win.

    Parameters
    ----------
    positives
        ``(2, E)`` test positives.
    n_genes
        Number of genes.
    num
        Negatives wanted (default ``E``: one per positive).
    forbidden
        Pair arrays never returned (all positives of the reference, training pairs, ...).
    candidates
        ``(2, C)`` pairs the negatives must come from (e.g. the held-out part of an inductive
        split); ``None``: any pair.
    undirected
        Treat ``(u, v)`` and ``(v, u)`` as the same pair.
    seed
        Seed of the draws.

    Returns
    -------
    ``(kept positives, negatives)``, ``(2, E')`` and ``(2, ~ E' * num / E)`` int64 pairs;
    ``E' < E`` only when some TF's or target's positives could not all be matched (an
    ``InputWarning`` says how many were left out).
    """
    pos = np.asarray(positives, dtype=np.int64).reshape(2, -1)
    n_pos = pos.shape[1]
    num = n_pos if num is None else int(num)
    if n_pos == 0 or num <= 0:
        return pos, np.zeros((2, 0), np.int64)
    rng = np.random.default_rng(seed)
    src, tgt, valid = _swap_draw(pos, n_genes, num, rng, max_rounds, undirected,
                                 set(_forbidden(n_genes, undirected, pos, *forbidden).tolist()),
                                 None if candidates is None else set(
                                     pair_keys(candidates, n_genes, undirected=undirected).tolist()))
    kept, neg = _matched_subsets(pos, np.stack([src[valid], tgt[valid]]), num / n_pos)
    if kept.shape[1] < n_pos:
        warnings.warn(f"degree-matched negatives: {n_pos - kept.shape[1]} of {n_pos} test "
                      "positives were left out, with as many negatives, because their TFs or "
                      "targets have too few free pairs (a dense reference); the remaining "
                      "positives and negatives have the same TFs and targets.", InputWarning,
                      stacklevel=2)
    return kept, neg


def _swap_draw(pos, n, num, rng, max_rounds, undirected, bad, allowed):
    """Configuration-model pairs of ``pos``' TFs and targets, repaired by target swaps;
    ``(sources, targets, valid)``."""
    reps = -(-num // pos.shape[1])
    src = np.concatenate([rng.permutation(pos[0]) for _ in range(reps)])[:num].tolist()
    tgt = np.concatenate([rng.permutation(pos[1]) for _ in range(reps)])[:num].tolist()

    def key(u, v):
        return min(u, v) * n + max(u, v) if undirected else u * n + v

    def free(u, v, k, used):
        return (u != v and k not in bad and k not in used
                and (allowed is None or k in allowed))

    used, valid = set(), np.zeros(num, bool)
    for i in range(num):
        k = key(src[i], tgt[i])
        if free(src[i], tgt[i], k, used):
            used.add(k)
            valid[i] = True
    for _ in range(max_rounds):
        todo = np.flatnonzero(~valid)
        if len(todo) == 0:
            break
        for i, j in zip(todo.tolist(), rng.integers(0, num, len(todo)).tolist(),
                        strict=True):
            if valid[i] or i == j:
                continue
            ki, kj = key(src[i], tgt[j]), key(src[j], tgt[i])
            if not free(src[i], tgt[j], ki, used):
                continue
            j_ok = kj != ki and free(src[j], tgt[i], kj, used)
            if valid[j]:
                if not j_ok:  # a placed pair is only moved to another allowed pair
                    continue
                used.discard(key(src[j], tgt[j]))
            tgt[i], tgt[j] = tgt[j], tgt[i]
            valid[i], valid[j] = True, j_ok
            used.add(ki)
            if j_ok:
                used.add(kj)
    return np.asarray(src, np.int64), np.asarray(tgt, np.int64), valid


def _trim(keep: np.ndarray, pairs: np.ndarray, side: int, want: np.ndarray,
          excess: np.ndarray) -> None:
    """Drop (in ``keep``) pairs whose gene on ``side`` has more kept pairs than ``want`` says,
    those whose gene on the other side has the largest ``excess`` first."""
    have = np.bincount(pairs[side, keep], minlength=len(want))
    for g in np.flatnonzero(have > want).tolist():
        live = np.flatnonzero(keep & (pairs[side] == g))
        other = pairs[1 - side, live]
        drop = live[np.argsort(-excess[other], kind="stable")[:have[g] - want[g]]]
        keep[drop] = False
        np.subtract.at(excess, pairs[1 - side, drop], 1)


def _matched_subsets(pos: np.ndarray, neg: np.ndarray, ratio: float,
                     max_iter: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Positives and negatives left once every TF and every target has ``ratio`` times as many
    negatives as positives (up to rounding): pairs of the over-represented side are dropped,
    alternately by TF and by target, those whose other gene is most over-represented first."""
    n = int(max(pos.max(initial=0), neg.max(initial=0))) + 1
    kp, kn = np.ones(pos.shape[1], bool), np.ones(neg.shape[1], bool)
    for _ in range(max_iter):
        changed = False
        for side in (0, 1):
            cp = np.bincount(pos[side, kp], minlength=n)
            cn = np.bincount(neg[side, kn], minlength=n)
            if (np.round(cn / ratio) == cp).all():
                continue
            changed = True
            other = 1 - side
            ex_p = (np.bincount(pos[other, kp], minlength=n)
                    - np.bincount(neg[other, kn], minlength=n) / ratio)
            _trim(kp, pos, side, np.minimum(cp, np.floor(cn / ratio + 1e-9)).astype(np.int64),
                  ex_p)
            _trim(kn, neg, side, np.minimum(cn, np.floor(cp * ratio + 1e-9)).astype(np.int64),
                  -ex_p * ratio)
        if not changed:
            break
    return pos[:, kp], neg[:, kn]


def degree_matched_negatives(
    positives: np.ndarray,
    *,
    n_genes: int,
    num: int,
    forbidden: Sequence[np.ndarray] = (),
    undirected: bool = False,
    seed: int = 0,
    max_rounds: int = 100,
) -> np.ndarray:
    """The negatives of :func:`degree_matched_pairs` (``(2, <= num)`` int64 pairs).

    When a TF's negatives cannot all be placed, its distribution is matched only together
    with the positives :func:`degree_matched_pairs` keeps: use that function to score.
    """
    return degree_matched_pairs(positives, n_genes=n_genes, num=num, forbidden=forbidden,
                                undirected=undirected, seed=seed, max_rounds=max_rounds)[1]


def uniform_negatives(
    candidates: np.ndarray,
    *,
    n_genes: int,
    num: int | None = None,
    forbidden: Sequence[np.ndarray] = (),
    undirected: bool = False,
    seed: int = 0,
) -> np.ndarray:
    """The ``candidates`` that are not ``forbidden`` (in both directions when ``undirected``),
    all of them (``num=None``: the full candidate space) or ``num`` drawn uniformly."""
    cand = np.asarray(candidates, dtype=np.int64).reshape(2, -1)
    cand = cand[:, _allowed(cand, n_genes, undirected, _forbidden(n_genes, undirected, *forbidden))]
    if undirected:
        _, first = np.unique(pair_keys(cand, n_genes, undirected=True), return_index=True)
        cand = cand[:, np.sort(first)]
    if num is None or num >= cand.shape[1]:
        return cand
    pick = np.random.default_rng(seed).choice(cand.shape[1], int(num), replace=False)
    return cand[:, np.sort(pick)]


def _test_negatives(test_pos, candidates, *, n, negatives, ratio, forbidden, undirected,
                    tfs_with_positive, seed) -> tuple[np.ndarray, np.ndarray]:
    """``(test positives, test negatives)``; degree-matched negatives may leave positives out
    (:func:`degree_matched_pairs`)."""
    if tfs_with_positive:
        candidates = candidates[:, np.isin(candidates[0], test_pos[0])]
    if negatives == "uniform":
        num = None if ratio is None else int(round(ratio * test_pos.shape[1]))
        return test_pos, uniform_negatives(candidates, n_genes=n, num=num, forbidden=forbidden,
                                           undirected=undirected, seed=seed)
    num = int(round((1.0 if ratio is None else ratio) * test_pos.shape[1]))
    # inside the part's candidate space (e.g. a held-out TF's pairs)
    return degree_matched_pairs(test_pos, n_genes=n, num=num, forbidden=forbidden,
                                candidates=candidates, undirected=undirected, seed=seed)


__all__ = ["degree_matched_negatives", "degree_matched_pairs", "pair_keys",
           "uniform_negatives"]
