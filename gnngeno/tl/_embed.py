"""``tl.embed``: autoencoder embeddings of cells (``.obsm``) or genes (``.varm``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _keys as keys
from .._logging import logger
from .._settings import resolve_seed
from .._validate import InputError, check_adata


def embed(
    adata,
    *,
    kind: str = "vae",
    layer: str | None = None,
    graph: str = "cell",
    n_latent: int = 20,
    use_highly_variable: bool | None = None,
    max_epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    validation_fraction: float = 0.1,
    early_stopping: bool = True,
    patience: int = 30,
    key_added: str | None = None,
    seed: int | None = None,
    device: str | None = None,
    copy: bool = False,
    return_model: bool = False,
    distributed: bool = False,
    **model_kwargs: Any,
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
    n_latent
        Embedding size.
    use_highly_variable
        Train on the genes with ``adata.var["highly_variable"]`` (as :func:`scanpy.pp.pca`);
        ``None``: when that column exists. Gene embeddings of the other genes are NaN.
    max_epochs, batch_size, lr, validation_fraction, early_stopping, patience
        Passed to :meth:`Embedder.train`.
    key_added
        Output key (``.obsm`` or ``.varm``); parameters go to ``.uns[uns_key]["params"]``
        where ``uns_key`` is ``key_added`` without a leading ``"X_"``.
    seed
        Random seed (default ``settings.seed``).
    device
        Torch device (default ``settings.device``).
    copy
        Return a new AnnData instead of writing into ``adata``.
    return_model
        Also return the trained :class:`~gnngeno.models.Embedder`.
    distributed
        Data-parallel training under ``torchrun`` (see :meth:`Embedder.train`).
    **model_kwargs
        Other :class:`~gnngeno.models.Embedder` options (``likelihood``, ``n_hidden``,
        ``n_layers``, ``activation``, ``dropout``, ``l1``, ``l2``, ``conv``, ...).

    Returns
    -------
    ``None`` (or the new AnnData with ``copy=True``; with ``return_model=True`` a tuple
    ``(adata or None, model)``). Writes

    - ``.obsm[key_added]`` (cells, n_latent) float32, for cell embeddings, or
      ``.varm[key_added]`` (genes, n_latent) for gene embeddings;
    - ``.uns[uns_key]["params"]``: the parameters, and ``["history"]`` the per-epoch losses.

    Examples
    --------
    >>> import gnngeno as gg
    >>> adata, _ = gg.datasets.simulate(n_cells=200, n_genes=50, n_tfs=5, seed=0)
    >>> gg.tl.embed(adata, layer="counts", n_latent=5, max_epochs=2)
    >>> adata.obsm["X_gnngeno"].shape
    (200, 5)
    """
    from ..models import Embedder

    check_adata(adata, layer=layer, min_cells=3, min_genes=2)
    adata = adata.copy() if copy else adata
    seed = resolve_seed(seed)
    if use_highly_variable is None:
        use_highly_variable = "highly_variable" in adata.var
    if use_highly_variable:
        if "highly_variable" not in adata.var:
            raise InputError("use_highly_variable=True but adata.var has no 'highly_variable' "
                             "column; run sc.pp.highly_variable_genes(adata, ...) first.")
        mask = adata.var["highly_variable"].to_numpy(dtype=bool)
        if mask.sum() < 2:
            raise InputError(f"only {int(mask.sum())} highly variable gene(s); need >= 2.")
        data = adata[:, mask]
    else:
        mask = None
        data = adata
    model = Embedder(data, kind=kind, layer=layer, graph=graph, n_latent=n_latent, seed=seed,
                     device=device, **model_kwargs)
    model.train(max_epochs=max_epochs, batch_size=batch_size, lr=lr,
                validation_fraction=validation_fraction, early_stopping=early_stopping,
                patience=patience, distributed=distributed)
    Z = model.get_latent()
    if model.axis == "obs":
        key = key_added or keys.CELL_EMBEDDING_KEY
        adata.obsm[key] = Z
    else:
        key = key_added or keys.GENE_EMBEDDING_KEY
        if mask is not None:
            full = np.full((adata.n_vars, Z.shape[1]), np.nan, dtype=np.float32)
            full[mask] = Z
            Z = full
        adata.varm[key] = Z
    uns_key = key[2:] if key.startswith("X_") else key
    params = {"kind": kind, "layer": layer, "graph": graph if model.is_graph else None,
              "n_latent": n_latent, "use_highly_variable": bool(use_highly_variable),
              "seed": seed, "axis": model.axis, "key_added": key,
              "likelihood": model.likelihood, "feature_likelihood": model.feature_likelihood,
              **{k: v for k, v in model.train_params_.items()},
              **{k: v for k, v in model_kwargs.items()
                 if isinstance(v, str | int | float | bool) or v is None}}
    hist = model.history
    adata.uns[uns_key] = {"params": params,
                          "history": {c: hist[c].to_numpy() for c in hist.columns},
                          "best_epoch": int(model.history_.best_epoch)}
    logger.info(f"tl.embed: {kind} embedding of {Z.shape[0]} {'cells' if model.axis == 'obs' else 'genes'}"
                f" -> .{model.axis}m[{key!r}]")
    result = adata if copy else None
    if return_model:
        return result, model
    return result


__all__ = ["embed"]
