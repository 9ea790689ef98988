"""Readers for DNA sequences: FASTA, DeepBind-style ChIP-seq tables, ``sequence,label`` tables.

Every reader returns a :class:`pandas.DataFrame` with (at least) the columns ``name`` and
``sequence`` (upper case), plus ``label`` (or several label columns) when the file has labels.
Letters other than ``A C G T N`` (any case) raise :class:`~gnngeno.InputError` naming the row.
"""

from __future__ import annotations

import gzip
import io
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .._validate import InputError

_VALID = re.compile(r"^[ACGTN]*$")
NAME, SEQUENCE, LABEL = "name", "sequence", "label"


def _open_text(path: str | os.PathLike):
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"sequence file {path} does not exist.")
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def check_sequences(sequences, *, what: str = "the sequences") -> list[str]:
    """Upper-case ``sequences`` and check that they hold only ``A C G T N``.

    Parameters
    ----------
    sequences
        A string or an iterable of strings.
    what
        How to name them in messages.

    Returns
    -------
    A list of upper-case strings.

    Raises
    ------
    InputError
        When a sequence holds another letter (the message names the first one and its row).
    """
    if isinstance(sequences, str):
        sequences = [sequences]
    out = []
    for i, s in enumerate(sequences):
        if not isinstance(s, str):
            raise InputError(f"{what}: row {i} is a {type(s).__name__}, not a string. Pass DNA "
                             "sequences as strings (or a one-hot array of shape (N, 4, L)).")
        u = s.upper()
        if not _VALID.match(u):
            bad = sorted({c for c in u if c not in "ACGTN"})
            raise InputError(
                f"{what}: row {i} contains letters other than A, C, G, T, N ({bad[:5]}). "
                "Replace ambiguity codes (R, Y, S, W, ...) by N and remove spaces/gaps, e.g. "
                "re.sub('[^ACGTN]', 'N', seq.upper())."
            )
        out.append(u)
    return out


def read_fasta(path: str | os.PathLike) -> pd.DataFrame:
    """Read a (optionally gzipped) FASTA file.

    Parameters
    ----------
    path
        FASTA file; records may span several lines.

    Returns
    -------
    DataFrame with columns ``name`` (first word of the header), ``description`` (rest of the
    header) and ``sequence`` (upper case), in file order.
    """
    names, descs, seqs = [], [], []
    chunks: list[str] = []
    with _open_text(path) as fh:
        for line_no, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith(";"):
                continue
            if line.startswith(">"):
                if names:
                    seqs.append("".join(chunks))
                header = line[1:].strip()
                parts = header.split(maxsplit=1)
                names.append(parts[0] if parts else f"seq{len(names)}")
                descs.append(parts[1] if len(parts) > 1 else "")
                chunks = []
            else:
                if not names:
                    raise InputError(f"{path}: line {line_no} holds sequence before any '>' "
                                     "header; is this a FASTA file? Tables need columns "
                                     "'sequence' (and 'label'): use read_sequence_table.")
                chunks.append(line)
    if names:
        seqs.append("".join(chunks))
    if not names:
        raise InputError(f"{path} holds no FASTA record (no line starting with '>').")
    seqs = check_sequences(seqs, what=f"FASTA {path}")
    return pd.DataFrame({NAME: names, "description": descs, SEQUENCE: seqs})


def write_fasta(sequences, path: str | os.PathLike, *, names=None, width: int = 80) -> None:
    """Write sequences to a FASTA file.

    Parameters
    ----------
    sequences
        Strings, or a DataFrame with columns ``sequence`` (and ``name``).
    path
        Output file (plain text).
    names
        Record names; default ``name`` column or ``seq0, seq1, ...``.
    width
        Line width of the sequence lines (0: one line).
    """
    if isinstance(sequences, pd.DataFrame):
        if names is None and NAME in sequences:
            names = sequences[NAME].astype(str).tolist()
        sequences = sequences[SEQUENCE].tolist()
    seqs = check_sequences(list(sequences))
    names = [f"seq{i}" for i in range(len(seqs))] if names is None else list(names)
    with open(path, "w") as fh:
        for n, s in zip(names, seqs, strict=True):
            fh.write(f">{n}\n")
            if width and width > 0:
                for i in range(0, max(len(s), 1), width):
                    fh.write(s[i:i + width] + "\n")
            else:
                fh.write(s + "\n")


