"""Input checks shared by every public entry point.

Every check raises :class:`InputError` (a :class:`ValueError`) whose message names the problem
and the fix, or warns (:class:`InputWarning`) on suspicious but usable input. None of them
changes its argument.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import _keys as keys


class InputError(ValueError):
    """Input that gnngeno cannot work with; the message says what is wrong and how to fix it."""


class InputWarning(UserWarning):
    """Input that is usable but probably not what the user meant."""


def _values(X) -> np.ndarray:
    """The stored values of a dense or sparse matrix (no copy for CSR/CSC)."""
    if sp.issparse(X):
        return np.asarray(X.data)
    return np.asarray(X)


def get_matrix(adata, layer: str | None = None):
    """Return ``adata.layers[layer]`` (or ``adata.X`` when ``layer`` is None) without copying.

    Raises
    ------
    InputError
        When ``layer`` is not in ``adata.layers`` (the message lists the layers present).
    """
    if layer is None:
        if adata.X is None:
            raise InputError("adata.X is empty (None). Pass layer=... naming a layer that holds "
                             f"the expression values; layers present: {list(adata.layers)}.")
        return adata.X
    if layer not in adata.layers:
        raise InputError(
            f"layer {layer!r} is not in adata.layers (present: {list(adata.layers) or 'none'}). "
            "Pass layer=None to use adata.X, or store raw counts first, e.g. "
            "adata.layers['counts'] = adata.X.copy()."
        )
    return adata.layers[layer]


def check_finite(X, what: str = "the expression matrix") -> None:
    """Raise when ``X`` holds NaN or infinite values."""
    vals = _values(X)
    if vals.dtype.kind in "fc" and not np.isfinite(vals).all():
        n_nan = int(np.isnan(vals).sum())
        n_inf = int(np.isinf(vals).sum())
        raise InputError(
            f"{what} contains {n_nan} NaN and {n_inf} infinite values. Remove or fill them first "
            "(e.g. np.nan_to_num, or drop the affected cells/genes)."
        )


def check_nonnegative(X, what: str = "the expression matrix") -> None:
    """Raise when ``X`` holds negative values."""
    vals = _values(X)
    if vals.size and vals.min() < 0:
        raise InputError(
            f"{what} contains {int((vals < 0).sum())} negative values (minimum {vals.min():.4g}). "
            "Expected non-negative expression (raw counts or log-normalised values); pass "
            "unscaled data, e.g. the layer that holds raw counts."
        )


def _is_integer_valued(X, tol: float = 1e-6) -> bool:
    """Whether every stored value of ``X`` is a whole number."""
    vals = _values(X)
    if vals.dtype.kind in "iub":
        return True
    if vals.size == 0:
        return True
    sample = vals if vals.size <= 2_000_000 else vals[:: max(1, vals.size // 2_000_000)]
    return bool(np.all(np.abs(sample - np.round(sample)) <= tol))


def is_counts(X, tol: float = 1e-6) -> bool:
    """Whether ``X`` holds raw counts: finite, non-negative whole numbers.

    The one test gnngeno uses to decide whether expression is counts (and is log-normalised
    before PCA or graph building, or modelled with a count likelihood) or already transformed.
    A matrix with no stored values counts as counts. Matrices with more than two million stored
    values are judged on an evenly spaced sample of them for the whole-number test.

    Parameters
    ----------
    X
        Dense array or SciPy sparse matrix (only the stored values of a sparse matrix are read).
    tol
        Largest distance to the nearest whole number still taken as whole.

    Returns
    -------
    ``True`` for raw counts, ``False`` for negative, non-finite or fractional values.

    Examples
    --------
    >>> import numpy as np
    >>> from gnngeno.pp import is_counts
    >>> is_counts(np.array([[0, 3], [1, 2]])), is_counts(np.log1p(np.array([[0.0, 3.0]])))
    (True, False)
    """
    vals = _values(X)
    if vals.size == 0:
        return True
    if vals.dtype.kind in "fc" and not np.isfinite(vals).all():
        return False
    if vals.min() < 0:
        return False
    return _is_integer_valued(vals, tol)


def check_counts(X, what: str = "the count matrix") -> None:
    """Raise unless ``X`` holds finite, non-negative, whole-number counts."""
    check_finite(X, what)
    check_nonnegative(X, what)
    if not _is_integer_valued(X):
        raise InputError(
            f"{what} holds non-integer values, but raw counts are required here. Pass the layer "
            "with raw counts (layer='counts'), or use a Gaussian/MSE likelihood for "
            "log-normalised data."
        )


def warn_if_lognormalized(X, what: str = "the count matrix") -> None:
    """Warn when data given as counts look log-normalised (non-integer and small)."""
    vals = _values(X)
    if vals.size and not _is_integer_valued(X) and np.nanmax(vals) < 30:
        warnings.warn(
            f"{what} looks log-normalised (non-integer values, maximum {np.nanmax(vals):.3g}), "
            "but counts were expected. Pass the raw-count layer (e.g. layer='counts').",
            InputWarning,
            stacklevel=3,
        )


def check_unique_names(names: Iterable[Any], what: str = "gene names") -> None:
    """Raise when ``names`` contains duplicates (shows a few of them)."""
    index = pd.Index(names)
    if not index.is_unique:
        dups = index[index.duplicated()].unique()[:5].tolist()
        fix = ("adata.var_names_make_unique()" if "gene" in what else "adata.obs_names_make_unique()")
        raise InputError(f"{what} are not unique (e.g. {dups}). Make them unique first: {fix}.")


# What gene and cell names look like (used by check_orientation and by the table reader to
# tell whether the rows of a text table are genes or cells).
_ENSEMBL = re.compile(r"^ENS[A-Z]*[GT]\d{6,}")
_BARCODE = re.compile(r"^([A-Za-z0-9]+[_:\-.#])?[ACGTN]{8,}(-\d+)?([_:\-.#][A-Za-z0-9]+)?$")
_CELL_WORD = re.compile(r"(?i)(cell|barcode|sample|^bc\d)")
_GENE_WORD = re.compile(r"(?i)^(gene|feature)[_\-.]?\d+$")
_SYMBOL = re.compile(r"^[A-Za-z][A-Za-z0-9\-.@/]{0,19}$")


def label_kind(label: str) -> int:
    """+1 when ``label`` looks like a gene name, -1 like a cell name, 0 when it cannot tell."""
    s = str(label).strip()
    if _GENE_WORD.match(s) or _ENSEMBL.match(s):
        return 1
    if _CELL_WORD.search(s) or _BARCODE.match(s) or re.search(r"[_:#]", s):
        return -1
    if _SYMBOL.match(s) and re.search(r"[A-Za-z]", s):
        return 1
    return 0


def looks_like_cell(label: str) -> bool:
    """Whether ``label`` looks like a cell name: a barcode or a ``cell``/``sample`` name."""
    s = str(label)
    return bool(_BARCODE.match(s) or _CELL_WORD.search(s))


def check_orientation(adata, what: str = "adata") -> None:
    """Raise when ``adata`` looks transposed: observations named like genes and variables named
    like cells (barcodes, ``cell...``/``sample...`` names)."""
    def sample(names) -> list[str]:
        names = [str(x) for x in names]
        return names[:: max(1, len(names) // 500)]

    obs, var = sample(adata.obs_names), sample(adata.var_names)
    if len(obs) < 2 or len(var) < 2:
        return
    obs_gene = np.mean([label_kind(x) == 1 for x in obs])
    var_cell = np.mean([looks_like_cell(x) for x in var])
    if obs_gene >= 0.9 and var_cell >= 0.9:
        raise InputError(
            f"{what} looks transposed (genes x cells): its {adata.n_obs} rows are named like "
            f"genes (e.g. {obs[:3]}) and its {adata.n_vars} columns like cells (e.g. {var[:3]}). "
            "gnngeno expects cells x genes: pass adata.T (e.g. adata = adata.T.copy())."
        )


def check_adata(adata, *, layer: str | None = None, min_cells: int = 2, min_genes: int = 1,
                counts: bool = False, allow_empty_cells: bool = True,
                allow_empty_genes: bool | str = True, what: str | None = None):
    """Check an AnnData for the problems every gnngeno entry point refuses, return its matrix.

    Parameters
    ----------
    adata
        Cells x genes AnnData.
    layer
        Layer to check, ``None`` for ``adata.X``.
    min_cells, min_genes
        Smallest acceptable shape.
    counts
        Require raw counts (finite, non-negative, whole numbers).
    allow_empty_cells, allow_empty_genes
        Whether cells (genes) with no counts are accepted; ``allow_empty_genes="warn"`` accepts
        them with an :class:`InputWarning`.
    what
        How to name the matrix in messages.

    Returns
    -------
    The matrix (``adata.X`` or the layer), not copied.
    """
    from anndata import AnnData

    if not isinstance(adata, AnnData):
        raise InputError(
            f"expected an AnnData (cells x genes), got {type(adata).__name__}. Read your data "
            "with gnngeno.io.read_expression(path) or wrap a matrix with anndata.AnnData(X)."
        )
    what = what or (f"adata.layers[{layer!r}]" if layer else "adata.X")
    if adata.n_obs == 0 or adata.n_vars == 0:
        raise InputError(f"{what} is empty ({adata.n_obs} cells x {adata.n_vars} genes). "
                         "Check the filtering that produced it.")
    if adata.n_obs < min_cells:
        raise InputError(f"{what} has {adata.n_obs} cell(s); at least {min_cells} are needed. "
                         "If cells and genes are swapped, pass adata.T.")
    if adata.n_vars < min_genes:
        raise InputError(f"{what} has {adata.n_vars} gene(s); at least {min_genes} are needed.")
    check_unique_names(adata.var_names, "gene names (adata.var_names)")
    check_unique_names(adata.obs_names, "cell names (adata.obs_names)")
    check_orientation(adata, what)
    X = get_matrix(adata, layer)
    if counts:
        check_counts(X, what)
    else:
        check_finite(X, what)
    if not allow_empty_cells or allow_empty_genes is not True:
        nz_cells, nz_genes = nonzero_per_axis(X)
        if not allow_empty_cells and (nz_cells == 0).any():
            n = int((nz_cells == 0).sum())
            raise InputError(
                f"{what} has {n} cell(s) with no counts (e.g. {adata.obs_names[nz_cells == 0][:3].tolist()}). "
                "Remove them first: sc.pp.filter_cells(adata, min_counts=1)."
            )
        if allow_empty_genes is not True and (nz_genes == 0).any():
            n = int((nz_genes == 0).sum())
            msg = (f"{what} has {n} gene(s) with no counts (e.g. "
                   f"{adata.var_names[nz_genes == 0][:3].tolist()}). Remove them first: "
                   "sc.pp.filter_genes(adata, min_counts=1).")
            if allow_empty_genes == "warn":
                warnings.warn(msg.replace("Remove them first", "They carry no signal; remove "
                                          "them first"), InputWarning, stacklevel=3)
            else:
                raise InputError(msg)
    return X


def nonzero_per_axis(X) -> tuple[np.ndarray, np.ndarray]:
    """Number of non-zero entries per row and per column."""
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        rows = np.diff(X.indptr)
        cols = np.bincount(X.indices[X.data != 0], minlength=X.shape[1])
        if (X.data == 0).any():
            rows = np.asarray((X != 0).sum(axis=1)).ravel()
        return rows, cols
    X = np.asarray(X)
    return (X != 0).sum(axis=1), (X != 0).sum(axis=0)


def check_network(net: pd.DataFrame, *, source: str = keys.SOURCE, target: str = keys.TARGET,
                  what: str = "the network") -> None:
    """Raise unless ``net`` is a DataFrame with non-empty ``source`` and ``target`` columns."""
    if not isinstance(net, pd.DataFrame):
        raise InputError(f"{what} must be a pandas DataFrame with columns '{source}', '{target}' "
                         f"[, 'weight'], got {type(net).__name__}. Read edge lists with "
                         "gnngeno.io.read_network(path).")
    missing = [c for c in (source, target) if c not in net.columns]
    if missing:
        raise InputError(f"{what} lacks column(s) {missing} (columns: {list(net.columns)}). "
                         "Rename them, or pass source=/target= naming your columns.")
    if len(net) == 0:
        raise InputError(f"{what} has no edges.")


def align_network(net: pd.DataFrame, genes: Sequence[str], *, what: str = "the network",
                  drop_self_loops: bool = True) -> pd.DataFrame:
    """Keep the edges of ``net`` whose two genes are in ``genes``; report what was dropped.

    Self-loops are dropped (reported), duplicate edges merged keeping the largest weight
    (reported), missing (NaN) weights set to 1 (reported). Raises when no edge remains or a
    weight is non-numeric or infinite.

    Returns
    -------
    A new ``source, target, weight`` DataFrame; ``net`` is unchanged.
    """
    from ._logging import logger

    check_network(net, what=what)
    out = net[[keys.SOURCE, keys.TARGET]].astype(str).copy()
    if keys.WEIGHT in net:
        w = pd.to_numeric(net[keys.WEIGHT], errors="coerce").to_numpy(dtype=float)
        bad = np.isinf(w) | (np.isnan(w) & net[keys.WEIGHT].notna().to_numpy())
        if bad.any():
            raise InputError(
                f"{what} has {int(bad.sum())} non-numeric or infinite edge weight(s) (e.g. "
                f"{net[keys.WEIGHT][bad].head(3).tolist()}). Fix them, drop those edges, or "
                "drop the weight column to give every edge weight 1."
            )
        if np.isnan(w).any():
            warnings.warn(f"{int(np.isnan(w).sum())} edge weight(s) of {what} are missing (NaN) "
                          "and set to 1.0 (as read_network does); fill them yourself, e.g. "
                          "net['weight'].fillna(...), to choose another value.", InputWarning,
                          stacklevel=2)
            w = np.where(np.isnan(w), 1.0, w)
        out[keys.WEIGHT] = w
    else:
        out[keys.WEIGHT] = 1.0
    gene_set = set(map(str, genes))
    present = out[keys.SOURCE].isin(gene_set) & out[keys.TARGET].isin(gene_set)
    n_missing = int((~present).sum())
    if n_missing:
        absent = pd.unique(pd.concat([out.loc[~out[keys.SOURCE].isin(gene_set), keys.SOURCE],
                                      out.loc[~out[keys.TARGET].isin(gene_set), keys.TARGET]]))
        msg = (f"{n_missing} of {len(out)} edges of {what} name genes absent from the expression "
               f"data ({len(absent)} genes, e.g. {list(absent[:5])}); they are left out.")
        if n_missing == len(out):
            raise InputError(msg.replace("they are left out.", "none remain.") +
                             " Check that the network and the expression use the same gene "
                             "identifiers (symbols vs Ensembl ids, species, case).")
        warnings.warn(msg, InputWarning, stacklevel=2)
        logger.info(msg)
        out = out[present]
    if drop_self_loops:
        loops = out[keys.SOURCE] == out[keys.TARGET]
        if loops.any():
            warnings.warn(f"{int(loops.sum())} self-loop(s) in {what} are left out.",
                          InputWarning, stacklevel=2)
            out = out[~loops]
    dup = out.duplicated([keys.SOURCE, keys.TARGET])
    if dup.any():
        warnings.warn(f"{int(dup.sum())} duplicate edge(s) in {what} were merged (largest weight "
                      "kept).", InputWarning, stacklevel=2)
        out = (out.sort_values(keys.WEIGHT, ascending=False)
               .drop_duplicates([keys.SOURCE, keys.TARGET]))
    if len(out) == 0:
        raise InputError(f"no edge of {what} remains after removing self-loops. A network "
                         "needs edges between two different genes (regulator -> target).")
    return out.reset_index(drop=True)


def check_tfs(tfs: Iterable[str], genes: Sequence[str], *, what: str = "the TF list") -> list[str]:
    """Return the TFs of ``tfs`` that are in ``genes`` (in ``genes`` order); raise if none are."""
    if isinstance(tfs, str):  # one name, not its letters
        tfs = [tfs]
    tf_list = [str(t) for t in tfs]
    if not tf_list:
        raise InputError(f"{what} is empty. Pass the transcription factors as gene names.")
    tf_set = set(tf_list)
    kept = [g for g in map(str, genes) if g in tf_set]
    if not kept:
        raise InputError(
            f"none of the {len(tf_set)} names in {what} (e.g. {tf_list[:3]}) is a gene of the "
            f"expression data (e.g. {list(genes)[:3]}). Check identifiers (symbols vs Ensembl "
            "ids, species, case)."
        )
    n_absent = len(tf_set) - len(kept)
    if n_absent:
        warnings.warn(f"{n_absent} of {len(tf_set)} TFs in {what} are not in the expression "
                      "data and are ignored.", InputWarning, stacklevel=2)
    return kept


def check_same_genes(expected: Sequence[str], received: Sequence[str], *,
                     what: str = "this model") -> None:
    """Raise when ``received`` gene names differ from ``expected`` (names or order)."""
    exp = pd.Index(expected)
    rec = pd.Index(received)
    if exp.equals(rec):
        return
    missing = exp.difference(rec)
    extra = rec.difference(exp)
    if len(missing) == 0 and len(extra) == 0:
        raise InputError(
            f"{what} was trained on the same {len(exp)} genes in another order. "
            f"Reorder the AnnData first: adata = adata[:, model.var_names].copy()."
        )
    raise InputError(
        f"{what} was trained on {len(exp)} genes but the AnnData has {len(rec)}: "
        f"{len(missing)} expected genes are missing (e.g. {missing[:5].tolist()}) and "
        f"{len(extra)} are unexpected (e.g. {extra[:5].tolist()}). Subset the AnnData to the "
        "model's genes (adata[:, model.var_names]) or train a new model."
    )


def check_choice(value: str, choices: Sequence[str], name: str) -> str:
    """Raise unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise InputError(f"{name}={value!r} is not supported; choose one of {list(choices)}.")
    return value


def check_fractions(fractions: Sequence[float], name: str = "split") -> tuple[float, ...]:
    """Check that split fractions are positive-or-zero and sum to 1."""
    fr = tuple(float(f) for f in fractions)
    if any(f < 0 for f in fr) or not np.isclose(sum(fr), 1.0):
        raise InputError(f"{name}={fractions} must be non-negative fractions summing to 1, "
                         "e.g. (0.7, 0.1, 0.2).")
    return fr
