"""The top of an inferred regulatory network, drawn with networkx."""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .. import _keys as keys
from .._validate import InputError, check_choice, check_network
from ._utils import finish, new_axes

TF_COLOR = "#d95f02"
TARGET_COLOR = "#7f9fbf"


def _edges_from(edges, key: str) -> tuple[pd.DataFrame, list[str] | None]:
    """The edge table and (for an AnnData) the TFs marked in ``.var``."""
    if isinstance(edges, pd.DataFrame):
        return edges, None
    if hasattr(edges, "uns") and hasattr(edges, "var"):  # AnnData
        adata = edges
        if key not in adata.uns or "edges" not in adata.uns[key]:
            raise InputError(f"adata.uns[{key!r}]['edges'] not found; run "
                             "gnngeno.tl.infer_grn(adata, ...) first, pass key= naming its "
                             "key_added, or pass the edge DataFrame itself.")
        tfs = None
        if keys.IS_TF_KEY in adata.var:
            tfs = adata.var_names[adata.var[keys.IS_TF_KEY].to_numpy(dtype=bool)].tolist()
        return pd.DataFrame(adata.uns[key]["edges"]), tfs
    raise InputError(f"edges must be a DataFrame with columns source, target, score (or an "
                     f"AnnData after gnngeno.tl.infer_grn), got {type(edges).__name__}.")


