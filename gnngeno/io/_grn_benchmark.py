"""Reader for BEELINE / GENELink GRN-inference benchmark folders."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from anndata import AnnData

from .. import _keys as keys
from .._logging import logger
from .._validate import InputError, InputWarning, check_adata
from ._network import _find_column, read_beeline_network, read_tfs
from ._utils import (
    MissingInputError,
    PathLike,
    as_path,
    drop_index_columns,
    find_file,
    finish_adata,
    new_adata,
    read_csv,
)

_EXPRESSION_STEMS = ("BL--ExpressionData", "ExpressionData")
_NETWORK_STEMS = ("BL--network", "refNetwork")
_SPLIT_STEMS = {"train": "Train_set", "validation": "Validation_set", "test": "Test_set"}
#: Split sub-folders tried by ``split="auto"``, in order.
AUTO_SPLITS = ("splits_bridge_sample1", "splits_genelink_demo")
LABEL = "label"


@dataclass
class GRNBenchmark:
    """A GRN-inference benchmark: expression, ground-truth network, TFs and train/test pairs.

    Attributes
    ----------
    adata
        Cells x genes AnnData; ``X`` float32 as stored (BEELINE's log-transformed values),
        ``var['is_tf']`` marks the TFs, ``uns['gnngeno_source']`` records the file read.
    network
        Every ground-truth edge: columns ``source``, ``target`` (gene symbols), ``weight``
        (1.0, or +1/-1 from a BEELINE ``Type`` column).
    tfs
        Transcription factors present in the expression matrix, in matrix (``var_names``) order.
    splits
        ``{"train", "validation", "test"}`` -> DataFrame with columns ``source``, ``target``
        (gene symbols) and ``label`` (int, 1 = ground-truth edge, 0 = negative pair); ``{}``
        when the folder holds no split.
    name
        Short name such as ``"mESC/Specific"``.
    path
        The folder that was read.
    leaks
        What the split files leak from training into evaluation, see
        :func:`audit_grn_splits` (``{}`` without split files).
    """

    adata: AnnData
    network: pd.DataFrame
    tfs: list[str]
    splits: dict[str, pd.DataFrame] = field(default_factory=dict)
    name: str = ""
    path: Path | None = None
    leaks: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        sp = ", ".join(f"{k}: {len(v)} pairs ({int(v[LABEL].sum())} pos)"
                       for k, v in self.splits.items()) or "none"
        return (f"GRNBenchmark({self.name!r}: {self.adata.n_obs} cells x {self.adata.n_vars} "
                f"genes, {len(self.tfs)} TFs, {len(self.network)} edges; splits: {sp})")


def read_grn_benchmark(folder: PathLike, *, split: str | None = "auto",
                       expression: PathLike | AnnData | None = None) -> GRNBenchmark:
    """Read a BEELINE / GENELink benchmark folder.

    The folder holds (each file ``.csv`` or ``.csv.gz``):

    * ``BL--ExpressionData`` (or BEELINE's ``ExpressionData``): genes x cells expression, row
      labels = gene symbols; read and transposed to cells x genes;
    * ``BL--network`` (or BEELINE's ``refNetwork``): ground-truth edges, columns ``Gene1``,
      ``Gene2`` [, ``Type``];
    * ``TF`` (optional): column ``TF``; without it the network's regulators are the TFs;
    * ``Target`` (needed by splits given as row indices): columns ``Gene``, ``index`` mapping
      the row indices used by the split files of **this** folder to gene symbols;
    * split files ``Train_set``, ``Validation_set``, ``Test_set`` (columns ``TF``, ``Target``,
      ``Label``) in a sub-folder (``splits_bridge_sample1/``, ``splits_genelink_demo/``) or in
      the folder itself (GENELink layout).

    Parameters
    ----------
    folder
        The benchmark folder, e.g. ``.../beeline_scrna/mESC/TFs500/Specific``.
    split
        ``"auto"``: ``splits_bridge_sample1/`` if present, else ``splits_genelink_demo/``, else
        split files in the folder itself, else the one sub-folder holding split files (an
        error when there are several), else no split. A name: that sub-folder (the
        ``splits_`` prefix may be left out; ``"."`` means the folder itself). ``None``: read no
        split.
    expression
        The expression to pair with the folder's network instead of its own: a BEELINE
        expression file (genes x cells csv, gene symbols in the first column) or a folder
        holding one, matched to the network by gene symbol. For folders that ship labels only,
        such as GENELink's mESC ``Lofgof`` (loss/gain-of-function) network, whose expression
        is that of the other mESC folders: ``expression=".../mESC/TFs500/Non-Specific"``.
        An :class:`~anndata.AnnData` (cells x genes, gene symbols as ``var_names``; for example
        another benchmark's ``adata``) is used as it is, without reading a file; it is copied,
        never changed.

    Returns
    -------
    :class:`GRNBenchmark` with ``adata``, ``network``, ``tfs``, ``splits``, ``name``, ``path``.

    Raises
    ------
    FileNotFoundError
        (also an :class:`~gnngeno.InputError`) when the folder, its expression file (without
        ``expression``; e.g. the ``Lofgof`` folder, which ships labels only) or its network
        file is missing.
    InputError
        When ``split`` names no split of the folder, or split indices cannot be mapped.

    Warns
    -----
    InputWarning
        When split pairs labelled 1 are not network edges (or pairs labelled 0 are), which
        means the row indices were mapped through the wrong ``Target`` file.

    Examples
    --------
    >>> bench = gnngeno.io.read_grn_benchmark("data/grn/beeline_scrna/mESC/TFs500/Specific")
    >>> bench.adata, bench.splits["train"].head()  # doctest: +SKIP
    """
    root = as_path(folder, what="GRN benchmark folder", kind="dir")
    own_expression = find_file(root, _EXPRESSION_STEMS)
    given = isinstance(expression, AnnData)
    expr_path = (own_expression if expression is None
                 else None if given else _expression_file(expression))
    net_path = find_file(root, _NETWORK_STEMS)
    if expression is not None and own_expression is not None and own_expression != expr_path:
        logger.info("%s: the given expression (%s) is used instead of the folder's own %s.",
                    root.name, "an AnnData" if given else expr_path, own_expression.name)
    if expr_path is None and not given:
        lofgof = " (the Lofgof benchmark ships labels only)" if "lofgof" in root.name.lower() else ""
        raise MissingInputError(
            f"no expression file in {root}{lofgof}: expected BL--ExpressionData.csv(.gz) or "
            f"ExpressionData.csv(.gz) (files present: {sorted(p.name for p in root.iterdir())}). "
            "Pair the network with an expression matrix of the same cells: "
            "read_grn_benchmark(folder, expression='.../mESC/TFs500/Non-Specific') (a file or "
            "a folder holding one; on the command line, --expression PATH)."
        )
    if net_path is None:
        raise MissingInputError(
            f"no ground-truth network in {root}: expected BL--network.csv(.gz) or "
            "refNetwork.csv(.gz) with columns Gene1, Gene2. Add it"
            + ("." if given else ", or read the expression alone with "
               f"gnngeno.io.read_table({str(expr_path)!r}, orientation='genes_x_cells').")
        )

    adata = _given_expression(expression) if given else _read_beeline_expression(expr_path)
    genes = adata.var_names
    network = read_beeline_network(net_path)
    absent = pd.unique(pd.concat([network[keys.SOURCE], network[keys.TARGET]]))
    absent = absent[~pd.Index(absent).isin(genes)]
    if len(absent):
        warnings.warn(f"{len(absent)} genes of the network {net_path.name} are not in the "
                      f"expression matrix (e.g. {list(absent[:5])}); their edges are kept in "
                      ".network.", InputWarning, stacklevel=2)

    tf_path = find_file(root, ("TF", "TFs"))
    tf_names = read_tfs(tf_path) if tf_path is not None else list(
        pd.unique(network[keys.SOURCE]))
    tf_set = set(tf_names)
    tfs = [g for g in genes if g in tf_set]
    if tf_path is None:
        logger.info("no TF.csv in %s: the %d network regulators in the matrix are the TFs.",
                    root, len(tfs))
    elif len(tfs) < len(tf_set):
        warnings.warn(f"{len(tf_set) - len(tfs)} of the {len(tf_set)} TFs of {tf_path.name} are "
                      "not in the expression matrix and are left out of .tfs.", InputWarning,
                      stacklevel=2)
    adata.var[keys.IS_TF_KEY] = genes.isin(tfs)

    split_dir = _resolve_split(root, split)
    splits = _read_splits(split_dir, root, genes, network) if split_dir is not None else {}
    name = _benchmark_name(root)
    leaks = audit_grn_splits(splits, undirected=is_undirected(name)) if splits else {}
    if leaks:
        logger.info("%s split audit: %d test negatives are training positives (%d reversed), "
                    "%d test positives are training positives (%d reversed), %d test pairs "
                    "are training negatives%s", name, leaks["test_neg_train_pos"],
                    leaks["test_neg_train_pos_reversed"], leaks["test_pos_train_pos"],
                    leaks["test_pos_train_pos_reversed"], leaks["test_pairs_train_neg"],
                    "; gnngeno.io.repair_grn_splits removes them" if any(leaks.values()) else "")
    return GRNBenchmark(adata=adata, network=network, tfs=tfs, splits=splits, name=name,
                        path=root, leaks=leaks)


def is_undirected(name: str) -> bool:
    """Whether a benchmark's reference network is undirected (STRING functional links)."""
    return "string" in str(name).lower()


def _pair_index(df: pd.DataFrame, reverse: bool = False) -> pd.MultiIndex:
    a, b = (keys.TARGET, keys.SOURCE) if reverse else (keys.SOURCE, keys.TARGET)
    return pd.MultiIndex.from_arrays([df[a].astype(str), df[b].astype(str)])


def _leak_masks(splits: dict[str, pd.DataFrame], part: str, undirected: bool
                ) -> dict[str, np.ndarray]:
    train = splits["train"]
    train_pos = _pair_index(train[train[LABEL] == 1])
    train_neg = _pair_index(train[train[LABEL] == 0])
    df = splits[part]
    neg = df[LABEL].to_numpy() == 0
    here, rev = _pair_index(df), _pair_index(df, reverse=True)
    # a directed reference: the reverse is another edge
    reversed_ = (rev.isin(train_pos) & ~here.isin(train_pos) if undirected
                 else np.zeros(len(df), bool))
    return {"neg_train_pos": neg & here.isin(train_pos), "neg_train_pos_reversed": neg & reversed_,
            "pos_train_pos": ~neg & here.isin(train_pos),
            "pos_train_pos_reversed": ~neg & reversed_, "pairs_train_neg": here.isin(train_neg)}


def audit_grn_splits(splits: dict[str, pd.DataFrame], *, undirected: bool = False
                     ) -> dict[str, int]:
    """Count the evaluation pairs of given split files that training has already seen.

    Parameters
    ----------
    splits
        ``{"train", "validation", "test"}`` pair tables (``source, target, label``).
    undirected
        The reference is undirected (STRING): a test negative whose reverse is a training
        positive is a known edge too.

    Returns
    -------
    dict with, for ``test`` (and ``val`` for validation): ``test_neg_train_pos`` (test
    negatives that are training positives), ``test_neg_train_pos_reversed`` (whose reverse is,
    counted for undirected references only), ``test_pos_train_pos`` (test positives that are
    training positives), ``test_pos_train_pos_reversed`` (test positives whose reverse is a
    training positive: for an undirected reference the same edge, seen in training; counted
    for undirected references only) and ``test_pairs_train_neg`` (test pairs that are
    training negatives); all 0 for a sound split.
    """
    out: dict[str, int] = {}
    for part, short in (("test", "test"), ("validation", "val")):
        if part not in splits or "train" not in splits:
            continue
        for k, m in _leak_masks(splits, part, undirected).items():
            out[f"{short}_{k}"] = int(m.sum())
    return out


def repair_grn_splits(bench: GRNBenchmark, *, undirected: bool | None = None) -> GRNBenchmark:
    """A copy of ``bench`` whose validation and test files hold no pair that training has
    seen (the rows counted by :func:`audit_grn_splits` are dropped); ``leaks`` is recomputed.

    Parameters
    ----------
    bench
        A benchmark read by :func:`read_grn_benchmark`.
    undirected
        Treat the reference as undirected (default: for STRING).
    """
    import copy

    und = is_undirected(bench.name) if undirected is None else bool(undirected)
    if not bench.splits:
        raise InputError(f"{bench.name or 'the benchmark'} holds no split files to repair.")
    splits = dict(bench.splits)
    for part in ("test", "validation"):
        if part in splits:
            bad = np.zeros(len(splits[part]), bool)
            for m in _leak_masks(bench.splits, part, und).values():
                bad |= m
            splits[part] = splits[part].loc[~bad].reset_index(drop=True)
    out = copy.copy(bench)
    out.splits = splits
    out.leaks = audit_grn_splits(splits, undirected=und)
    return out


def _expression_file(expression: PathLike) -> Path:
    """The BEELINE expression file that ``expression`` (a file, or a folder holding one)
    names."""
    path = as_path(expression, what="expression file or folder", kind="any")
    if path.is_file():
        return path
    found = find_file(path, _EXPRESSION_STEMS)
    if found is None:
        raise MissingInputError(
            f"no expression file in {path}: expected BL--ExpressionData.csv(.gz) or "
            f"ExpressionData.csv(.gz) (files present: {sorted(p.name for p in path.iterdir())}). "
            "Pass the file itself or a folder that holds one.")
    return found


def _given_expression(adata: AnnData) -> AnnData:
    """A copy of a cells x genes AnnData given as a benchmark's expression (the user's object is
    never changed: the reader marks TFs in ``var``), after the checks of every entry point
    (not empty, unique gene and cell names, not transposed, finite values)."""
    check_adata(adata, min_cells=1, what="the expression AnnData")
    return adata.copy()


def _read_beeline_expression(path: Path) -> AnnData:
    df = read_csv(path, what="expression file", sep=",", index_col=0)
    non_numeric = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if non_numeric:
        raise InputError(f"the expression file {path} has non-numeric column(s) "
                         f"{non_numeric[:5]}; expected genes x cells numbers with gene symbols "
                         "in the first column.")
    adata = new_adata(
        np.ascontiguousarray(df.to_numpy(dtype=np.float32).T),
        pd.DataFrame(index=pd.Index(df.columns.astype(str), name=None)),
        pd.DataFrame(index=pd.Index(df.index.astype(str), name=None)),
        path=path,
    )
    return finish_adata(adata, path, "beeline")


def _split_files(d: Path) -> dict[str, Path | None]:
    return {k: find_file(d, (stem,)) for k, stem in _SPLIT_STEMS.items()}


def _resolve_split(root: Path, split: str | None) -> Path | None:
    if split is None:
        return None
    candidates = [d for d in sorted(root.iterdir()) if d.is_dir() and any(
        _split_files(d).values())]
    here = any(_split_files(root).values())
    available = [d.name for d in candidates] + (["."] if here else [])
    if split == "auto":
        for name in AUTO_SPLITS:
            if (root / name).is_dir() and any(_split_files(root / name).values()):
                return root / name
        if here:
            return root
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            raise InputError(f"{root} holds several splits {available}; pass split=... naming "
                             "one of them (or None for no split).")
        return None
    if split in (".", ""):
        chosen = root if here else None
    else:
        chosen = next((root / n for n in (split, f"splits_{split}") if (root / n).is_dir()), None)
    if chosen is None:
        raise InputError(f"split={split!r} is not a split of {root}; available: "
                         f"{available or 'none'}. Pass one of them, 'auto', or None.")
    return chosen


def _target_map(root: Path, genes: pd.Index) -> np.ndarray:
    """Array ``row index -> gene symbol`` from the folder's Target file (else matrix order)."""
    tpath = find_file(root, ("Target",))
    if tpath is None:
        warnings.warn(f"no Target.csv in {root}: split row indices are mapped to genes in the "
                      "order of the expression matrix rows.", InputWarning, stacklevel=3)
        return np.asarray(genes, dtype=object)
    t = drop_index_columns(read_csv(tpath, what="Target file"))
    gcol, icol = _find_column(t.columns, "gene"), _find_column(t.columns, "index")
    if gcol is None:
        raise InputError(f"{tpath} lacks the Gene column (columns: {list(t.columns)}); it "
                         "should map row indices (column index) to gene symbols (column Gene).")
    idx = (t[icol].to_numpy(dtype=np.int64) if icol is not None
           else np.arange(len(t), dtype=np.int64))
    if len(idx) and (idx.min() < 0 or pd.Index(idx).has_duplicates):
        raise InputError(f"the index column of {tpath} has negative or repeated values; it "
                         "must give each gene one row index.")
    table = np.full(int(idx.max()) + 1 if len(idx) else 0, None, dtype=object)
    table[idx] = t[gcol].astype(str).to_numpy()
    return table


def _read_splits(split_dir: Path, root: Path, genes: pd.Index,
                 network: pd.DataFrame) -> dict[str, pd.DataFrame]:
    files = _split_files(split_dir)
    missing = [f"{_SPLIT_STEMS[k]}.csv(.gz)" for k, v in files.items() if v is None]
    if missing:
        raise MissingInputError(f"the split folder {split_dir} lacks {missing}. Add them, or "
                                "pass split=None to read the benchmark without a split.")
    table = None
    edges = pd.MultiIndex.from_arrays([network[keys.SOURCE], network[keys.TARGET]])
    out: dict[str, pd.DataFrame] = {}
    for key, path in files.items():
        df = drop_index_columns(read_csv(path, what=f"{key} split file"))
        cols = {r: _find_column(df.columns, r) for r in ("tf", "target", "label")}
        if cols["tf"] is None:
            cols["tf"] = _find_column(df.columns, "source")
        if any(c is None for c in cols.values()):
            raise InputError(f"the split file {path} needs columns TF, Target, Label (columns: "
                             f"{list(df.columns)}).")
        src, tgt = df[cols["tf"]], df[cols["target"]]
        if pd.api.types.is_integer_dtype(src) and pd.api.types.is_integer_dtype(tgt):
            if table is None:
                table = _target_map(root, genes)
            src, tgt = _map_indices(src, table, path), _map_indices(tgt, table, path)
        else:
            src, tgt = src.astype(str).to_numpy(), tgt.astype(str).to_numpy()
        unknown = ~(pd.Index(src).isin(genes) & pd.Index(tgt).isin(genes))
        if unknown.any():
            raise InputError(f"{int(unknown.sum())} pairs of {path} name genes absent from the "
                             f"expression matrix (e.g. {src[unknown][:3].tolist()} -> "
                             f"{tgt[unknown][:3].tolist()}): the split does not belong to this "
                             "folder's expression file.")
        label = pd.to_numeric(df[cols["label"]], errors="coerce")
        if label.isna().any() or not label.isin([0, 1]).all():
            raise InputError(f"the Label column of {path} must hold 0/1 only.")
        frame = pd.DataFrame({keys.SOURCE: src, keys.TARGET: tgt,
                              LABEL: label.to_numpy(dtype=np.int64)})
        _check_against_network(frame, edges, path)
        out[key] = frame
    return out


def _map_indices(col: pd.Series, table: np.ndarray, path: Path) -> np.ndarray:
    idx = col.to_numpy(dtype=np.int64)
    bad = (idx < 0) | (idx >= len(table))
    if not bad.any():
        names = table[idx]
        bad = pd.isna(names)
    if bad.any():
        raise InputError(f"{int(bad.sum())} row indices of {path} (e.g. {idx[bad][:3].tolist()}) "
                         "are not in the folder's Target.csv: the split does not belong to this "
                         "folder.")
    return table[idx].astype(str)


def _check_against_network(frame: pd.DataFrame, edges: pd.MultiIndex, path: Path) -> None:
    in_net = pd.MultiIndex.from_arrays([frame[keys.SOURCE], frame[keys.TARGET]]).isin(edges)
    pos = frame[LABEL].to_numpy() == 1
    n_pos_out = int((pos & ~in_net).sum())
    n_neg_in = int((~pos & in_net).sum())
    if n_pos_out or n_neg_in:
        warnings.warn(f"{path.name}: {n_pos_out} of {int(pos.sum())} pairs labelled 1 are not "
                      f"edges of the network and {n_neg_in} pairs labelled 0 are: either the "
                      "row indices were mapped through another folder's Target.csv, or the "
                      "split labels known edges as negatives (see the benchmark's .leaks; "
                      "gnngeno.io.repair_grn_splits removes leaking test pairs).",
                      InputWarning, stacklevel=4)


def _benchmark_name(root: Path) -> str:
    parent = root.parent
    if re.fullmatch(r"(?i)tfs?[+_-]?\d+", parent.name) and parent.parent.name:
        return f"{parent.parent.name}/{root.name}"
    return f"{parent.name}/{root.name}" if parent.name else root.name
