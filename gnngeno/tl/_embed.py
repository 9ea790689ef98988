"""``tl.embed``: autoencoder embeddings of cells (``.obsm``) or genes (``.varm``)."""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import numpy as np

from .. import _keys as keys
from .._logging import logger
from .._settings import resolve_seed
from .._validate import InputError, check_adata


def _train_options() -> set[str]:
    from ..models import Embedder

    return {p for p in inspect.signature(Embedder.train).parameters if p != "self"}


def _split_flat_options(flat: dict[str, Any], model_kwargs: dict[str, Any],
                        train_kwargs: dict[str, Any]) -> None:
    """Old flat options of ``tl.embed`` (``**kwargs``) go to ``train_kwargs`` when
    :meth:`~gnngeno.models.Embedder.train` takes them, else to ``model_kwargs``, with a
    :class:`DeprecationWarning`."""
    if not flat:
        return
    train_names = _train_options()
    for k, v in flat.items():
        target = train_kwargs if k in train_names else model_kwargs
        if k in target:
            raise TypeError(f"tl.embed() got {k}= both as a keyword argument and in "
                            f"{'train_kwargs' if target is train_kwargs else 'model_kwargs'}; "
                            "pass it once.")
        target[k] = v
    moved_t = sorted(k for k in flat if k in train_names)
    moved_m = sorted(k for k in flat if k not in train_names)
    where = " and ".join(
        part for part in (f"model_kwargs={{{', '.join(repr(k) for k in moved_m)}: ...}}"
                          if moved_m else "",
                          f"train_kwargs={{{', '.join(repr(k) for k in moved_t)}: ...}}"
                          if moved_t else "") if part)
    warnings.warn(f"tl.embed(): passing {', '.join(f'{k}=' for k in flat)} as keyword "
                  f"arguments is deprecated and will be removed in the next release; pass "
                  f"{where} instead.", DeprecationWarning, stacklevel=3)


