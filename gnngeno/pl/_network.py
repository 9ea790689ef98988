"""The top of an inferred regulatory network, drawn with networkx."""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .. import _keys as keys
from .._validate import InputError, check_choice, check_network
from ._labels import place_labels
from ._utils import finish, new_axes

TF_COLOR = "#d95f02"
TARGET_COLOR = "#7f9fbf"
NEW_COLOR = "#7570b3"
IN_PRIOR = "in_prior"  # boolean edge column: the edge is in the prior network


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
    top_per_tf: int | None = 3,
    tfs: Iterable[str] | None = None,
    truth: pd.DataFrame | None = None,
    new_only: bool = False,
    score: str = keys.SCORE,
    source: str = keys.SOURCE,
    target: str = keys.TARGET,
    key: str = keys.GRN_SCORES_KEY,
    layout: str = "shell",
    labels: bool | str = "auto",
    max_labels: int = 80,
    font_size: float = 7.0,
    node_size: float = 260.0,
    width_range: tuple[float, float] = (0.4, 4.0),
    seed: int = 0,
    title: str | None = None,
    ax=None,
    save: str | os.PathLike | None = None,
    show: bool | None = None,
):
    """Draw the best-scored edges of a regulatory network.

    At most ``top_per_tf`` edges leave each regulator and at most ``top`` edges are drawn in
    all (highest ``score`` first), so that a few TFs with hundreds of targets do not fill the
    picture. TFs are drawn as orange triangles, other genes as blue circles; edge width grows
    with the score. When the edges carry a boolean ``in_prior`` column, edges of the prior
    network are drawn solid and dark, new edges dashed and purple. With ``truth``, edges of
    the true network are drawn dark and the others light (and dashed, unless ``in_prior``
    decides the line style), so one can see at a glance how many of the top predictions are
    right. Labels are moved off each other and off the nodes; on large graphs only the hubs
    are labelled (``labels="auto"``).

    Parameters
    ----------
    edges
        DataFrame with ``source, target, score`` columns (e.g.
        :meth:`gnngeno.models.GRNPredictor.get_edges`) and optionally a boolean
        ``in_prior`` column, or an AnnData holding ``.uns[key]["edges"]`` (written by
        :func:`gnngeno.tl.infer_grn`).
    top
        Number of edges to draw at most (highest ``score`` first).
    top_per_tf
        Edges drawn at most per regulator (its best-scored ones); ``None``: no limit.
    tfs
        Genes to mark as TFs. Default: ``adata.var["is_tf"]`` for an AnnData, else every
        source of the drawn edges.
    truth
        True edges (a ``source, target`` DataFrame); marks the drawn edges right or wrong.
    new_only
        Draw only edges that are not in the prior (needs the ``in_prior`` column).
    score, source, target
        Column names in ``edges``.
    key
        ``.uns`` key to read from an AnnData.
    layout
        ``"shell"`` (genes with drawn out-going edges on an inner circle, pure targets
        outside; the default, readable when a few TFs regulate many genes), ``"spring"``
        (force-directed; shows modules), ``"kamada_kawai"`` or ``"circular"``.
    labels
        ``True``: write every gene name; ``False``: none; ``"auto"``: every name when the
        graph has at most ``max_labels`` genes, else those of the ``max_labels`` best
        connected genes (TFs first).
    max_labels
        Most labels written with ``labels="auto"``.
    font_size
        Label font size (points).
    node_size
        Marker area of target genes (TFs get 1.6x).
    width_range
        Line width of the lowest and highest drawn score.
    seed
        Seed of the spring layout (same seed, same picture).
    title
        Axes title (default: the number of edges and the score range).
    ax
        Axes to draw into.
    save
        File to write the figure to (format from the suffix).
    show
        Show the figure (default: unless ``save`` or ``ax`` is given).

    Returns
    -------
    The :class:`~matplotlib.axes.Axes`. Its ``graph`` attribute holds the drawn
    :class:`networkx.DiGraph` (edge attributes ``score`` and, when given, ``in_prior``; node
    attributes ``is_tf`` and ``labelled``).
    """
    import networkx as nx

    check_choice(layout, ("spring", "kamada_kawai", "circular", "shell"), "layout")
    if labels not in (True, False, "auto"):
        raise InputError(f"labels={labels!r} is not supported; pass True, False or 'auto'.")
    df, adata_tfs = _edges_from(edges, key)
    check_network(df, source=source, target=target, what="the edges")
    df = _select_edges(df, score=score, source=source, top=top, top_per_tf=top_per_tf,
                       new_only=new_only)
    src = df[source].astype(str).to_numpy()
    tgt = df[target].astype(str).to_numpy()
    w = df[score].to_numpy(dtype=float)
    prior = df[IN_PRIOR].to_numpy(dtype=bool) if _has_prior(df) else None

    tf_set = {str(t) for t in (tfs if tfs is not None else adata_tfs if adata_tfs is not None
                               else src)}
    G = nx.DiGraph()
    for i, (s, t, v) in enumerate(zip(src, tgt, w, strict=True)):
        G.add_edge(s, t, score=float(v), **({} if prior is None else {IN_PRIOR: bool(prior[i])}))
    nx.set_node_attributes(G, {n: n in tf_set for n in G.nodes}, "is_tf")
    pos = _layout(G, layout, seed)

    lo, hi = float(w.min()), float(w.max())
    frac = (w - lo) / (hi - lo) if hi > lo else np.ones_like(w)
    widths = width_range[0] + frac * (width_range[1] - width_range[0])
    edgelist = list(zip(src, tgt, strict=True))
    side = float(np.clip(0.8 * np.sqrt(G.number_of_nodes()), 6.0, 11.0))
    (a,) = new_axes(1, ax=ax, panel_size=(side + 1.0, side))
    for mask, color, style, label in _edge_groups(edgelist, prior, truth):
        nx.draw_networkx_edges(
            G, pos, ax=a, edgelist=[e for e, m in zip(edgelist, mask, strict=True) if m],
            width=widths[mask].tolist(), edge_color=color, style=style, arrows=True,
            arrowsize=10, node_size=node_size, alpha=0.85, connectionstyle="arc3,rad=0.08")
        if label is not None:
            a.plot([], [], color=color, ls="-" if style == "solid" else "--",
                   label=f"{label} ({int(mask.sum())})")
    _draw_nodes(G, pos, a, node_size)
    named = _label_names(G, labels, max_labels)
    nx.set_node_attributes(G, {n: n in set(named) for n in G.nodes}, "labelled")
    _set_limits(a, pos, named, font_size)
    place_labels(a, pos, named, obstacle_points=float(np.sqrt(node_size * 1.6)),
                 font_size=font_size, center=np.mean(list(pos.values()), axis=0),
                 inward=_inner_shell(G, layout))
    what = "new edges" if new_only else "edges"
    a.set_title(title if title is not None else f"top {len(edgelist)} {what} "
                f"(width = {score}, {lo:.3g} to {hi:.3g})")
    a.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False,
             markerscale=0.6)
    a.set_axis_off()
    a.graph = G
    finish(a.figure, save=save, show=show, ax_given=ax is not None)
    return a


