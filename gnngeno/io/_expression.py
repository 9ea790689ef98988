"""Readers for expression matrices: h5ad, 10x (mtx folder, h5), text tables, dense HDF5."""

from __future__ import annotations

import gzip
import re
import warnings
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from .. import _keys as keys
from .._validate import InputError, InputWarning, check_choice, label_kind
from ._utils import (
    MissingInputError,
    PathLike,
    as_path,
    find_file,
    finish_adata,
    guess_sep,
    is_gzip,
    new_adata,
    read_csv,
    strip_gz,
)

Orientation = Literal["auto", "genes_x_cells", "cells_x_genes"]
_TABLE_EXTS = (".csv", ".tsv", ".txt", ".tab")
_H5_EXTS = (".h5", ".hdf5", ".he5")

#: What :func:`read_expression` understands, shown in its errors.
SUPPORTED_FORMATS = {
    ".h5ad": "AnnData (read_h5ad)",
    ".h5 / .hdf5": "10x Genomics HDF5 (read_10x_h5), dense X/Y HDF5 (read_dense_h5) or AnnData",
    "folder or .mtx(.gz)": "10x / CellRanger matrix.mtx + features/genes.tsv + barcodes.tsv "
                           "(read_10x_mtx)",
    ".csv / .tsv / .txt / .tab (.gz)": "delimited text table (read_table)",
}
_HINTS = {
    ".loom": "convert it with anndata.read_loom(path).write_h5ad('out.h5ad')",
    ".zarr": "convert it with anndata.read_zarr(path).write_h5ad('out.h5ad')",
    ".rds": "export it from R, e.g. with zellkonverter::writeH5AD or SeuratDisk, to .h5ad",
    ".rda": "export it from R to .h5ad (zellkonverter::writeH5AD) or to csv",
    ".xlsx": "save the sheet as csv",
    ".xls": "save the sheet as csv",
    ".mat": "load it with scipy.io.loadmat and wrap the matrix with anndata.AnnData(X)",
    ".npz": "load it with scipy.sparse.load_npz and wrap it with anndata.AnnData(X)",
}


def _supported() -> str:
    return "; ".join(f"{k}: {v}" for k, v in SUPPORTED_FORMATS.items())


def _check_hdf5(p: Path, what: str) -> None:
    import h5py

    if not h5py.is_hdf5(p):
        kind = "gzip-compressed" if is_gzip(p) else "not an HDF5 file"
        raise InputError(f"the {what} {p} is {kind} (or truncated/corrupt), so it cannot be read "
                         "as HDF5. Decompress it first, check that the download completed, or "
                         "use gnngeno.io.read_expression(path), which picks a reader by content.")


# --- h5ad ----------------------------------------------------------------------------------------
def read_h5ad(path: PathLike, backed: Literal["r"] | None = None) -> AnnData:
    """Read an AnnData ``.h5ad`` file.

    Parameters
    ----------
    path
        The ``.h5ad`` file (cells x genes).
    backed
        ``"r"`` to leave ``X`` on disk (read-only); ``None`` loads everything. ``"r+"`` is
        refused because readers never modify their input.

    Returns
    -------
    The AnnData, with gene and cell names made unique (warning), ``X`` copied into
    ``layers['counts']`` when it holds whole non-negative numbers and no such layer exists (not
    in backed mode), and ``uns['gnngeno_source'] = {'path', 'format': 'h5ad'}``.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    InputError
        When it is not a readable ``.h5ad`` file.
    """
    import anndata

    p = as_path(path, what="h5ad file")
    if backed not in (None, "r"):
        raise InputError(f"backed={backed!r} is not supported: readers open files read-only. "
                         "Pass backed='r' or backed=None.")
    _check_hdf5(p, "h5ad file")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*names are not unique")
            adata = anndata.read_h5ad(p, backed=backed)
    except Exception as err:  # anndata raises many kinds of errors for foreign HDF5 files
        raise InputError(f"could not read {p} as an AnnData .h5ad file ({type(err).__name__}: "
                         f"{err}). If it is a 10x or dense X/Y HDF5 file, use "
                         "gnngeno.io.read_expression(path).") from err
    return finish_adata(adata, p, "h5ad", counts=backed is None)


