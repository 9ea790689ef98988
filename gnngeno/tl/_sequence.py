"""Per-gene sequence embeddings as gene (node) features: ``encode_sequences``."""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .. import _keys as keys
from .._logging import logger
from .._settings import resolve_seed
from .._validate import InputError, InputWarning, check_adata, check_choice
from ..io._sequence import check_sequences

FALLBACKS = ("mean", "zero", "nan")


def _sequence_table(sequences, gene_col: str | None, sequence_col: str, var_names) -> pd.DataFrame:
    """-> DataFrame with columns ``gene``, ``sequence`` (one row per sequence)."""
    if isinstance(sequences, str | os.PathLike):
        sequences = pd.read_csv(sequences, sep=None, engine="python")
    if isinstance(sequences, dict):
        sequences = pd.Series(sequences)
    if isinstance(sequences, pd.Series):
        df = pd.DataFrame({"gene": sequences.index.astype(str),
                           "sequence": sequences.astype(str).to_numpy()})
    elif isinstance(sequences, pd.DataFrame):
        if sequence_col not in sequences.columns:
            raise InputError(f"the sequence table has no column {sequence_col!r} (columns: "
                             f"{list(sequences.columns)}); pass sequence_col=...")
        genes = set(map(str, var_names))
        if gene_col is None:
            candidates = {c: sequences[c].astype(str).isin(genes).sum()
                          for c in sequences.columns
                          if c != sequence_col and sequences[c].dtype == object}
            candidates["<index>"] = sequences.index.astype(str).isin(genes).sum()
            gene_col = max(candidates, key=candidates.get)
            logger.info(f"encode_sequences: matching genes on column {gene_col!r} "
                        f"({candidates[gene_col]} rows match adata.var_names)")
        elif gene_col not in sequences.columns:
            raise InputError(f"the sequence table has no column {gene_col!r} (columns: "
                             f"{list(sequences.columns)}).")
        gene = (sequences.index.astype(str) if gene_col == "<index>"
                else sequences[gene_col].astype(str))
        df = pd.DataFrame({"gene": np.asarray(gene),
                           "sequence": sequences[sequence_col].astype(str).to_numpy()})
    else:
        raise InputError(f"sequences must be a DataFrame (gene and sequence columns), a Series or "
                         f"dict gene -> sequence, or a path; got {type(sequences).__name__}.")
    df = df[df["sequence"].str.len() > 0].reset_index(drop=True)
    if df.empty:
        raise InputError("the sequence table holds no sequence.")
    df["sequence"] = check_sequences(df["sequence"].tolist(), what="the gene sequences")
    return df


def _train_encoder(df: pd.DataFrame, sequences, labels, *, length: int, seed: int,
                   model_kwargs: dict[str, Any] | None, train_kwargs: dict[str, Any] | None):
    """Train the SequenceModel of :func:`encode_sequences` on the table's sequences: on
    ``labels`` when given, else against dinucleotide shuffles. Returns the model and its
    validation values at the kept epoch."""
    from ..models._sequence_model import SequenceModel

    user = dict(model_kwargs or {})
    mk = dict(n_filters=32, filter_size=11, n_hidden=16, dropout=0.2, seed=seed)
    if "hidden" in user:  # the old name of n_hidden
        mk.pop("n_hidden")
    mk.update(user)
    tk = dict(max_epochs=6, batch_size=256, patience=2)
    tk.update(train_kwargs or {})
    if labels is None:
        from ..data._sequence import add_shuffled_negatives

        uniq = df["sequence"].drop_duplicates().tolist()
        X, y = add_shuffled_negatives(uniq, seed=seed)
        task = "binary"
        logger.info(f"encode_sequences: training a SequenceModel to tell {len(uniq)} "
                    "sequences from dinucleotide shuffles")
    else:
        if isinstance(labels, str):
            if labels not in sequences.columns:
                raise InputError(f"labels={labels!r} is not a column of the sequence table.")
            lab = pd.Series(np.asarray(sequences[labels], float), index=df.index)
        else:
            lab = pd.Series(labels)
            lab.index = lab.index.astype(str)
            lab = df["gene"].map(lab)
        keep = lab.notna().to_numpy()
        if keep.sum() < 20:
            raise InputError(f"only {int(keep.sum())} sequences have a label; need at least "
                             "20 to train a model.")
        X, y = df.loc[keep, "sequence"].tolist(), lab[keep].to_numpy(np.float32)
        task = "binary" if np.isin(y, (0.0, 1.0)).all() else "regression"
    mk.setdefault("task", task)
    model = SequenceModel(length=length, **mk)
    model.train(X, y, **tk)
    hist = model.history
    metrics = {}
    if len(hist):
        metrics = {k: float(v) for k, v in hist.loc[model.history_.best_epoch].items()
                   if k.startswith("val_")}
    return model, metrics