def _has_prior(df: pd.DataFrame) -> bool:
    """Whether the edges carry a boolean ``in_prior`` column."""
    return IN_PRIOR in df.columns and pd.api.types.is_bool_dtype(df[IN_PRIOR])


def _select_edges(df: pd.DataFrame, *, score: str, source: str, top: int,
                  top_per_tf: int | None, new_only: bool) -> pd.DataFrame:
    """The edges to draw: finite scores, best first, at most ``top_per_tf`` per regulator."""
    if score not in df:
        raise InputError(f"the edges lack a {score!r} column (columns: {list(df.columns)}); pass "
                         "score= naming the column that ranks them.")
    if top < 1:
        raise InputError(f"top must be >= 1, got {top}.")
    if top_per_tf is not None and top_per_tf < 1:
        raise InputError(f"top_per_tf must be >= 1 (or None for no limit), got {top_per_tf}.")
    if new_only:
        if not _has_prior(df):
            raise InputError(f"new_only=True needs a boolean {IN_PRIOR!r} column in the edges "
                             f"(columns: {list(df.columns)}); add it, e.g. by merging the "
                             "prior network's edges, or leave new_only=False.")
        df = df[~df[IN_PRIOR].to_numpy(dtype=bool)]
    df = df[np.isfinite(df[score].to_numpy(dtype=float))]
    if len(df) == 0:
        raise InputError("no edge to draw: " + ("every edge is in the prior." if new_only else
                                                 "no edge has a finite score."))
    df = df.sort_values(score, ascending=False, kind="stable")
    if top_per_tf is not None:
        df = df.groupby(df[source].astype(str), sort=False).head(int(top_per_tf))
    return df.head(top)


def _layout(G, layout: str, seed: int) -> dict:
    """Node positions of ``G`` for one of the supported layouts."""
    import networkx as nx

    if layout == "spring":
        return nx.spring_layout(G, seed=seed, k=1.5 / np.sqrt(max(G.number_of_nodes(), 1)))
    if layout == "kamada_kawai":
        return nx.kamada_kawai_layout(G)
    if layout == "circular":
        return nx.circular_layout(G)
    regulators = [n for n in G.nodes if G.out_degree(n) > 0]
    regulated = [n for n in G.nodes if G.out_degree(n) == 0]
    pos = nx.shell_layout(G, nlist=[s for s in (regulators, regulated) if s])
    if len(regulators) > 1 and regulated:
        # the inner circle grows with its share of the genes, so that many regulators keep
        # room for their labels (networkx puts it at half the outer radius)
        r = float(np.clip(len(regulators) / len(regulated), 0.35, 0.7))
        pos.update({n: pos[n] * (r / 0.5) for n in regulators})
    return pos


