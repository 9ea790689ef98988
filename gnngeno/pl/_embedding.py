"""Embeddings (cells or genes) coloured by a key, over :func:`scanpy.pl.embedding`."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

from .. import _keys as keys
from .._settings import keep_torch_threads
from .._validate import InputError, check_choice
from ._utils import finish


def _basis_key(store, basis: str) -> str | None:
    for k in (basis, f"X_{basis}"):
        if k in store:
            return k
    return None


def embedding(
    adata,
    basis: str = keys.CELL_EMBEDDING_KEY,
    *,
    color: str | Sequence[str] | None = None,
    axis: str | None = None,
    umap: bool = False,
    n_neighbors: int = 15,
    seed: int = 0,
    ncols: int = 3,
    title: str | Sequence[str] | None = None,
    ax=None,
    save: str | os.PathLike | None = None,
    show: bool | None = None,
    **kwargs,
):
    """Scatter plot of an embedding coloured by ``.obs``/``.var`` keys or genes.

    A thin layer over :func:`scanpy.pl.embedding` that also draws gene embeddings
    (``.varm``), can compute a UMAP of a many-dimensional embedding on the fly (without writing
    into ``adata``), always returns the axes and saves to any path.

    Parameters
    ----------
    adata
        The AnnData holding the embedding.
    basis
        ``.obsm`` (cells) or ``.varm`` (genes) key, with or without the ``X_`` prefix, e.g.
        ``"X_gnngeno"`` (the default of :func:`gnngeno.tl.embed`), ``"X_umap"``, ``"X_pca"``.
    color
        Key(s) of ``.obs`` (``.var`` for gene embeddings) or gene names; one panel each.
        ``None``: one uncoloured panel.
    axis
        ``"obs"`` or ``"var"``; default: where ``basis`` is found (``.obsm`` first).
    umap
        Compute a 2-D UMAP of ``basis`` first (``scanpy.pp.neighbors(use_rep=basis)`` and
        ``scanpy.tl.umap`` on a light copy; ``adata`` is not changed). Without it the first
        two components of ``basis`` are drawn.
    n_neighbors, seed
        Neighbours and random state of that UMAP.
    ncols
        Panels per row when several colours are drawn.
    title
        Panel title(s) (default: the colour key, with the basis).
    ax
        Axes to draw into, one per colour.
    save
        File to write the figure to (format from the suffix).
    show
        Show the figure (default: unless ``save`` or ``ax`` is given).
    **kwargs
        Passed to :func:`scanpy.pl.embedding` (``size``, ``palette``, ``legend_loc``,
        ``components``, ``cmap``, ...).

    Returns
    -------
    The :class:`~matplotlib.axes.Axes`, or a list of them for several colours.
    """
    import anndata as ad
    import matplotlib.pyplot as plt
    import scanpy as sc

    if axis is None:
        axis = "obs" if _basis_key(adata.obsm, basis) else (
            "var" if _basis_key(adata.varm, basis) else "obs")
    check_choice(axis, ("obs", "var"), "axis")
    store = adata.obsm if axis == "obs" else adata.varm
    key = _basis_key(store, basis)
    if key is None:
        where = ".obsm" if axis == "obs" else ".varm"
        raise InputError(f"basis {basis!r} is not in adata{where} (present: {list(store)}). "
                         "Run gnngeno.tl.embed(adata) (or scanpy.tl.umap) first, or pass "
                         "basis= naming an existing embedding.")
    Z = np.asarray(store[key])
    if Z.ndim != 2 or Z.shape[1] < 2:
        raise InputError(f"embedding {key!r} has shape {Z.shape}; at least 2 columns are needed.")
    colors = [color] if color is None or isinstance(color, str) else list(color)
    palettes = {k: v for k, v in adata.uns.items() if str(k).endswith("_colors")}

    if axis == "obs":
        tmp = ad.AnnData(X=adata.X, obs=adata.obs.copy(), var=adata.var.copy(),
                         obsm={key: Z}, uns=dict(palettes))
    else:
        tmp = ad.AnnData(obs=adata.var.copy(), obsm={key: Z}, uns=dict(palettes))
    plot_basis = key
    if umap:
        with keep_torch_threads():
            sc.pp.neighbors(tmp, use_rep=key, n_neighbors=n_neighbors, random_state=seed)
            sc.tl.umap(tmp, random_state=seed)
        plot_basis = "X_umap"
    if not plot_basis.startswith("X_"):  # scanpy looks up "X_<basis>" or <basis> itself
        tmp.obsm[f"X_{plot_basis}"] = tmp.obsm.pop(plot_basis)
        plot_basis = f"X_{plot_basis}"

    if ax is not None:
        axes = list(np.ravel(ax)) if isinstance(ax, Sequence | np.ndarray) else [ax]
        if len(axes) != len(colors):
            raise InputError(f"{len(colors)} colour panel(s) but ax= holds {len(axes)} axes.")
    else:
        nc = min(ncols, len(colors))
        nr = math.ceil(len(colors) / nc)
        fig, grid = plt.subplots(nr, nc, figsize=(4.6 * nc, 4.0 * nr), squeeze=False)
        axes = list(grid.ravel())
        for extra in axes[len(colors):]:
            extra.set_axis_off()
        axes = axes[: len(colors)]
    titles = [title] * len(colors) if title is None or isinstance(title, str) else list(title)
    label = basis.removeprefix("X_") + (" (UMAP)" if umap else "")
    for a, c, t in zip(axes, colors, titles, strict=True):
        sc.pl.embedding(tmp, basis=plot_basis, color=c, ax=a, show=False,
                        title=t if t is not None else (f"{c} on {label}" if c else label),
                        **kwargs)
        a.set_xlabel(f"{label} 1")
        a.set_ylabel(f"{label} 2")
    fig = axes[0].figure
    if ax is None:
        fig.tight_layout()
    finish(fig, save=save, show=show, ax_given=ax is not None)
    return axes[0] if len(axes) == 1 else axes
