"""DNA sequences as tensors: one-hot encoding, reverse complement, dinucleotide shuffles,
augmentation, splits and a torch ``Dataset``.

Sequences are one-hot ``(N, 4, L)`` float tensors (channels A, C, G, T; ``N`` is 0.25 in
every channel; padding is all-zero), as in tangermeme.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .._settings import resolve_seed
from .._validate import InputError, check_fractions
from ..io._sequence import check_sequences

ALPHABET = "ACGT"
_LUT = np.full(256, -1, dtype=np.int8)
for _i, _c in enumerate("ACGT"):
    _LUT[ord(_c)] = _i
    _LUT[ord(_c.lower())] = _i
_LUT[ord("N")] = 4
_LUT[ord("n")] = 4
_COMP = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def _fit_length(s: str, length: int, how: str) -> str:
    """Crop (centre) or pad (``how``: 'center', 'right' or 'left', padding with '.')."""
    n = len(s)
    if n > length:
        start = (n - length) // 2 if how == "center" else (0 if how == "right" else n - length)
        return s[start:start + length]
    if n < length:
        gap = length - n
        if how == "center":
            left = gap // 2
        elif how == "right":
            left = 0
        else:
            left = gap
        return "." * left + s + "." * (gap - left)
    return s


def one_hot_encode(sequences: str | Sequence[str], *, length: int | None = None,
                   pad: str = "center", dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """One-hot encode DNA sequences to an ``(N, 4, L)`` tensor.

    Parameters
    ----------
    sequences
        A string or strings of ``A C G T N`` (any case).
    length
        Output length ``L``: longer sequences are cropped around their centre, shorter ones padded
        with all-zero columns (``pad`` says where the sequence sits). ``None``: all sequences must
        have the same length.
    pad
        ``"center"`` (default), ``"right"`` (pad at the end, crop the end) or ``"left"``.
    dtype
        Tensor dtype.

    Returns
    -------
    Tensor of shape ``(N, 4, L)``: channels A, C, G, T; ``N`` -> 0.25 each; padding -> 0.

    Raises
    ------
    InputError
        On letters other than ACGTN, or unequal lengths without ``length``.

    Examples
    --------
    >>> one_hot_encode("ACGN")[0].T.tolist()
    [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.25, 0.25, 0.25, 0.25]]
    """
    seqs = check_sequences(sequences)
    if pad not in ("center", "right", "left"):
        raise InputError(f"pad={pad!r} is not supported; choose 'center', 'right' or 'left'.")
    if not seqs:
        return torch.zeros((0, 4, length or 0), dtype=dtype)
    lengths = {len(s) for s in seqs}
    if length is None:
        if len(lengths) > 1:
            raise InputError(
                f"the sequences have unequal lengths ({min(lengths)}..{max(lengths)} bp). Pass "
                "length=L to crop/pad them all to L bp (e.g. length="
                f"{max(lengths)}), or trim them to one length first."
            )
        length = lengths.pop()
    else:
        length = int(length)
        if length < 1:
            raise InputError(f"length must be a positive integer, got {length}.")
        seqs = [_fit_length(s, length, pad) for s in seqs]
    codes = np.frombuffer("".join(seqs).encode("ascii"), dtype=np.uint8)
    idx = _LUT[codes].reshape(len(seqs), length).astype(np.int64)  # '.' -> -1 (padding)
    table = np.zeros((6, 4), dtype=np.float32)
    table[:4] = np.eye(4, dtype=np.float32)
    table[4] = 0.25  # N
    # index -1 (padding) maps to the last row, which is zero
    out = table[idx]  # (N, L, 4)
    return torch.from_numpy(np.ascontiguousarray(out.transpose(0, 2, 1))).to(dtype)


def decode_one_hot(X: torch.Tensor | np.ndarray) -> list[str]:
    """Turn an ``(N, 4, L)`` one-hot array back into strings (``N`` for non-one-hot columns)."""
    X = np.asarray(X.detach().cpu() if isinstance(X, torch.Tensor) else X)
    if X.ndim == 2:
        X = X[None]
    _check_one_hot_shape(X)
    best = X.argmax(1)
    is_hot = X.max(1) > 0.5
    letters = np.array(list("ACGT"))[best]
    letters[~is_hot] = "N"
    return ["".join(row) for row in letters]


def _check_one_hot_shape(X) -> None:
    if X.ndim != 3 or X.shape[1] != 4:
        raise InputError(f"expected one-hot sequences of shape (N, 4, L), got {tuple(X.shape)}. "
                         "Encode strings with gnngeno.data.one_hot_encode(seqs); if channels come "
                         "last, transpose with X.transpose(1, 2).")


def reverse_complement(X):
    """Reverse complement of sequences.

    Parameters
    ----------
    X
        A string, a list of strings, or a one-hot ``(N, 4, L)`` / ``(4, L)`` tensor or array
        (channels A, C, G, T).

    Returns
    -------
    The same kind of object, reverse-complemented (for one-hot input: flip of both the channel and
    the position axes).
    """
    if isinstance(X, str):
        check_sequences(X)
        return X.translate(_COMP)[::-1]
    if isinstance(X, torch.Tensor):
        return X.flip(-1).flip(-2)
    if isinstance(X, np.ndarray) and X.dtype.kind in "fiub":
        return X[..., ::-1, ::-1].copy()
    seqs = check_sequences(list(X))
    return [s.translate(_COMP)[::-1] for s in seqs]


def _dinuc_shuffle_one(seq: str, rng: np.random.Generator, max_tries: int = 1000) -> str:
    """Altschul-Erickson shuffle: a random Eulerian path of the dinucleotide graph that ends with
    the last letter (keeps the first letter, the last letter and all dinucleotide counts)."""
    n = len(seq)
    if n <= 2:
        return seq
    letters = sorted(set(seq))
    index = {c: i for i, c in enumerate(letters)}
    s = [index[c] for c in seq]
    k = len(letters)
    edges: list[list[int]] = [[] for _ in range(k)]
    for a, b in zip(s[:-1], s[1:], strict=False):
        edges[a].append(b)
    last = s[-1]
    present = [v for v in range(k) if edges[v]]
    for _ in range(max_tries):
        # choose a random "last exit" edge for every vertex other than the last letter; these
        # edges must form a tree directed towards the last letter
        last_edge = {}
        for v in present:
            if v != last:
                last_edge[v] = edges[v][int(rng.integers(len(edges[v])))]
        ok = True
        for v in present:
            seen = set()
            u = v
            while u != last:
                if u in seen:
                    ok = False
                    break
                seen.add(u)
                u = last_edge[u]
            if not ok:
                break
        if ok:
            break
    else:  # pragma: no cover - essentially impossible for DNA
        return seq
    order: list[list[int]] = []
    for v in range(k):
        es = list(edges[v])
        if v != last and es:
            es.remove(last_edge[v])
            rng.shuffle(es)
            es.append(last_edge[v])
        else:
            rng.shuffle(es)
        order.append(es)
    pos = [0] * k
    out = [s[0]]
    u = s[0]
    for _ in range(n - 1):
        nxt = order[u][pos[u]]
        pos[u] += 1
        out.append(nxt)
        u = nxt
    return "".join(letters[i] for i in out)


def dinucleotide_shuffle(sequences: str | Sequence[str], *, n: int = 1,
                         seed: int | None = None) -> list[str]:
    """Shuffle sequences keeping their exact dinucleotide counts (Altschul & Erickson 1985).

    The shuffle is a uniformly random Eulerian path through the graph whose edges are the
    sequence's dinucleotides, as in DeepBind's and MEME's ``fasta-shuffle-letters -kmer 2``.
    ``N`` is treated as a fifth letter.

    Parameters
    ----------
    sequences
        A string or strings.
    n
        Shuffles per sequence.
    seed
        Random seed (default ``settings.seed``).

    Returns
    -------
    ``len(sequences) * n`` strings: the ``n`` shuffles of sequence 0, then of sequence 1, ...
    """
    seqs = check_sequences(sequences)
    rng = np.random.default_rng(resolve_seed(seed))
    return [_dinuc_shuffle_one(s, rng) for s in seqs for _ in range(int(n))]


def add_shuffled_negatives(sequences: Sequence[str], *, n: int = 1,
                           seed: int | None = None) -> tuple[list[str], np.ndarray]:
    """Positives plus ``n`` dinucleotide-shuffled negatives per positive (DeepBind-style).

    Returns
    -------
    ``(sequences, labels)``: the positives then the shuffles, labels 1.0 then 0.0.
    """
    pos = check_sequences(sequences)
    neg = dinucleotide_shuffle(pos, n=n, seed=seed)
    labels = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))]).astype(np.float32)
    return pos + neg, labels


def shift(X: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Shift each sequence of ``X`` (N, 4, L) by ``shifts[i]`` positions (positive: to the right);
    positions shifted in are all-zero (padding)."""
    N, C, L = X.shape
    pos = torch.arange(L, device=X.device)[None, :] - shifts.to(X.device)[:, None]  # (N, L)
    valid = (pos >= 0) & (pos < L)
    pos = pos.clamp(0, L - 1)
    out = torch.gather(X, 2, pos[:, None, :].expand(N, C, L))
    return out * valid[:, None, :].to(X.dtype)


