"""Readers for gene networks (edge lists) and transcription-factor lists."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .. import _keys as keys
from .._validate import InputError, InputWarning
from ._utils import PathLike, as_path, drop_index_columns, guess_sep, open_text, read_csv

#: Header pairs recognised as (source, target), compared case-insensitively, first match wins.
_EDGE_HEADERS: tuple[tuple[str, str], ...] = (
    ("source", "target"),
    ("gene1", "gene2"),
    ("tf", "target"),
    ("regulator", "target"),
    ("tf", "gene"),
    ("regulator", "gene"),
    ("from", "to"),
    ("tf", "targetgene"),
    ("regulator", "targetgene"),
    ("node1", "node2"),
    ("protein1", "protein2"),
)
#: Column names recognised as edge weights, case-insensitively, first match wins.
_WEIGHT_HEADERS = ("weight", "score", "importance", "confidence", "mor", "combined_score")


def _find_column(columns, wanted: str) -> str | None:
    for c in columns:
        if str(c).strip().lower().replace("_", "").replace(" ", "") == wanted.replace("_", ""):
            return c
    return None


def read_network(path: PathLike, *, source: str | None = None, target: str | None = None,
                 weight: str | None = None, sep: str | None = None,
                 header: bool = True) -> pd.DataFrame:
    """Read a gene network stored as an edge list (csv/tsv, optionally gzip-compressed).

    Parameters
    ----------
    path
        Edge-list file, one edge a row (``.csv``, ``.tsv``, ``.txt``, each optionally ``.gz``).
    source, target
        Names of the regulator and target columns. By default detected from common headers:
        ``source/target``, ``Gene1/Gene2`` (BEELINE), ``TF/target``, ``regulator/target``,
        ``TF/gene``, ``from/to`` (case-insensitive).
    weight
        Name of the weight column. By default ``weight``, ``score``, ``importance`` (GRNBoost2),
        ``confidence`` or ``mor`` (decoupler) when present, else every weight is 1.0.
    sep
        Column separator; guessed from the extension (or the first line) when ``None``.
    header
        ``False`` for a file without a header line: columns 1, 2 (and 3, when present) are
        source, target (and weight).

    Returns
    -------
    DataFrame with columns ``source``, ``target`` (str) and ``weight`` (float), one row per
    edge in file order. Self-loops and duplicate edges are kept (``gnngeno._validate.align_network``
    handles them when the network is used).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    InputError
        When the source/target columns cannot be found, or a weight is not numeric.
    """
    p = as_path(path, what="network file")
    sep = guess_sep(p, sep)
    df = read_csv(p, what="network file", sep=sep, header=0 if header else None, dtype=str,
                  keep_default_na=False, na_values=[""])
    df = drop_index_columns(df)
    if not header:
        if df.shape[1] < 2:
            raise InputError(f"the network file {p} has {df.shape[1]} column(s); an edge list "
                             "needs at least source and target columns. Check sep=.")
        src_col, tgt_col = df.columns[0], df.columns[1]
        w_col = df.columns[2] if df.shape[1] >= 3 else None
    else:
        src_col = _resolve(df, source, "source", p)
        tgt_col = _resolve(df, target, "target", p)
        if src_col is None or tgt_col is None:
            for s, t in _EDGE_HEADERS:
                s_c, t_c = _find_column(df.columns, s), _find_column(df.columns, t)
                if s_c is not None and t_c is not None:
                    src_col = src_col if src_col is not None else s_c
                    tgt_col = tgt_col if tgt_col is not None else t_c
                    break
        if src_col is None or tgt_col is None:
            raise InputError(
                f"could not find the source/target columns of the network file {p} (columns: "
                f"{list(df.columns)[:10]}). Pass source=... and target=... naming them, or "
                "header=False when the file has no header line."
            )
        w_col = _resolve(df, weight, "weight", p)
        if w_col is None and weight is None:
            for w in _WEIGHT_HEADERS:
                w_col = _find_column(df.columns, w)
                if w_col is not None:
                    break
    return _edges(df, src_col, tgt_col, w_col, p)


def _resolve(df: pd.DataFrame, name: str | None, role: str, path) -> str | None:
    if name is None:
        return None
    if name in df.columns:
        return name
    col = _find_column(df.columns, name)
    if col is None:
        raise InputError(f"{role}={name!r} is not a column of {path} (columns: "
                         f"{list(df.columns)[:10]}). Pass one of them.")
    return col


def _edges(df: pd.DataFrame, src_col, tgt_col, w_col, path) -> pd.DataFrame:
    out = pd.DataFrame({keys.SOURCE: df[src_col].astype("string").str.strip(),
                        keys.TARGET: df[tgt_col].astype("string").str.strip()})
    if w_col is not None:
        w = pd.to_numeric(df[w_col], errors="coerce")
        bad = w.isna() & df[w_col].notna()
        if bad.any():
            raise InputError(f"the weight column {w_col!r} of {path} holds non-numeric values "
                             f"(e.g. {df.loc[bad, w_col].head(3).tolist()}). Pass weight=None "
                             "to ignore it, or weight=... naming a numeric column.")
        out[keys.WEIGHT] = w.fillna(1.0).to_numpy(dtype=float)
    else:
        out[keys.WEIGHT] = 1.0
    missing = out[keys.SOURCE].isna() | out[keys.TARGET].isna() | (out[keys.SOURCE] == "") | (
        out[keys.TARGET] == "")
    if missing.any():
        warnings.warn(f"{int(missing.sum())} row(s) of {path} lack a source or target gene and "
                      "are left out.", InputWarning, stacklevel=3)
        out = out[~missing]
    if len(out) == 0:
        raise InputError(f"the network file {path} holds no edges.")
    out[keys.SOURCE] = out[keys.SOURCE].astype(str)
    out[keys.TARGET] = out[keys.TARGET].astype(str)
    return out.reset_index(drop=True)


def read_beeline_network(path: PathLike) -> pd.DataFrame:
    """Read a BEELINE ground-truth network (``refNetwork.csv`` or ``BL--network.csv``).

    Parameters
    ----------
    path
        csv file (optionally ``.gz``) with columns ``Gene1`` (regulator), ``Gene2`` (target) and
        optionally ``Type`` (``+`` activation, ``-`` repression).

    Returns
    -------
    DataFrame with columns ``source``, ``target``, ``weight``: ``+1.0`` for activation, ``-1.0``
    for repression (``Type`` equal to ``-``), ``1.0`` when there is no ``Type`` column or the
    sign is unknown.

    Raises
    ------
    InputError
        When the file lacks the ``Gene1``/``Gene2`` columns.
    """
    p = as_path(path, what="BEELINE network file")
    df = drop_index_columns(read_csv(p, what="BEELINE network file", sep=guess_sep(p),
                                     dtype=str, keep_default_na=False, na_values=[""]))
    g1, g2 = _find_column(df.columns, "gene1"), _find_column(df.columns, "gene2")
    if g1 is None or g2 is None:
        raise InputError(f"{p} is not a BEELINE network file: it lacks the columns Gene1, Gene2 "
                         f"(columns: {list(df.columns)[:10]}). Read other edge lists with "
                         "gnngeno.io.read_network(path, source=..., target=...).")
    type_col = _find_column(df.columns, "type")
    if type_col is None:
        return _edges(df, g1, g2, None, p)
    df = df.assign(__sign=np.where(df[type_col].astype(str).str.strip() == "-", -1.0, 1.0))
    return _edges(df, g1, g2, "__sign", p)


def read_tfs(path: PathLike) -> list[str]:
    """Read a list of transcription factors.

    Parameters
    ----------
    path
        Either a plain text file with one name per line (blank lines and lines starting with
        ``#`` are skipped; a first line ``TF``/``TFs``/``gene``/``symbol`` is taken as a header),
        or a csv/tsv (optionally ``.gz``) with a ``TF`` column (GENELink's ``TF.csv``), matched
        case-insensitively; ``Gene``/``symbol``/``name`` columns are accepted as well.

    Returns
    -------
    The TF names, in file order, without duplicates.

    Raises
    ------
    InputError
        When the file is a table without a recognisable TF column, or holds no names.
    """
    p = as_path(path, what="TF list file")
    try:
        return _read_tfs(p)
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise InputError(f"could not read the TF list {p}: {err}. The file may be truncated or "
                         "corrupt; write it again.") from err


def _read_tfs(p) -> list[str]:
    line = _first_nonblank(p)
    sep = None
    for cand in ("\t", ",", ";"):
        if cand in line:
            sep = cand
            break
    if sep is None:
        names = []
        with open_text(p) as fh:
            for raw in fh:
                s = raw.strip()
                if s and not s.startswith("#"):
                    names.append(s.strip('"').strip("'"))
        if names and names[0].lower() in {"tf", "tfs", "gene", "genes", "symbol", "name"}:
            names = names[1:]
    else:
        df = drop_index_columns(read_csv(p, what="TF list file", sep=sep, dtype=str,
                                         keep_default_na=False, na_values=[""]))
        col = None
        for cand in ("tf", "tfs", "symbol", "gene", "genesymbol", "name"):
            col = _find_column(df.columns, cand)
            if col is not None:
                break
        if col is None:
            raise InputError(f"the TF table {p} has no TF column (columns: "
                             f"{list(df.columns)[:10]}). Name the column 'TF', or write one "
                             "name per line.")
        names = [str(s).strip() for s in df[col].dropna() if str(s).strip()]
    names = list(dict.fromkeys(names))
    if not names:
        raise InputError(f"the TF list {p} holds no names. Write one TF name per line, or a "
                         "csv with a 'TF' column.")
    return names


def _first_nonblank(p) -> str:
    with open_text(p) as fh:
        for raw in fh:
            if raw.strip() and not raw.lstrip().startswith("#"):
                return raw.rstrip("\r\n")
    return ""