# --- 10x mtx -------------------------------------------------------------------------------------
def read_10x_mtx(folder: PathLike, *, var_names: Literal["gene_symbols", "gene_ids"] = "gene_symbols",
                 gex_only: bool = True, prefix: str | None = None) -> AnnData:
    """Read a 10x Genomics / CellRanger matrix folder (v2 or v3 layout, plain or ``.gz``).

    The folder holds ``matrix.mtx`` (genes x cells, MatrixMarket), ``features.tsv`` (v3:
    id, name, feature type) or ``genes.tsv`` (v2: id, name), and ``barcodes.tsv``, each
    optionally gzip-compressed and optionally sharing a file-name prefix (GEO style
    ``GSM123_matrix.mtx.gz``). A ``labels.csv`` (``barcode,label``) next to them is read into
    ``obs['label']``.

    Parameters
    ----------
    folder
        The folder (a path to its ``matrix.mtx(.gz)`` is accepted too).
    var_names
        Use gene symbols (second column of the features file) or gene ids (first column) as
        ``var_names``; the other is kept in ``var``.
    gex_only
        Keep only features of type ``Gene Expression`` when the file lists several types.
    prefix
        File-name prefix shared by the three files; detected when ``None``.

    Returns
    -------
    Cells x genes AnnData: ``X`` sparse CSR float32, ``layers['counts']`` (a copy, when the
    values are counts), ``var['gene_ids']``, ``var['gene_symbols']``
    [, ``var['feature_types']``], ``obs['label']`` (categorical str) when ``labels.csv`` exists,
    ``uns['gnngeno_source']``.

    Raises
    ------
    FileNotFoundError
        When the folder or one of its three files is missing.
    InputError
        When the files disagree in size or cannot be parsed.
    """
    check_choice(var_names, ("gene_symbols", "gene_ids"), "var_names")
    p = as_path(folder, what="10x matrix folder", kind="any")
    if p.is_file():
        if not strip_gz(p.name).endswith(".mtx"):
            raise InputError(f"{p} is a file, but a folder was expected: pass the folder that "
                             "holds matrix.mtx(.gz), features.tsv(.gz) and barcodes.tsv(.gz).")
        if prefix is None:
            prefix = p.name[: strip_gz(p.name).rfind("matrix.mtx")] if "matrix.mtx" in p.name else ""
        p = p.parent
    if prefix is None:
        prefix = _detect_prefix(p)
    mtx = find_file(p, (f"{prefix}matrix",), (".mtx",))
    feats = find_file(p, (f"{prefix}features", f"{prefix}genes"), (".tsv", ".txt"))
    bcs = find_file(p, (f"{prefix}barcodes",), (".tsv", ".txt"))
    missing = [n for n, f in (("matrix.mtx(.gz)", mtx), ("features.tsv(.gz) or genes.tsv(.gz)",
                                                            feats), ("barcodes.tsv(.gz)", bcs))
               if f is None]
    if missing:
        present = sorted(q.name for q in p.iterdir())[:12]
        raise MissingInputError(f"the 10x folder {p} lacks {missing} (prefix {prefix!r}; files "
                                f"present: {present}). A CellRanger matrix folder holds "
                                "matrix.mtx.gz, features.tsv.gz and barcodes.tsv.gz.")
    X = _read_mtx(mtx)
    features = read_csv(feats, what="features file", sep="\t", header=None, dtype=str,
                        keep_default_na=False)
    barcodes = read_csv(bcs, what="barcodes file", sep="\t", header=None, dtype=str,
                        keep_default_na=False).iloc[:, 0]
    n_f, n_b = len(features), len(barcodes)
    if X.shape == (n_f, n_b):
        X = X.T
    elif X.shape != (n_b, n_f):
        raise InputError(f"{mtx.name} is {X.shape[0]} x {X.shape[1]} but {feats.name} lists "
                         f"{n_f} features and {bcs.name} {n_b} barcodes: the files come from "
                         "different runs or are truncated. Use the three files of one folder.")
    X = sp.csr_matrix(X, dtype=np.float32)
    ids = features.iloc[:, 0].to_numpy()
    names = features.iloc[:, 1].to_numpy() if features.shape[1] > 1 else ids
    var = pd.DataFrame({"gene_ids": ids, "gene_symbols": names})
    if features.shape[1] > 2:
        var["feature_types"] = features.iloc[:, 2].to_numpy()
    var.index = pd.Index(names if var_names == "gene_symbols" else ids)
    adata = new_adata(X, pd.DataFrame(index=pd.Index(barcodes.to_numpy())), var, path=p)
    if gex_only and "feature_types" in var and var["feature_types"].nunique() > 1:
        keep = (var["feature_types"] == "Gene Expression").to_numpy()
        adata = adata[:, keep].copy()
    labels = find_file(p, (f"{prefix}labels", "labels"), (".csv", ".tsv"))
    if labels is not None:
        _add_labels(adata, labels)
    return finish_adata(adata, p, "10x_mtx")