def augment(X: torch.Tensor, *, reverse_complement: bool = True, max_shift: int = 0,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Random reverse complement (per sequence, probability 1/2) and small shifts.

    Parameters
    ----------
    X
        One-hot ``(N, 4, L)``.
    reverse_complement
        Reverse-complement a random half of the sequences.
    max_shift
        Shift each sequence by a random offset in ``[-max_shift, max_shift]`` (zero padding).
    generator
        Torch generator for repeatable draws.

    Returns
    -------
    A new tensor of the same shape.
    """
    _check_one_hot_shape(X)
    out = X
    if reverse_complement:
        flip = torch.rand(X.shape[0], generator=generator) < 0.5
        if flip.any():
            out = out.clone()
            out[flip] = out[flip].flip(-1).flip(-2)
    if max_shift and max_shift > 0:
        s = torch.randint(-int(max_shift), int(max_shift) + 1, (X.shape[0],),
                          generator=generator)
        out = shift(out, s)
    return out


def split_indices(n: int, fractions: Sequence[float] = (0.7, 0.1, 0.2), *,
                  stratify: np.ndarray | None = None,
                  seed: int | None = None) -> tuple[np.ndarray, ...]:
    """Random train/validation/test indices (70/10/20 by default).

    Parameters
    ----------
    n
        Number of items.
    fractions
        Fractions summing to 1 (any number of parts).
    stratify
        Labels to keep balanced across parts (classes split separately).
    seed
        Random seed (default ``settings.seed``).

    Returns
    -------
    One sorted index array per fraction.
    """
    fr = check_fractions(fractions)
    rng = np.random.default_rng(resolve_seed(seed))
    groups = [np.arange(n)] if stratify is None else [
        np.flatnonzero(np.asarray(stratify) == c) for c in np.unique(stratify)]
    parts: list[list[np.ndarray]] = [[] for _ in fr]
    for g in groups:
        g = rng.permutation(g)
        bounds = np.round(np.cumsum((0.0,) + fr) * len(g)).astype(int)
        for i in range(len(fr)):
            parts[i].append(g[bounds[i]:bounds[i + 1]])
    return tuple(np.sort(np.concatenate(p)) if p else np.array([], int) for p in parts)


def as_one_hot(X, *, length: int | None = None) -> torch.Tensor:
    """Strings -> :func:`one_hot_encode`; arrays/tensors -> a float tensor checked to be
    ``(N, 4, L)``."""
    if isinstance(X, str):
        X = [X]
    if isinstance(X, torch.Tensor | np.ndarray):
        t = torch.as_tensor(X, dtype=torch.float32)
        if t.ndim == 2:
            t = t[None]
        _check_one_hot_shape(t)
        return t
    if hasattr(X, "columns") and "sequence" in getattr(X, "columns", []):
        X = X["sequence"].tolist()
    return one_hot_encode(list(X), length=length)


class SequenceDataset(torch.utils.data.Dataset):
    """One-hot sequences and their targets as a torch ``Dataset``.

    Parameters
    ----------
    X
        Strings or a one-hot ``(N, 4, L)`` tensor.
    y
        Targets ``(N,)`` or ``(N, T)`` (``None`` for prediction).
    length
        Crop/pad strings to this length.
    augment_rc, max_shift
        Per-item augmentation (see :func:`augment`) applied in ``__getitem__``.

    Shapes
    ------
    item: ``(4, L)`` and ``(T,)``.
    """

    def __init__(self, X, y=None, *, length: int | None = None, augment_rc: bool = False,
                 max_shift: int = 0) -> None:
        self.X = as_one_hot(X, length=length)
        if y is not None:
            y = torch.as_tensor(np.asarray(y, dtype=np.float32))
            if y.ndim == 1:
                y = y[:, None]
            if y.shape[0] != self.X.shape[0]:
                raise InputError(f"{self.X.shape[0]} sequences but {y.shape[0]} targets; give "
                                 "one target row per sequence.")
        self.y = y
        self.augment_rc = augment_rc
        self.max_shift = max_shift

    def __len__(self) -> int:
        return self.X.shape[0]

    def __getitem__(self, i):
        x = self.X[i:i + 1]
        if self.augment_rc or self.max_shift:
            x = augment(x, reverse_complement=self.augment_rc, max_shift=self.max_shift)
        x = x[0]
        return x if self.y is None else (x, self.y[i])


def simulate_sequences(n: int = 1000, length: int = 100, *, motif: str = "TGACGTCA",
                       fraction: float = 0.5, gc: float = 0.5,
                       seed: int | None = None) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Random sequences, a fraction of which carry a planted motif (a toy task with a known
    answer).

    Parameters
    ----------
    n, length
        Number and length of sequences.
    motif
        The planted site (a string of ACGT).
    fraction
        Fraction of positives.
    gc
        GC content of the background.
    seed
        Random seed.

    Returns
    -------
    ``(sequences, labels, positions)``: labels 1.0 for sequences with the motif, the 0-based start
    of the planted site (-1 for negatives).
    """
    rng = np.random.default_rng(resolve_seed(seed))
    motif = check_sequences(motif)[0]
    if len(motif) > length:
        raise InputError(f"motif of {len(motif)} bp does not fit in length={length}.")
    p = np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
    letters = np.array(list(ALPHABET))
    seqs, labels, positions = [], np.zeros(n, np.float32), np.full(n, -1)
    n_pos = int(round(fraction * n))
    is_pos = np.zeros(n, bool)
    is_pos[rng.permutation(n)[:n_pos]] = True
    for i in range(n):
        s = letters[rng.choice(4, size=length, p=p)]
        if is_pos[i]:
            start = int(rng.integers(0, length - len(motif) + 1))
            s[start:start + len(motif)] = list(motif)
            labels[i] = 1.0
            positions[i] = start
        seqs.append("".join(s))
    return seqs, labels, positions
