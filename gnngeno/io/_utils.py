"""Helpers shared by the readers: path checks, error types, table reading, AnnData finishing."""

from __future__ import annotations

import gzip
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .. import _keys as keys
from .._validate import InputError, InputWarning, is_counts

PathLike = str | os.PathLike


class MissingInputError(InputError, FileNotFoundError):
    """A file the reader needs does not exist.

    Both an :class:`~gnngeno.InputError` (a ``ValueError``) and a ``FileNotFoundError``, so either
    ``except`` clause catches it.
    """


def as_path(path: PathLike, *, what: str = "file", kind: str = "file") -> Path:
    """Return ``path`` as a :class:`~pathlib.Path`, raising when it does not exist.

    Parameters
    ----------
    path
        The path given by the user.
    what
        How to name it in messages.
    kind
        ``"file"``, ``"dir"`` or ``"any"``: what ``path`` must be.
    """
    if not isinstance(path, str | os.PathLike):
        raise InputError(f"the {what} path must be a str or pathlib.Path, got "
                         f"{type(path).__name__}.")
    p = Path(path).expanduser()
    if not p.exists():
        hint = ""
        parent = p.parent
        if parent.is_dir():
            near = sorted(q.name for q in parent.iterdir() if q.name.startswith(p.name[:3]))[:5]
            if near:
                hint = f" Similar names in {parent}: {near}."
        raise MissingInputError(f"{what} not found: {p}. Check the path (relative paths start "
                                f"from the working directory {Path.cwd()}).{hint}")
    if kind == "file" and p.is_dir():
        raise InputError(f"{what} {p} is a folder, but a file was expected. Pass the file "
                         "inside it (or use a reader that takes a folder, e.g. read_10x_mtx or "
                         "read_grn_benchmark).")
    if kind == "dir" and not p.is_dir():
        raise InputError(f"{what} {p} is a file, but a folder was expected. Pass the folder "
                         "that contains it.")
    return p


def strip_gz(name: str) -> str:
    """``name`` without a trailing ``.gz``/``.bz2``/``.xz``/``.zip``, lower-cased."""
    lower = name.lower()
    for ext in (".gz", ".bz2", ".xz", ".zip"):
        if lower.endswith(ext):
            return lower[: -len(ext)]
    return lower


def find_file(folder: Path, stems: Sequence[str], exts: Sequence[str] = (".csv",)) -> Path | None:
    """First existing ``folder/<stem><ext>[.gz]`` over ``stems`` x ``exts``, else ``None``."""
    for stem in stems:
        for ext in exts:
            for suffix in ("", ".gz"):
                p = folder / f"{stem}{ext}{suffix}"
                if p.is_file():
                    return p
    return None


def is_gzip(path: Path) -> bool:
    """Whether ``path`` starts with the gzip magic bytes."""
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def open_text(path: Path):
    """Open a (possibly gzip-compressed) text file for reading, detecting gzip by content."""
    if is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def first_line(path: Path) -> str:
    """The first non-empty line of a text file (``""`` when there is none)."""
    try:
        with open_text(path) as fh:
            for line in fh:
                if line.strip():
                    return line.rstrip("\r\n")
    except (OSError, EOFError) as err:
        raise InputError(f"could not read {path}: {err}. The file may be truncated or "
                         "corrupt; download or write it again.") from err
    return ""


def guess_sep(path: Path, sep: str | None = None) -> str:
    """The column separator of a delimited text file: ``sep`` when given, else guessed.

    ``.csv`` -> ``","``, ``.tsv``/``.tab`` -> tab; other extensions are sniffed from the first
    line (tab, comma, semicolon, else whitespace).
    """
    if sep is not None:
        return sep
    name = strip_gz(path.name)
    if name.endswith(".csv"):
        return ","
    if name.endswith((".tsv", ".tab")):
        return "\t"
    line = first_line(path)
    for cand in ("\t", ",", ";"):
        if cand in line:
            return cand
    return r"\s+"


def read_csv(path: Path, *, what: str = "table", **kwargs) -> pd.DataFrame:
    """``pandas.read_csv`` with errors turned into :class:`InputError` naming the file."""
    kwargs.setdefault("compression", "gzip" if is_gzip(path) else None)
    if kwargs.get("sep") == r"\s+":
        kwargs.setdefault("engine", "python")
    try:
        return pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError as err:
        raise InputError(f"the {what} {path} is empty. Check that it was written completely."
                         ) from err
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError, ValueError) as err:
        raise InputError(f"could not read the {what} {path} as a delimited text table: {err}. "
                         "The file may be truncated or corrupt, or not a csv/tsv file; pass "
                         "sep=... if its separator is unusual.") from err


def drop_index_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Drop the ``Unnamed: 0``-style columns that pandas makes from a written index."""
    keep = [c for c in df.columns if not str(c).startswith("Unnamed:")]
    return df[keep] if len(keep) != df.shape[1] else df


def make_unique(names: Sequence, *, what: str, path: Path | None = None) -> pd.Index:
    """Return ``names`` as a string index made unique (``name-1``, ``name-2``...), warning."""
    from anndata.utils import make_index_unique

    index = pd.Index([str(n) for n in names])
    if index.is_unique:
        return index
    dups = index[index.duplicated()].unique()
    warnings.warn(
        f"{len(dups)} {what} occur more than once"
        + (f" in {path}" if path is not None else "")
        + f" (e.g. {dups[:5].tolist()}); suffixes '-1', '-2', ... were appended to make them "
        "unique. Aggregate or drop the duplicates first if they measure the same thing.",
        InputWarning,
        stacklevel=3,
    )
    return make_index_unique(index)


def new_adata(X, obs: pd.DataFrame, var: pd.DataFrame, *, path: Path):
    """An AnnData whose names were made unique first (our warning, not anndata's)."""
    from anndata import AnnData

    obs = obs.copy()
    var = var.copy()
    obs.index = make_unique(obs.index, what="cell names", path=path)
    var.index = make_unique(var.index, what="gene names", path=path)
    return AnnData(X=X, obs=obs, var=var)


def finish_adata(adata, path: Path, fmt: str, *, counts: bool = True):
    """Make names unique, keep raw counts in ``layers['counts']``, record the source.

    Parameters
    ----------
    adata
        Freshly read cells x genes AnnData (changed in place).
    path
        File or folder that was read.
    fmt
        Format name stored in ``uns['gnngeno_source']['format']``.
    counts
        Whether to copy whole-number, non-negative ``X`` into ``layers['counts']``.
    """
    adata.var_names = make_unique(adata.var_names, what="gene names", path=path)
    adata.obs_names = make_unique(adata.obs_names, what="cell names", path=path)
    X = adata.X
    if counts and X is not None and keys.COUNTS_LAYER not in adata.layers and is_counts(X):
        adata.layers[keys.COUNTS_LAYER] = X.copy()
    adata.uns[keys.READER_SOURCE_KEY] = {"path": str(path), "format": fmt}
    return adata