def _detect_prefix(folder: Path) -> str:
    if find_file(folder, ("matrix",), (".mtx",)) is not None:
        return ""
    found = sorted(q.name for q in folder.iterdir() if re.search(r"matrix\.mtx(\.gz)?$", q.name))
    if len(found) == 1:
        return found[0][: found[0].rfind("matrix.mtx")]
    if len(found) > 1:
        raise InputError(f"{folder} holds several matrices {found}; pass prefix=... naming the "
                         "file-name prefix of the one to read.")
    return ""


def _read_mtx(path: Path):
    import scipy.io

    try:
        if is_gzip(path):
            with gzip.open(path, "rb") as fh:
                return sp.coo_matrix(scipy.io.mmread(fh))
        return sp.coo_matrix(scipy.io.mmread(path))
    except (OSError, EOFError, ValueError) as err:
        raise InputError(f"could not read {path} as a MatrixMarket matrix ({err}). The file may "
                         "be truncated or corrupt; copy it again from the CellRanger output "
                         "(filtered_feature_bc_matrix/).") from err


def _add_labels(adata: AnnData, path: Path) -> None:
    df = read_csv(path, what="labels file", sep=guess_sep(path), dtype=str,
                  keep_default_na=False, na_values=[""])
    cols = {str(c).lower(): c for c in df.columns}
    bc = cols.get("barcode", cols.get("barcodes", cols.get("cell", df.columns[0])))
    lab = cols.get("label", cols.get("labels", cols.get("cell_type", df.columns[-1])))
    if bc == lab:
        raise InputError(f"the labels file {path} needs two columns: barcode, label.")
    series = df.drop_duplicates(bc).set_index(bc)[lab]
    values = series.reindex(adata.obs_names.astype(str))
    n_missing = int(values.isna().sum())
    if n_missing:
        warnings.warn(f"{n_missing} of {adata.n_obs} barcodes have no label in {path.name}; "
                      "their obs['label'] is NaN.", InputWarning, stacklevel=3)
    present = values.dropna().astype(str)
    adata.obs[keys.LABEL_KEY] = pd.Categorical(values.to_numpy(),
                                               categories=_natural_sort(set(present)))