def embed(
    adata,
    *,
    kind: str = "vae",
    layer: str | None = None,
    graph: str = "cell",
    conv: str = "sgc",
    likelihood: str = "auto",
    n_latent: int = 20,
    graph_key: str | None = None,
    use_highly_variable: bool | None = None,
    max_epochs: int | None = None,
    batch_size: int | None = None,
    patience: int = 30,
    device: str | None = None,
    distributed: bool = False,
    seed: int | None = None,
    key_added: str | None = None,
    model_kwargs: dict[str, Any] | None = None,
    train_kwargs: dict[str, Any] | None = None,
    copy: bool = False,
    return_model: bool = False,
    **kwargs: Any,
):
    """Learn a low-dimensional embedding with :class:`gnngeno.models.Embedder` and store it.

    Cells (``kind="vae"``, ``"ae"``, or ``"gae"``/``"vgae"`` on the cell graph) are embedded
    into ``adata.obsm[key_added]`` (default ``"X_gnngeno"``), ready for
    ``sc.pp.neighbors(adata, use_rep="X_gnngeno")``, clustering and UMAP; genes
    (``"gae"``/``"vgae"`` with ``graph="gene"``) into ``adata.varm[key_added]`` (default
    ``"gnngeno_embedding"``).

    Parameters
    ----------
    adata
        Cells x genes AnnData.
    kind
        ``"vae"`` (default; NB variational autoencoder), ``"ae"``, ``"gae"`` or ``"vgae"``.
    layer
        Layer with the expression (raw counts for the count likelihoods); ``None``: ``X``.
    graph
        ``"cell"`` or ``"gene"`` (graph kinds).
    conv
        Graph kinds' encoder: ``"sgc"`` (mini-batches), ``"gcn"`` or ``"gat"`` (full-graph
        steps: pass ``batch_size=None``).
    likelihood
        ``"vae"``/``"ae"``: ``"nb"``, ``"zinb"``, ``"gaussian"`` or ``"auto"``.
    n_latent
        Embedding size.
    graph_key
        Use the cell graph ``.obsp[f"{graph_key}_connectivities"]`` (or ``.obsp[graph_key]``;
        genes: ``.varp[graph_key]``) instead of building one.
    use_highly_variable
        Train on the genes with ``adata.var["highly_variable"]`` (as :func:`scanpy.pp.pca`);
        ``None``: when that column exists. Gene embeddings of the other genes are NaN.
    max_epochs, batch_size, patience, device, distributed
        Options of :meth:`Embedder.train <gnngeno.models.Embedder.train>` (``distributed``:
        data-parallel training under ``torchrun``).
    seed
        Random seed (default ``settings.seed``).
    key_added
        Output key (``.obsm`` or ``.varm``); parameters go to ``.uns[uns_key]["params"]``
        where ``uns_key`` is ``key_added`` without a leading ``"X_"``.
    model_kwargs
        Other :class:`~gnngeno.models.Embedder` options (``n_hidden``, ``n_layers``,
        ``activation``, ``dropout``, ``input_noise``, ``hops``, ``n_neighbors``, ``n_pcs``,
        ...).
    train_kwargs
        Other :meth:`Embedder.train <gnngeno.models.Embedder.train>` options (``lr``, ``l1``,
        ``l2``, ``weight_decay``, ``kl_warmup``, ``validation_fraction``, ``early_stopping``,
        ``checkpoint_path``, ...).
    copy
        Return a new AnnData instead of writing into ``adata``.
    return_model
        Also return the trained :class:`~gnngeno.models.Embedder`.
    **kwargs
        Deprecated: options of the model or of its training given directly; pass them in
        ``model_kwargs`` / ``train_kwargs``.

    Returns
    -------
    ``None``, or the new AnnData with ``copy=True``; with ``return_model=True`` the pair
    ``(that result, model)``. Writes

    - ``.obsm[key_added]`` (cells, n_latent) float32, for cell embeddings, or
      ``.varm[key_added]`` (genes, n_latent) for gene embeddings;
    - ``.uns[uns_key]["params"]``: the parameters, ``["history"]`` the per-epoch losses and
      ``["best_epoch"]`` the epoch whose parameters were kept.

    Examples
    --------
    >>> import gnngeno as gg
    >>> adata, _ = gg.datasets.simulate(n_cells=200, n_genes=50, n_tfs=5, seed=0)
    >>> gg.tl.embed(adata, layer="counts", n_latent=5, max_epochs=2)
    >>> adata.obsm["X_gnngeno"].shape
    (200, 5)
    """
    from ..models import Embedder

    model_kwargs, train_kwargs = dict(model_kwargs or {}), dict(train_kwargs or {})
    _split_flat_options(kwargs, model_kwargs, train_kwargs)
    check_adata(adata, layer=layer, min_cells=3, min_genes=2)
    adata = adata.copy() if copy else adata
    seed = resolve_seed(seed)
    data, mask, use_highly_variable = _training_genes(adata, use_highly_variable)
    model = Embedder(data, kind=kind, layer=layer, graph=graph, conv=conv, likelihood=likelihood,
                     n_latent=n_latent, graph_key=graph_key, seed=seed, **model_kwargs)
    model.train(**{"max_epochs": max_epochs, "batch_size": batch_size, "patience": patience,
                   "device": device, "distributed": distributed, **train_kwargs})
    key = _write(adata, model.get_latent(), model.axis, key_added, mask)
    uns_key = key[2:] if key.startswith("X_") else key
    params = {"kind": kind, "layer": layer, "graph": graph if model.is_graph else None,
              "conv": conv if model.is_graph else None, "n_latent": n_latent,
              "graph_key": graph_key, "use_highly_variable": bool(use_highly_variable),
              "seed": seed, "axis": model.axis, "key_added": key,
              "likelihood": model.likelihood, "feature_likelihood": model.feature_likelihood,
              **model.train_params_,
              **{k: v for k, v in {**model_kwargs, **train_kwargs}.items()
                 if isinstance(v, str | int | float | bool) or v is None}}
    hist = model.history
    adata.uns[uns_key] = {"params": params,
                          "history": {c: hist[c].to_numpy() for c in hist.columns},
                          "best_epoch": int(model.history_.best_epoch)}
    what = "cells" if model.axis == "obs" else "genes"
    logger.info(f"tl.embed: {kind} embedding of {model.n_obs_} {what} -> .{model.axis}m[{key!r}]")
    result = adata if copy else None
    return (result, model) if return_model else result


def _training_genes(adata, use_highly_variable: bool | None):
    """``(data, mask, use_highly_variable)``: the AnnData to train on (the highly variable
    genes when asked, or when marked and not refused) and the gene mask (``None``: all)."""
    if use_highly_variable is None:
        use_highly_variable = "highly_variable" in adata.var
    if not use_highly_variable:
        return adata, None, False
    if "highly_variable" not in adata.var:
        raise InputError("use_highly_variable=True but adata.var has no 'highly_variable' "
                         "column; run sc.pp.highly_variable_genes(adata, ...) first.")
    mask = adata.var["highly_variable"].to_numpy(dtype=bool)
    if mask.sum() < 2:
        raise InputError(f"only {int(mask.sum())} highly variable gene(s); need >= 2.")
    return adata[:, mask], mask, True


def _write(adata, Z: np.ndarray, axis: str, key_added: str | None, mask) -> str:
    """Store the embedding in ``.obsm`` (cells) or ``.varm`` (genes; NaN for genes outside
    ``mask``) and return its key."""
    if axis == "obs":
        key = key_added or keys.CELL_EMBEDDING_KEY
        adata.obsm[key] = Z
        return key
    key = key_added or keys.GENE_EMBEDDING_KEY
    if mask is not None:
        full = np.full((adata.n_vars, Z.shape[1]), np.nan, dtype=np.float32)
        full[mask] = Z
        Z = full
    adata.varm[key] = Z
    return key


__all__ = ["embed"]