def network(
    edges,
    *,
    top: int = 50,
    tfs: Iterable[str] | None = None,
    truth: pd.DataFrame | None = None,
    score: str = keys.SCORE,
    source: str = keys.SOURCE,
    target: str = keys.TARGET,
    key: str = keys.GRN_SCORES_KEY,
    layout: str = "shell",
    labels: bool = True,
    node_size: float = 260.0,
    width_range: tuple[float, float] = (0.4, 4.0),
    seed: int = 0,
    title: str | None = None,
    ax=None,
    save: str | os.PathLike | None = None,
    show: bool | None = None,
):
    """Draw the ``top`` best-scored edges of a regulatory network.

    TFs are drawn as orange triangles, other genes as blue circles; edge width grows with the
    score. With ``truth``, edges of the true network are drawn dark and the others light
    and dashed, so one can see at a glance how many of the top predictions are right.

    Parameters
    ----------
    edges
        DataFrame with ``source, target, score`` columns (e.g.
        :meth:`gnngeno.models.GRNPredictor.get_edges`), or an AnnData holding
        ``.uns[key]["edges"]`` (written by :func:`gnngeno.tl.infer_grn`).
    top
        Number of edges to draw (highest ``score`` first).
    tfs
        Genes to mark as TFs. Default: ``adata.var["is_tf"]`` for an AnnData, else every
        source of the drawn edges.
    truth
        True edges (a ``source, target`` DataFrame); marks the drawn edges right or wrong.
    score, source, target
        Column names in ``edges``.
    key
        ``.uns`` key to read from an AnnData.
    layout
        ``"shell"`` (genes with drawn out-going edges on an inner circle, pure targets
        outside; the default, readable when a few TFs regulate many genes), ``"spring"`` (force-directed; shows modules),
        ``"kamada_kawai"`` or ``"circular"``.
    labels
        Write gene names on the nodes.
    node_size
        Marker area of target genes (TFs get 1.6x).
    width_range
        Line width of the lowest and highest drawn score.
    seed
        Seed of the spring layout (same seed, same picture).
    title
        Axes title (default: ``"top {top} edges"``).
    ax
        Axes to draw into.
    save
        File to write the figure to (format from the suffix).
    show
        Show the figure (default: unless ``save`` or ``ax`` is given).

    Returns
    -------
    The :class:`~matplotlib.axes.Axes`. Its ``graph`` attribute holds the drawn
    :class:`networkx.DiGraph` (edge attribute ``score``; node attribute ``is_tf``).
    """
    import networkx as nx

    check_choice(layout, ("spring", "kamada_kawai", "circular", "shell"), "layout")
    df, adata_tfs = _edges_from(edges, key)
    check_network(df, source=source, target=target, what="the edges")
    if score not in df:
        raise InputError(f"the edges lack a {score!r} column (columns: {list(df.columns)}); pass "
                         "score= naming the column that ranks them.")
    if top < 1:
        raise InputError(f"top must be >= 1, got {top}.")
    df = df[np.isfinite(df[score].to_numpy(dtype=float))]
    df = df.sort_values(score, ascending=False, kind="stable").head(top)
    src = df[source].astype(str).to_numpy()
    tgt = df[target].astype(str).to_numpy()
    w = df[score].to_numpy(dtype=float)

    tf_set = {str(t) for t in (tfs if tfs is not None else adata_tfs if adata_tfs is not None
                               else src)}
    G = nx.DiGraph()
    for s, t, v in zip(src, tgt, w, strict=True):
        G.add_edge(s, t, score=float(v))
    nx.set_node_attributes(G, {n: n in tf_set for n in G.nodes}, "is_tf")
    tf_nodes = [n for n in G.nodes if G.nodes[n]["is_tf"]]
    other_nodes = [n for n in G.nodes if not G.nodes[n]["is_tf"]]

    if layout == "spring":
        pos = nx.spring_layout(G, seed=seed, k=1.5 / np.sqrt(max(G.number_of_nodes(), 1)))
    elif layout == "kamada_kawai":
        pos = nx.kamada_kawai_layout(G)
    elif layout == "circular":
        pos = nx.circular_layout(G)
    else:
        regulators = [n for n in G.nodes if G.out_degree(n) > 0]
        regulated = [n for n in G.nodes if G.out_degree(n) == 0]
        pos = nx.shell_layout(G, nlist=[s for s in (regulators, regulated) if s])

    lo, hi = float(w.min()), float(w.max())
    frac = (w - lo) / (hi - lo) if hi > lo else np.ones_like(w)
    widths = width_range[0] + frac * (width_range[1] - width_range[0])
    edgelist = list(zip(src, tgt, strict=True))

    (a,) = new_axes(1, ax=ax, panel_size=(7.0, 6.0))
    if truth is not None:
        check_network(truth, what="the true network")
        true_set = set(zip(truth[keys.SOURCE].astype(str), truth[keys.TARGET].astype(str),
                           strict=True))
        is_true = np.array([e in true_set for e in edgelist], dtype=bool)
        for mask, color, style, label in ((is_true, "0.15", "solid", "in the true network"),
                                          (~is_true, "0.65", "dashed", "not in the true network")):
            if mask.any():
                nx.draw_networkx_edges(
                    G, pos, ax=a, edgelist=[e for e, m in zip(edgelist, mask, strict=True) if m],
                    width=widths[mask].tolist(), edge_color=color, style=style, arrows=True,
                    arrowsize=10, node_size=node_size, alpha=0.85,
                    connectionstyle="arc3,rad=0.08")
                a.plot([], [], color=color, ls="-" if style == "solid" else "--",
                       label=f"{label} ({int(mask.sum())})")
    else:
        nx.draw_networkx_edges(G, pos, ax=a, edgelist=edgelist, width=widths.tolist(),
                               edge_color="0.35", arrows=True, arrowsize=10, alpha=0.8,
                               node_size=node_size, connectionstyle="arc3,rad=0.08")
    if tf_nodes:
        nx.draw_networkx_nodes(G, pos, ax=a, nodelist=tf_nodes, node_shape="^",
                               node_color=TF_COLOR, node_size=node_size * 1.6,
                               edgecolors="black", linewidths=0.6, label=f"TF ({len(tf_nodes)})")
    if other_nodes:
        nx.draw_networkx_nodes(G, pos, ax=a, nodelist=other_nodes, node_shape="o",
                               node_color=TARGET_COLOR, node_size=node_size,
                               edgecolors="black", linewidths=0.4,
                               label=f"target ({len(other_nodes)})")
    if labels:
        nx.draw_networkx_labels(G, pos, ax=a, font_size=7)
    a.set_title(title if title is not None else f"top {len(edgelist)} edges "
                f"(width = {score}, {lo:.3g} to {hi:.3g})")
    a.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False,
             markerscale=0.6)
    a.set_aspect("equal")
    a.set_axis_off()
    a.graph = G
    fig = a.figure
    finish(fig, save=save, show=show, ax_given=ax is not None)
    return a