# --- 10x h5 --------------------------------------------------------------------------------------
def read_10x_h5(path: PathLike, *, genome: str | None = None, gex_only: bool = True,
                var_names: Literal["gene_symbols", "gene_ids"] = "gene_symbols") -> AnnData:
    """Read a 10x Genomics HDF5 count file (CellRanger v3+ ``matrix`` group or v2 per genome).

    Parameters
    ----------
    path
        ``filtered_feature_bc_matrix.h5`` (v3) or ``filtered_gene_bc_matrices_h5.h5`` (v2).
    genome
        For v2 files with several genomes, the genome group to read (v3: keep features of this
        genome only). ``None`` reads the only genome (v2) or all features (v3).
    gex_only
        Keep only ``Gene Expression`` features (v3).
    var_names
        Gene symbols or gene ids as ``var_names``.

    Returns
    -------
    Cells x genes AnnData, ``X`` sparse CSR float32, ``layers['counts']``, ``var['gene_ids']``,
    ``var['gene_symbols']`` [, ``var['feature_types']``, ``var['genome']``],
    ``uns['gnngeno_source']``.

    Raises
    ------
    InputError
        When the file is not a 10x HDF5 file (the message points to the right reader), or a
        genome is not found.
    """
    import h5py

    check_choice(var_names, ("gene_symbols", "gene_ids"), "var_names")
    p = as_path(path, what="10x HDF5 file")
    _check_hdf5(p, "10x HDF5 file")
    try:
        with h5py.File(p, "r") as f:
            if "matrix" in f:
                grp = f["matrix"]
                ft = grp["features"]
                var = pd.DataFrame({"gene_ids": _strs(ft["id"]), "gene_symbols": _strs(ft["name"])})
                if "feature_type" in ft:
                    var["feature_types"] = _strs(ft["feature_type"])
                if "genome" in ft:
                    var["genome"] = _strs(ft["genome"])
            else:
                groups = [k for k in f if isinstance(f[k], h5py.Group) and "indptr" in f[k]]
                if not groups:
                    raise InputError(_not_10x_message(p, list(f.keys())))
                if genome is None and len(groups) > 1:
                    raise InputError(f"{p} holds several genomes {groups}; pass genome=... "
                                     "naming one.")
                name = genome if genome is not None else groups[0]
                if name not in groups:
                    raise InputError(f"genome={genome!r} is not in {p}; genomes: {groups}.")
                grp = f[name]
                ids = _strs(grp["genes"])
                syms = _strs(grp["gene_names"]) if "gene_names" in grp else ids
                var = pd.DataFrame({"gene_ids": ids, "gene_symbols": syms})
            n_genes, n_cells = (int(x) for x in grp["shape"][:])
            X = sp.csr_matrix((grp["data"][:].astype(np.float32), grp["indices"][:],
                               grp["indptr"][:]), shape=(n_cells, n_genes))
            barcodes = _strs(grp["barcodes"])
    except InputError:
        raise
    except (OSError, KeyError, ValueError) as err:
        raise InputError(f"could not read {p} as a 10x HDF5 file ({type(err).__name__}: {err}). "
                         "It may be truncated, or in another layout: try "
                         "gnngeno.io.read_expression(path).") from err
    if len(var) != n_genes or len(barcodes) != n_cells:
        raise InputError(f"{p}: the matrix is {n_genes} genes x {n_cells} cells but the file "
                         f"lists {len(var)} features and {len(barcodes)} barcodes.")
    var.index = pd.Index(var["gene_symbols"] if var_names == "gene_symbols" else var["gene_ids"])
    adata = new_adata(X, pd.DataFrame(index=pd.Index(barcodes)), var, path=p)
    keep = np.ones(adata.n_vars, dtype=bool)
    if gex_only and "feature_types" in var and var["feature_types"].nunique() > 1:
        keep &= (var["feature_types"] == "Gene Expression").to_numpy()
    if genome is not None and "genome" in var:
        if not (var["genome"] == genome).any():
            raise InputError(f"genome={genome!r} is not in {p}; genomes: "
                             f"{sorted(var['genome'].unique())}.")
        keep &= (var["genome"] == genome).to_numpy()
    if not keep.all():
        adata = adata[:, keep].copy()
    return finish_adata(adata, p, "10x_h5")


def _strs(dataset) -> np.ndarray:
    arr = dataset[:]
    if arr.dtype.kind in "SO":
        return np.array([x.decode() if isinstance(x, bytes) else str(x) for x in arr], dtype=object)
    return arr.astype(str).astype(object)