def read_deepbind(path: str | os.PathLike) -> pd.DataFrame:
    """Read a DeepBind-style table ``FoldID EventID seq Bound`` (tab-separated, may be gzipped).

    Parameters
    ----------
    path
        E.g. ``data/seq/tf_chipseq/USF1_H1-hESC.train.seq.gz``.

    Returns
    -------
    DataFrame with columns ``name`` (EventID), ``fold`` (FoldID), ``sequence`` and ``label``
    (Bound, 0/1 as float).
    """
    with _open_text(path) as fh:
        df = pd.read_csv(fh, sep="\t", dtype={"FoldID": str, "EventID": str, "seq": str})
    needed = ["EventID", "seq", "Bound"]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InputError(f"{path} lacks DeepBind column(s) {missing} (columns: "
                         f"{list(df.columns)}). Expected a header 'FoldID EventID seq Bound'; "
                         "for other tables use read_sequence_table.")
    out = pd.DataFrame({
        NAME: df["EventID"].astype(str).to_numpy(),
        "fold": df["FoldID"].astype(str).to_numpy() if "FoldID" in df else "",
        SEQUENCE: check_sequences(df["seq"].fillna("").tolist(), what=f"{path}"),
        LABEL: _bound_labels(df["Bound"], path),
    })
    return out


def _bound_labels(bound: pd.Series, path) -> np.ndarray:
    values = pd.to_numeric(bound, errors="coerce")
    bad = values.isna() & bound.notna()
    if bad.any():
        raise InputError(f"{path}: the Bound column holds non-numeric values (e.g. "
                         f"{bound[bad].head(3).tolist()}); it must hold 0/1 labels "
                         "(1 = bound).")
    return values.astype(float).to_numpy()


def read_sequence_table(path: str | os.PathLike, *, sequence_col: str = "sequence",
                        label_cols: str | list[str] | None = None, name_col: str | None = None,
                        sep: str | None = None) -> pd.DataFrame:
    """Read a table with a sequence column and zero or more label columns.

    Parameters
    ----------
    path
        CSV/TSV (separator guessed from the extension or the header when ``sep`` is None;
        may be gzipped).
    sequence_col
        Column holding the sequences (case-insensitive match; ``seq`` is accepted too).
    label_cols
        Label column(s). Default: every numeric column other than the sequence and name.
    name_col
        Column with row names (default: ``name``/``id`` when present, else ``seq0, seq1...``).
    sep
        Field separator.

    Returns
    -------
    DataFrame with ``name``, ``sequence`` and the label columns (``label`` when there is one
    unnamed label column).
    """
    with _open_text(path) as fh:
        text = fh.read()
    if sep is None:
        first = text.split("\n", 1)[0]
        sep = "\t" if "\t" in first else ","
    df = pd.read_csv(io.StringIO(text), sep=sep)
    lower = {c.lower(): c for c in df.columns}
    seq_c = lower.get(sequence_col.lower()) or lower.get("seq")
    if seq_c is None:
        raise InputError(f"{path} has no column {sequence_col!r} (columns: {list(df.columns)}). "
                         "Pass sequence_col= naming the column that holds the DNA sequences.")
    if name_col is None:
        name_c = lower.get("name") or lower.get("id") or lower.get("eventid")
    else:
        name_c = lower.get(name_col.lower())
        if name_c is None:
            raise InputError(f"{path} has no column {name_col!r} (columns: {list(df.columns)}).")
    if label_cols is None:
        lab = [c for c in df.columns if c not in (seq_c, name_c)
               and pd.api.types.is_numeric_dtype(df[c])]
    else:
        lab = [label_cols] if isinstance(label_cols, str) else list(label_cols)
        absent = [c for c in lab if c not in df.columns]
        if absent:
            raise InputError(f"{path} lacks label column(s) {absent} (columns: "
                             f"{list(df.columns)}).")
    out = pd.DataFrame({
        NAME: (df[name_c].astype(str).to_numpy() if name_c is not None
               else [f"seq{i}" for i in range(len(df))]),
        SEQUENCE: check_sequences(df[seq_c].fillna("").astype(str).tolist(), what=str(path)),
    })
    for c in lab:
        out[c] = pd.to_numeric(df[c], errors="raise").astype(float).to_numpy()
    return out


def read_sequences(path: str | os.PathLike, **kwargs) -> pd.DataFrame:
    """Read sequences from FASTA, a DeepBind table or a ``sequence,label`` table (guessed).

    Parameters
    ----------
    path
        The file (may be gzipped).
    **kwargs
        Passed to :func:`read_sequence_table` for plain tables.

    Returns
    -------
    DataFrame with ``name``, ``sequence`` and, when present, label column(s).
    """
    with _open_text(path) as fh:
        first = ""
        for line in fh:
            if line.strip():
                first = line.strip()
                break
    if first.startswith(">"):
        return read_fasta(path)
    header = re.split(r"[\t,]", first)
    if {"EventID", "seq", "Bound"} <= set(header):
        return read_deepbind(path)
    return read_sequence_table(path, **kwargs)


def label_columns(df: pd.DataFrame) -> list[str]:
    """Label columns of a DataFrame returned by the readers (numeric, not name/sequence)."""
    return [c for c in df.columns if c not in (NAME, SEQUENCE, "description", "fold")
            and pd.api.types.is_numeric_dtype(df[c]) and not np.issubdtype(df[c].dtype, np.bool_)]
