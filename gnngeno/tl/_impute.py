"""``tl.impute``: dropout imputation with a GNN on the cell graph, in one call."""

from __future__ import annotations

from typing import Any

from .. import _keys as keys
from .._compat import renamed_kwargs
from .._settings import resolve_seed

VALUES = {"counts": "log1p(counts normalised to 1e4 per cell)",
          "log": "the input's log-normalised scale"}


@renamed_kwargs(encoder="conv", num_layers="n_layers", epochs="max_epochs")
def impute(
    adata,
    *,
    layer: str | None = "auto",
    key_added: str = keys.IMPUTED_LAYER,
    likelihood: str = "auto",
    conv: str = "sgc",
    n_layers: int = 1,
    n_neighbors: int = 15,
    n_pcs: int = 50,
    graph_key: str | None = "auto",
    transformer: str | None = None,
    max_epochs: int | None = None,
    batch_size: int | None = 256,
    patience: int | None = 10,
    device: str | None = None,
    seed: int | None = None,
    keep_observed: bool = True,
    dtype: str = "float32",
    copy: bool = False,
    model_kwargs: dict[str, Any] | None = None,
    train_kwargs: dict[str, Any] | None = None,
    return_model: bool = False,
):
    """Impute dropouts with :class:`gnngeno.models.GraphImputer` and store the result.

    Takes the expression where it is: raw counts are modelled as counts (zero-inflated
    negative binomial) and log-normalised expression on its own scale (Gaussian), without a
    second normalisation. Reuses the cell graph already in ``adata.obsp`` (from
    :func:`gnngeno.gr.cell_graph` or scanpy) or builds a kNN graph on PCA of the
    (log-normalised) expression, trains a graph encoder by reconstructing randomly hidden
    entries (self-supervised; no labels), and writes the denoised expression of every cell.

    Parameters
    ----------
    adata
        Cells x genes AnnData.
    layer
        Expression layer (``None``: ``adata.X``); ``"auto"`` (default): the ``"counts"`` layer
        when present, else ``adata.X``. Raw counts or log-normalised values; negative, NaN or
        infinite values, values that are neither, and cells without counts are refused with
        an error that says how to fix them.
    key_added
        Name of the output layer.
    likelihood
        ``"auto"`` (default): ``"zinb"`` for counts, ``"gaussian"`` for log-normalised input;
        or ``"zinb"``, ``"nb"`` (counts only) or ``"gaussian"``.
    conv, n_layers
        Graph encoder (``"sgc"``, default: each cell's neighbours' mean PCA, computed once,
        enters its input layer; ``"gcn"`` or ``"gat"``: message-passing layers, about twice
        the CPU time) and hops (``"sgc"``: 1 or 0; see :class:`gnngeno.models.GraphImputer`).
    n_neighbors, n_pcs, graph_key, transformer
        Cell graph: ``graph_key="auto"`` (default) reuses ``adata.obsp["gnngeno_cell_
        connectivities"]`` or scanpy's ``adata.obsp["connectivities"]`` when present (the log
        says so); a key names another graph in ``adata.obsp``; otherwise (or with ``None``)
        one is built with :func:`gnngeno.gr.cell_graph` (``n_neighbors``, ``n_pcs``,
        ``transformer``) and not stored.
    max_epochs, batch_size, patience, device
        Training options (see :meth:`gnngeno.models.GraphImputer.train`). The log says when
        training stopped at ``max_epochs`` while the validation loss was still improving.
    seed
        Random seed (default ``gnngeno.settings.seed``); the same seed gives the same result
        on CPU.
    keep_observed
        ``True`` (default): dropout imputation, only zero entries take the model's prediction
        and every observed entry keeps its own value; ``False``: every entry is the model's
        prediction (denoising, as scVI's normalised expression).
    dtype
        Output type: ``"float32"`` (default) or ``"float16"`` (half the memory, about three
        significant digits).
    copy
        Return a new AnnData instead of writing into ``adata``.
    model_kwargs, train_kwargs
        Further arguments of :class:`~gnngeno.models.GraphImputer` (``n_hidden``, ``n_latent``,
        ``activation``, ``dropout``, ...) and of its ``train`` (``lr``, ``l1``, ``l2``,
        ``mask_fraction``, ``weight_decay``, ``distributed``, ...).
    return_model
        Also return the trained model: ``(result, model)``.

    Returns
    -------
    ``None``, or the new AnnData with ``copy=True`` (with ``return_model=True`` the pair
    ``(that, model)``). Writes

    - ``.layers[key_added]``: dense cells x genes of ``dtype``. For counts, the **log1p of
      counts normalised to 10 000 per cell** (as ``sc.pp.normalize_total(target_sum=1e4);
      sc.pp.log1p``): observed counts keep ``log1p(1e4 * count / library)`` (with
      ``keep_observed=True``) and the other entries are ``log1p(1e4 * rho)`` with ``rho`` the
      decoded expression proportions (the negative-binomial mean, without zero inflation,
      over the library size). For log-normalised input, values on that same scale: observed
      entries unchanged, the others the predicted mean;
    - ``.uns[key_added]["params"]``: the parameters (``layer`` and ``likelihood`` as used,
      ``input_scale``, ``values``), and ``["history"]`` the training history (loss,
      val_loss, val_l1 per epoch).

    Notes
    -----
    Every entry of the output has a value, so the layer takes ``cells * genes * 4`` bytes
    (2 with ``dtype="float16"``): several times a sparse input with few non-zeros. For data
    that does not fit, write the rows to a file block by block with
    :meth:`gnngeno.models.GraphImputer.get_imputed` and ``out=``
    (:class:`gnngeno.io.ChunkWriter`). The counts and the graph stay sparse, and training and
    imputation go through batches of cells, so the rest grows linearly with cells.

    Examples
    --------
    >>> import gnngeno as gg
    >>> adata, _ = gg.datasets.simulate(n_cells=200, n_genes=50, n_tfs=5, seed=0)
    >>> gg.tl.impute(adata, transformer="sklearn", max_epochs=2)  # doctest: +SKIP
    >>> adata.layers["gnngeno_imputed"].shape  # doctest: +SKIP
    (200, 50)
    """
    from ..models import GraphImputer

    seed = resolve_seed(seed)
    model_kwargs = dict(model_kwargs or {})
    train_kwargs = dict(train_kwargs or {})
    model = GraphImputer(adata, layer=layer, graph_key=graph_key, n_neighbors=n_neighbors,
                         n_pcs=n_pcs, transformer=transformer, conv=conv, n_layers=n_layers,
                         likelihood=likelihood, seed=seed, **model_kwargs)
    model.train(max_epochs=max_epochs, batch_size=batch_size, patience=patience, device=device,
                **train_kwargs)
    imputed = model.get_imputed(device=device, keep_observed=keep_observed, dtype=dtype)
    adata = adata.copy() if copy else adata
    adata.layers[key_added] = imputed
    adata.uns[key_added] = {
        "params": {"layer": model.layer, "likelihood": model.module.likelihood, "conv": conv,
                   "n_layers": n_layers, "n_neighbors": n_neighbors, "n_pcs": n_pcs,
                   "graph_key": graph_key, "seed": seed, "keep_observed": keep_observed,
                   "dtype": str(dtype), "input_scale": model.input_scale_,
                   "values": VALUES[model.input_scale_],
                   **({"target_sum": 1e4} if model.input_scale_ == "counts" else {}),
                   **{k: v for k, v in model.train_params_.items() if k != "seconds"},
                   **{k: v for k, v in model_kwargs.items()}},
        "history": model.history.reset_index().to_dict(orient="list"),
    }
    result = adata if copy else None
    return (result, model) if return_model else result


__all__ = ["impute"]