def _not_10x_message(p: Path, top: list[str]) -> str:
    if "X" in top and ("obs" in top or "var" in top):
        fix = "it looks like an AnnData file: use gnngeno.io.read_h5ad(path)"
    elif "X" in top:
        fix = "it holds a dense X dataset: use gnngeno.io.read_dense_h5(path)"
    else:
        fix = "use gnngeno.io.read_expression(path) to pick a reader by content"
    return (f"{p} is not a 10x Genomics HDF5 file (no 'matrix' group nor genome group with "
            f"'indptr'; top-level keys: {top[:10]}); {fix}.")


# --- dense h5 ------------------------------------------------------------------------------------
def read_dense_h5(path: PathLike, *, sparse: bool = True) -> AnnData:
    """Read the dense ``X``/``Y`` HDF5 layout (scDeepCluster/scDCC ``*.h5`` files).

    The file holds ``X``, a dense cells x genes matrix, and optionally ``Y``, one integer label
    per cell. Such files carry no names, so genes are called ``gene_0000``, ``gene_0001``, ...
    and cells ``cell_00000``, ... (names are read from datasets ``gene_names``/``var_names`` and
    ``cell_names``/``barcodes``/``obs_names`` when present).

    Parameters
    ----------
    path
        The ``.h5`` file.
    sparse
        Store ``X`` as CSR (these files are mostly zeros); ``False`` keeps a dense array.

    Returns
    -------
    Cells x genes AnnData: ``X`` float32, ``layers['counts']`` (copy, when the values are
    counts), ``obs['label']`` (categorical of the labels as strings, e.g. ``"1"``) when ``Y``
    exists, ``uns['gnngeno_source']``.

    Raises
    ------
    InputError
        When the file has no 2-D ``X`` dataset (the message points to the right reader), or
        ``Y`` does not have one entry per cell.
    """
    import h5py

    p = as_path(path, what="dense HDF5 file")
    _check_hdf5(p, "dense HDF5 file")
    try:
        with h5py.File(p, "r") as f:
            top = list(f.keys())
            if "X" not in f or not isinstance(f["X"], h5py.Dataset):
                if "matrix" in f or any(isinstance(f[k], h5py.Group) and "indptr" in f[k]
                                        for k in top):
                    fix = "it is a 10x Genomics file: use gnngeno.io.read_10x_h5(path)"
                elif "obs" in top and "var" in top:
                    fix = "it looks like an AnnData file: use gnngeno.io.read_h5ad(path)"
                else:
                    fix = "use gnngeno.io.read_expression(path) to pick a reader by content"
                raise InputError(f"{p} has no dense 'X' dataset (top-level keys: {top[:10]}); "
                                 f"{fix}.")
            X = f["X"][:]
            y = f["Y"][:] if "Y" in f else None
            gene_names = next((_strs(f[k]) for k in ("gene_names", "var_names", "genes")
                               if k in f and isinstance(f[k], h5py.Dataset)), None)
            cell_names = next((_strs(f[k]) for k in ("cell_names", "obs_names", "barcodes")
                               if k in f and isinstance(f[k], h5py.Dataset)), None)
    except InputError:
        raise
    except (OSError, KeyError, ValueError) as err:
        raise InputError(f"could not read {p} ({type(err).__name__}: {err}); the file may be "
                         "truncated or corrupt.") from err
    if X.ndim != 2:
        raise InputError(f"'X' in {p} has shape {X.shape}; a 2-D cells x genes matrix is needed.")
    n_cells, n_genes = X.shape
    if gene_names is None or len(gene_names) != n_genes:
        gene_names = [f"gene_{i:0{max(4, len(str(n_genes - 1)))}d}" for i in range(n_genes)]
    if cell_names is None or len(cell_names) != n_cells:
        cell_names = [f"cell_{i:0{max(5, len(str(n_cells - 1)))}d}" for i in range(n_cells)]
    X = X.astype(np.float32, copy=False)
    adata = new_adata(sp.csr_matrix(X) if sparse else X,
                      pd.DataFrame(index=pd.Index(cell_names)),
                      pd.DataFrame(index=pd.Index(gene_names)), path=p)
    if y is not None:
        y = np.asarray(y).ravel()
        if len(y) != n_cells:
            raise InputError(f"'Y' in {p} has {len(y)} labels but 'X' has {n_cells} cells.")
        if y.dtype.kind == "f" and np.isfinite(y).all() and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        labels = [x.decode() if isinstance(x, bytes) else str(x) for x in y]
        adata.obs[keys.LABEL_KEY] = pd.Categorical(labels, categories=_natural_sort(set(labels)))
    return finish_adata(adata, p, "dense_h5")