def encode_sequences(
    adata,
    sequences,
    *,
    model=None,
    gene_col: str | None = None,
    sequence_col: str = "sequence",
    labels: pd.Series | str | None = None,
    layer: str = "hidden",
    fallback: str = "mean",
    length: int | None = None,
    model_kwargs: dict[str, Any] | None = None,
    train_kwargs: dict[str, Any] | None = None,
    batch_size: int = 1024,
    key_added: str = keys.SEQUENCE_EMBEDDING_KEY,
    seed: int | None = None,
    copy: bool = False,
):
    """Embed each gene's sequence (e.g. its promoter) with a sequence CNN, as gene features.

    Parameters
    ----------
    adata
        Cells x genes AnnData.
    sequences
        Per-gene sequences: a DataFrame with a gene column and a sequence column (several rows
        per gene, e.g. alternative promoters, are averaged), a Series/dict gene -> sequence, or a
        path to such a table (e.g. ``data/seq/promoters/human_epdnew_core_promoters.tsv.gz``).
    model
        A trained :class:`~gnngeno.models.SequenceModel`. ``None`` trains a small one on the
        sequences of the table: on ``labels`` when given, else to tell each sequence from a
        dinucleotide-shuffled copy (self-supervised; learns promoter elements such as TATA,
        Inr, GC and CAAT boxes).
    gene_col
        Column of ``sequences`` holding gene names that match ``adata.var_names`` (default: the
        column with the most matches, e.g. ``gene_symbol`` or ``ensembl_gene_id``).
    sequence_col
        Column holding the sequences.
    labels
        Per-gene targets for the trained model (Series indexed like the gene column, or the name
        of a column of ``sequences``); 0/1 values give a binary task, others a regression.
    layer
        ``"hidden"`` (penultimate layer) or ``"pooled"`` (pooled filter activations).
    fallback
        Features of genes without a sequence: ``"mean"`` (mean over encoded genes), ``"zero"``
        or ``"nan"``.
    length
        Crop/pad sequences to this length (default: the longest).
    model_kwargs, train_kwargs
        Passed to :class:`~gnngeno.models.SequenceModel` and its ``train`` when a model is trained.
    batch_size
        Sequences per forward pass.
    key_added
        Output key.
    seed
        Random seed (default ``settings.seed``).
    copy
        Return a new AnnData instead of writing into ``adata``.

    Returns
    -------
    ``None`` (or the new AnnData with ``copy=True``); writes

    - ``adata.varm[key_added]``: ``(n_genes, D)`` float32 embeddings;
    - ``adata.var[f"{key_added}_found"]``: whether the gene had a sequence;
    - ``adata.uns[key_added]``: ``params``, ``n_missing``, ``missing_genes``, and
      ``model_metrics`` when a model was trained here.
    """
    check_adata(adata, min_cells=1)
    check_choice(fallback, FALLBACKS, "fallback")
    check_choice(layer, ("hidden", "pooled"), "layer")
    seed = resolve_seed(seed)
    var_names = adata.var_names.astype(str)
    df = _sequence_table(sequences, gene_col, sequence_col, var_names)
    lens = df["sequence"].str.len()
    length = int(length or lens.max())
    metrics: dict[str, float] = {}
    if model is None:
        model, metrics = _train_encoder(df, sequences, labels, length=length, seed=seed,
                                        model_kwargs=model_kwargs, train_kwargs=train_kwargs)
    elif not getattr(model, "is_trained_", False):
        raise InputError("model is not trained; train it first or pass model=None.")
    from ..data._sequence import one_hot_encode

    emb = model.embed(one_hot_encode(df["sequence"].tolist(), length=length), layer=layer,
                      batch_size=batch_size)
    per_gene = pd.DataFrame(emb, index=df["gene"].to_numpy()).groupby(level=0).mean()
    found = var_names.isin(per_gene.index)
    out = np.full((len(var_names), emb.shape[1]), np.nan, dtype=np.float32)
    if found.any():
        out[found] = per_gene.loc[var_names[found]].to_numpy(np.float32)
    missing = var_names[~found].tolist()
    if not found.any():
        raise InputError(
            f"no gene of adata.var_names (e.g. {list(var_names[:3])}) has a sequence in the "
            f"table (gene names e.g. {df['gene'].head(3).tolist()}). Check identifiers (symbols "
            "vs Ensembl ids, species, case) or pass gene_col= naming the matching column.")
    if missing:
        msg = (f"{len(missing)} of {len(var_names)} genes have no sequence (e.g. "
               f"{missing[:5]}); they get fallback={fallback!r} features.")
        warnings.warn(msg, InputWarning, stacklevel=2)
        logger.info(msg)
        if fallback == "mean":
            out[~found] = out[found].mean(0)
        elif fallback == "zero":
            out[~found] = 0.0
    target = adata.copy() if copy else adata
    target.varm[key_added] = out
    target.var[f"{key_added}_found"] = found
    target.uns[key_added] = {
        "params": {"layer": layer, "fallback": fallback, "length": length,
                   "n_sequences": int(len(df)), "seed": seed,
                   "model": repr(model), "labels": None if labels is None else
                   (labels if isinstance(labels, str) else "given")},
        "n_missing": len(missing),
        "missing_genes": missing,
        "model_metrics": metrics,
    }
    return target if copy else None