def _inner_shell(G, layout: str) -> list:
    """The regulators of a two-circle shell layout when they are many (their labels then go
    inside their circle, which is wide and nearly empty, instead of between the circles)."""
    if layout != "shell":
        return []
    inner = [n for n in G.nodes if G.out_degree(n) > 0]
    n_outer = G.number_of_nodes() - len(inner)
    return inner if len(inner) > 1 and n_outer and len(inner) >= 0.6 * n_outer else []


def _edge_groups(edgelist: list, prior: np.ndarray | None, truth: pd.DataFrame | None) -> list:
    """``(mask, colour, line style, legend label or None)`` per group of drawn edges.

    ``in_prior`` decides the line style (known solid, new dashed); ``truth`` the colour (true
    dark, other light; also the style when there is no ``in_prior``)."""
    n = len(edgelist)
    if truth is not None:
        check_network(truth, what="the true network")
        true_set = set(zip(truth[keys.SOURCE].astype(str), truth[keys.TARGET].astype(str),
                           strict=True))
        is_true = np.array([e in true_set for e in edgelist], dtype=bool)
    groups = []
    if prior is None and truth is None:
        return [(np.ones(n, dtype=bool), "0.35", "solid", None)]
    if prior is None:
        groups = [(is_true, "0.15", "solid", "in the true network"),
                  (~is_true, "0.65", "dashed", "not in the true network")]
    elif truth is None:
        groups = [(prior, "0.2", "solid", "known (in the prior)"),
                  (~prior, NEW_COLOR, "dashed", "new (not in the prior)")]
    else:
        for p_mask, style, p_name in ((prior, "solid", "known"), (~prior, "dashed", "new")):
            for t_mask, color, t_name in ((is_true, "0.15", "true"), (~is_true, "0.65", "not true")):
                groups.append((p_mask & t_mask, color, style, f"{p_name}, {t_name}"))
    return [g for g in groups if g[0].any()]


def _draw_nodes(G, pos: dict, a, node_size: float) -> None:
    """TFs as orange triangles, other genes as blue circles (with legend entries)."""
    import networkx as nx

    tf_nodes = [n for n in G.nodes if G.nodes[n]["is_tf"]]
    other_nodes = [n for n in G.nodes if not G.nodes[n]["is_tf"]]
    if tf_nodes:
        nx.draw_networkx_nodes(G, pos, ax=a, nodelist=tf_nodes, node_shape="^",
                               node_color=TF_COLOR, node_size=node_size * 1.6,
                               edgecolors="black", linewidths=0.6, label=f"TF ({len(tf_nodes)})")
    if other_nodes:
        nx.draw_networkx_nodes(G, pos, ax=a, nodelist=other_nodes, node_shape="o",
                               node_color=TARGET_COLOR, node_size=node_size,
                               edgecolors="black", linewidths=0.4,
                               label=f"target ({len(other_nodes)})")


def _label_names(G, labels: bool | str, max_labels: int) -> list[str]:
    """The nodes to label, most important first (TFs, then by degree): all, none, or
    (``"auto"``) only the hubs when there are more than ``max_labels`` genes."""
    if labels is False:
        return []
    order = sorted(G.nodes, key=lambda n: (not G.nodes[n]["is_tf"], -G.degree(n), str(n)))
    if labels is True or len(order) <= max_labels:
        return order
    return [n for n in order if G.nodes[n]["is_tf"] or G.degree(n) > 1][:max(int(max_labels), 0)]


def _set_limits(a, pos: dict, named: list, font_size: float) -> None:
    """Square limits around the layout with room for the labels outside it."""
    xy = np.array(list(pos.values()), dtype=float)
    lo, hi = xy.min(0), xy.max(0)
    span = float(max((hi - lo).max(), 1e-6))
    longest = max((len(str(n)) for n in named), default=0)
    # a label of ``longest`` letters is about 0.6 * font_size points per letter wide; the
    # figure is about 7 inches (500 points) across the layout
    pad = span * (0.08 + 0.65 * longest * font_size / 500.0)
    mid = (lo + hi) / 2
    half = span / 2 + pad
    a.set_xlim(mid[0] - half, mid[0] + half)
    a.set_ylim(mid[1] - half, mid[1] + half)
    a.set_aspect("equal")