def _natural_sort(values) -> list[str]:
    def key(s: str):
        try:
            return (0, float(s), s)
        except ValueError:
            return (1, 0.0, s)

    return sorted(values, key=key)


# --- text tables ---------------------------------------------------------------------------------
def _axis_score(labels: pd.Index) -> float:
    sample = labels[:: max(1, len(labels) // 1000)]
    return float(np.mean([label_kind(x) for x in sample])) if len(sample) else 0.0


def _detect_orientation(rows: pd.Index, cols: pd.Index, path: Path) -> str:
    r, c = _axis_score(rows), _axis_score(cols)
    if r - c >= 0.5 and r > 0:
        return "genes_x_cells"
    if c - r >= 0.5 and c > 0:
        return "cells_x_genes"
    raise InputError(
        f"could not tell from the labels whether the rows or the columns of {path} are genes "
        f"(row labels e.g. {[str(x) for x in rows[:3]]}, column labels e.g. "
        f"{[str(x) for x in cols[:3]]}). Pass orientation='genes_x_cells' (one gene per row) "
        "or orientation='cells_x_genes' (one cell per row)."
    )


def read_table(path: PathLike, *, orientation: Orientation = "auto",
               sep: str | None = None) -> AnnData:
    """Read an expression matrix stored as a delimited text table (csv/tsv, optionally ``.gz``).

    The first column holds the row labels and the first line the column labels.

    Parameters
    ----------
    path
        ``.csv``, ``.tsv``, ``.txt`` or ``.tab`` file, optionally gzip-compressed.
    orientation
        ``"genes_x_cells"`` (one gene per row, BEELINE/GENELink style), ``"cells_x_genes"``, or
        ``"auto"``: decided from the labels (Ensembl ids and symbol-like names are genes;
        barcodes, names containing ``cell``/``_``/``:`` are cells). An ambiguous table raises
        an InputError asking for ``orientation=...``.
    sep
        Column separator; by default from the extension (``.csv`` -> ``,``, ``.tsv`` -> tab)
        or sniffed from the first line.

    Returns
    -------
    Cells x genes AnnData, ``X`` dense float32, ``layers['counts']`` (copy, when the values are
    counts), ``uns['gnngeno_source'] = {'path', 'format': 'table', 'orientation'}``.

    Raises
    ------
    InputError
        For another file type, non-numeric columns, or an undecidable orientation.
    """
    check_choice(orientation, ("auto", "genes_x_cells", "cells_x_genes"), "orientation")
    p = as_path(path, what="expression table")
    name = strip_gz(p.name)
    if not name.endswith(_TABLE_EXTS):
        raise InputError(f"{p.name} is not a text table ({', '.join(_TABLE_EXTS)}, optionally "
                         ".gz). Use gnngeno.io.read_expression(path), which picks the reader from "
                         "the file type, or rename the file if it really is delimited text.")
    df = read_csv(p, what="expression table", sep=guess_sep(p, sep), index_col=0)
    if df.shape[1] == 0:
        raise InputError(f"{p} has a single column; check sep= (now {guess_sep(p, sep)!r}).")
    non_numeric = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if non_numeric:
        raise InputError(f"{p} has non-numeric column(s) {[str(c) for c in non_numeric[:5]]}; "
                         "expected one label column followed by numbers only. Remove annotation "
                         "columns (e.g. gene descriptions), or pass sep=... if the separator "
                         "was guessed wrong.")
    if orientation == "auto":
        orientation = _detect_orientation(df.index.astype(str), df.columns.astype(str), p)
    values = df.to_numpy(dtype=np.float32)
    rows, cols = df.index.astype(str), df.columns.astype(str)
    if orientation == "genes_x_cells":
        values, cells, genes = np.ascontiguousarray(values.T), cols, rows
    else:
        cells, genes = rows, cols
    adata = new_adata(values, pd.DataFrame(index=pd.Index(cells, name=None)),
                      pd.DataFrame(index=pd.Index(genes, name=None)), path=p)
    adata = finish_adata(adata, p, "table")
    adata.uns[keys.READER_SOURCE_KEY]["orientation"] = orientation
    return adata


# --- dispatch ------------------------------------------------------------------------------------
def read_expression(path: PathLike, **kwargs) -> AnnData:
    """Read an expression matrix, choosing the reader from the file type or folder content.

    ================================  ==========================================================
    input                             reader
    ================================  ==========================================================
    ``.h5ad``                         :func:`read_h5ad`
    ``.h5``/``.hdf5``                 :func:`read_10x_h5`, :func:`read_dense_h5` or
                                      :func:`read_h5ad`, by content
    folder with ``matrix.mtx(.gz)``   :func:`read_10x_mtx` (also a path to the ``.mtx`` file)
    folder with ``ExpressionData``    :func:`read_table` (genes x cells, BEELINE)
    ``.csv``/``.tsv``/``.txt(.gz)``   :func:`read_table`
    ================================  ==========================================================

    Parameters
    ----------
    path
        File or folder.
    **kwargs
        Passed to the chosen reader (e.g. ``orientation=`` for tables, ``backed=`` for h5ad).

    Returns
    -------
    Cells x genes AnnData (see the chosen reader).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    InputError
        For a file type no reader handles (the message lists the supported ones).
    """
    p = as_path(path, what="expression file", kind="any")
    if p.is_dir():
        if any(re.search(r"matrix\.mtx(\.gz)?$", q.name) for q in p.iterdir()):
            return read_10x_mtx(p, **kwargs)
        expr = find_file(p, ("BL--ExpressionData", "ExpressionData"))
        if expr is not None:
            kwargs.setdefault("orientation", "genes_x_cells")
            return read_table(expr, **kwargs)
        raise InputError(f"the folder {p} holds no expression matrix that gnngeno can read. "
                         f"Supported: {_supported()}.")
    name = strip_gz(p.name)
    suffix = Path(name).suffix
    if suffix == ".h5ad":
        return read_h5ad(p, **kwargs)
    if suffix in _H5_EXTS:
        return _read_h5_by_content(p, **kwargs)
    if suffix == ".mtx":
        return read_10x_mtx(p, **kwargs)
    if name.endswith(_TABLE_EXTS):
        return read_table(p, **kwargs)
    hint = _HINTS.get(suffix)
    raise InputError(f"cannot read {p.name}: the file type {suffix or '(no extension)'!r} is not "
                     f"supported{' (' + hint + ')' if hint else ''}. Supported: {_supported()}.")


def _read_h5_by_content(p: Path, **kwargs) -> AnnData:
    import h5py

    _check_hdf5(p, "HDF5 file")
    with h5py.File(p, "r") as f:
        top = list(f.keys())
        enc = f.attrs.get("encoding-type", b"")
        enc = enc.decode() if isinstance(enc, bytes) else str(enc)
        is_10x = "matrix" in f or any(isinstance(f[k], h5py.Group) and "indptr" in f[k]
                                      for k in top)
    if enc == "anndata" or ("obs" in top and "var" in top):
        return read_h5ad(p, **kwargs)
    if is_10x:
        return read_10x_h5(p, **kwargs)
    if "X" in top:
        return read_dense_h5(p, **kwargs)
    raise InputError(f"{p} is an HDF5 file in none of the layouts gnngeno reads (top-level keys: "
                     f"{top[:10]}). Supported: {_supported()}.")
