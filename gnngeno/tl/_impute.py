"""``tl.impute``: dropout imputation with a GNN on the cell graph, in one call."""

from __future__ import annotations

from typing import Any

from .. import _keys as keys
from .._settings import resolve_seed


def impute(
    adata,
    *,
    layer: str | None = keys.COUNTS_LAYER,
    key_added: str = keys.IMPUTED_LAYER,
    likelihood: str = "zinb",
    conv: str = "sgc",
    n_layers: int = 1,
    n_neighbors: int = 15,
    n_pcs: int = 50,
    graph_key: str | None = None,
    transformer: str | None = None,
    max_epochs: int | None = None,
    batch_size: int | None = 256,
    patience: int | None = 10,
    device: str | None = None,
    seed: int | None = None,
    keep_observed: bool = True,
    copy: bool = False,
    model_kwargs: dict[str, Any] | None = None,
    train_kwargs: dict[str, Any] | None = None,
):
    """Impute dropouts with :class:`gnngeno.models.GraphImputer` and store the result.

    Builds a kNN graph of the cells (PCA of the log-normalised counts, or the graph in
    ``adata.obsp`` named by ``graph_key``), trains a graph encoder with a zero-inflated
    negative-binomial decoder by reconstructing randomly hidden entries (self-supervised; no labels), and writes
    the denoised expression of every cell.

    Parameters
    ----------
    adata
        Cells x genes AnnData with raw counts in ``layer``.
    layer
        Layer with raw counts (``None``: ``adata.X``). Negative, non-integer (for
        ``likelihood="nb"``/``"zinb"``), NaN or infinite values and cells without counts are
        refused with an error that says how to fix them.
    key_added
        Name of the output layer.
    likelihood
        ``"zinb"`` (default), ``"nb"`` or ``"gaussian"`` (MSE on log-normalised values).
    conv, n_layers
        Graph encoder (``"sgc"``, default: each cell's neighbours' mean PCA, computed once,
        enters its input layer; ``"gcn"`` or ``"gat"``: message-passing layers, about twice
        the CPU time) and hops (``"sgc"``: 1 or 0; see :class:`gnngeno.models.GraphImputer`).
    n_neighbors, n_pcs, graph_key, transformer
        Cell graph: built with :func:`gnngeno.gr.cell_graph` (``n_neighbors``, ``n_pcs``,
        ``transformer``) unless ``graph_key`` names one already in ``adata.obsp``.
    max_epochs, batch_size, patience, device
        Training options (see :meth:`gnngeno.models.GraphImputer.train`).
    seed
        Random seed (default ``gnngeno.settings.seed``); the same seed gives the same result
        on CPU.
    keep_observed
        ``True`` (default): dropout imputation, only zero entries take the model's prediction
        and every observed count keeps its own normalised value; ``False``: every entry is
        the model's prediction (denoising, as scVI's normalised expression).
    copy
        Return a new AnnData instead of writing into ``adata``.
    model_kwargs, train_kwargs
        Further arguments of :class:`~gnngeno.models.GraphImputer` (``n_hidden``, ``n_latent``,
        ``activation``, ``dropout``, ...) and of its ``train`` (``lr``, ``l1``, ``l2``,
        ``mask_fraction``, ...).

    Returns
    -------
    ``None``, or the new AnnData with ``copy=True``. Writes

    - ``.layers[key_added]``: dense ``float32`` cells x genes, the **log1p of counts normalised
      to 10 000 per cell**, comparable to ``sc.pp.normalize_total(target_sum=1e4);
      sc.pp.log1p``: observed counts keep ``log1p(1e4 * count / library)`` (with
      ``keep_observed=True``) and the other entries are ``log1p(1e4 * rho)`` with ``rho`` the
      decoded expression proportions (the negative-binomial mean, without zero inflation, over
      the library size);
    - ``.uns[key_added]["params"]``: the parameters, and ``["history"]`` the training
      history (loss, val_loss, val_l1 per epoch).

    Notes
    -----
    Memory grows linearly with cells: the counts and the graph stay sparse, training and
    imputation go through batches of cells with their graph neighbourhood, and the only dense
    cells x genes array is the output layer (4 bytes per entry). See
    :class:`~gnngeno.models.GraphImputer`.

    Examples
    --------
    >>> import gnngeno as gg
    >>> adata, _ = gg.datasets.simulate(n_cells=200, n_genes=50, n_tfs=5, seed=0)
    >>> gg.tl.impute(adata, layer="counts", transformer="sklearn", max_epochs=2)  # doctest: +SKIP
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
    imputed = model.get_imputed(device=device, keep_observed=keep_observed)
    adata = adata.copy() if copy else adata
    adata.layers[key_added] = imputed
    adata.uns[key_added] = {
        "params": {"layer": layer, "likelihood": likelihood, "conv": conv,
                   "n_layers": n_layers, "n_neighbors": n_neighbors, "n_pcs": n_pcs,
                   "graph_key": graph_key, "seed": seed, "target_sum": 1e4,
                   "keep_observed": keep_observed,
                   "values": "log1p(counts normalised to 1e4 per cell)",
                   **{k: v for k, v in model.train_params_.items() if k != "seconds"},
                   **{k: v for k, v in model_kwargs.items()}},
        "history": model.history.reset_index().to_dict(orient="list"),
    }
    return adata if copy else None


__all__ = ["impute"]
