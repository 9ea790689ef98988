"""Node labels that do not overlap: a greedy placement pass (no extra dependency)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def _extent(ax, texts: list) -> np.ndarray:
    """``(n, 2)`` widths and heights of ``texts`` in data units (the axes limits are final)."""
    inv = ax.transData.inverted()
    out = np.empty((len(texts), 2))
    for i, t in enumerate(texts):
        bb = t.get_window_extent()
        (x0, y0), (x1, y1) = inv.transform([(bb.x0, bb.y0), (bb.x1, bb.y1)])
        out[i] = abs(x1 - x0), abs(y1 - y0)
    return out


def _points_to_data(ax, points: float) -> float:
    """Length in data units of ``points`` typographic points along x."""
    px = points * ax.figure.dpi / 72.0
    inv = ax.transData.inverted()
    (x0, _), (x1, _) = inv.transform([(0.0, 0.0), (px, 0.0)])
    return abs(x1 - x0)


def _overlap(box: np.ndarray, centres: np.ndarray, halves: np.ndarray) -> float:
    """Total overlap area of ``box`` (cx, cy, half w, half h) with the given boxes."""
    if len(centres) == 0:
        return 0.0
    ov = box[None, 2:] + halves - np.abs(box[None, :2] - centres)
    return float(np.prod(np.clip(ov, 0.0, None), axis=1).sum())


def _greedy(anchors: np.ndarray, direction: np.ndarray, size: np.ndarray, gap: float,
            obstacles: np.ndarray, obstacle_size: float,
            bounds: tuple[float, float, float, float]) -> np.ndarray:
    """Place each box, in order, at the first free spot around its anchor.

    Candidates lie around the anchor, turned away from the preferred ``direction`` in steps
    of 22.5 degrees and moved outwards in steps of half a label height, nearest to the
    preferred spot first (one step out counts as one turn). A box must not overlap a box
    placed before it, any obstacle (the nodes) or leave ``bounds`` (x0, x1, y0, y1). Where no
    spot is free the one with the least overlap is taken.
    """
    steps = [(ring, k) for ring in range(10) for k in range(-8, 9)]
    steps.sort(key=lambda rk: (rk[0] + abs(rk[1]), abs(rk[1]), rk[1] < 0))
    turns = np.deg2rad([22.5 * k for _, k in steps])
    rings = np.array([r for r, _ in steps], dtype=float)
    placed_c = np.empty((0, 2))
    placed_h = np.empty((0, 2))
    ob_h = np.full((len(obstacles), 2), obstacle_size / 2)
    out = np.empty_like(anchors)
    for i, (a, d, sz) in enumerate(zip(anchors, direction, size, strict=True)):
        half = sz / 2
        base = np.arctan2(d[1], d[0])
        best, best_cost = None, np.inf
        for ring, t in zip(rings, turns, strict=True):
            u = np.array([np.cos(base + t), np.sin(base + t)])
            reach = np.min(half / np.maximum(np.abs(u), 1e-9))
            c = a + u * (gap + reach + ring * sz[1] * 0.5)
            if (c[0] - half[0] < bounds[0] or c[0] + half[0] > bounds[1]
                    or c[1] - half[1] < bounds[2] or c[1] + half[1] > bounds[3]):
                continue
            box = np.concatenate([c, half])
            cost = _overlap(box, placed_c, placed_h) + _overlap(box, obstacles, ob_h)
            if cost < best_cost:
                best, best_cost = c, cost
            if cost == 0.0:
                break
        c = best if best is not None else a
        out[i] = c
        placed_c = np.vstack([placed_c, c])
        placed_h = np.vstack([placed_h, half])
    return out


def place_labels(ax, pos: Mapping[str, Sequence[float]], names: Sequence[str], *,
                 obstacle_points: float, font_size: float = 7.0, center=(0.0, 0.0),
                 inward: Sequence[str] = (), leader_min: float = 1.5) -> list:
    """Write ``names`` beside their nodes in ``pos`` without overlaps; return the Text objects.

    Labels are placed in the order of ``names`` (most important first). Each one goes just
    outside its node, on the side away from ``center`` (outwards on a circular layout; towards
    it for the nodes in ``inward``, e.g. a wide inner circle), or at the nearest spot around
    the node where it overlaps neither a label placed before it nor any node
    (``obstacle_points``: node marker diameter in points). A label that had to move far from
    its node gets a thin leader line. The axes limits must be set before the call.
    """
    if not names:
        return []
    ax.apply_aspect()
    texts = [ax.text(*pos[n], n, fontsize=font_size, ha="center", va="center", zorder=6,
                     bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none",
                           "alpha": 0.7}) for n in names]
    size = _extent(ax, texts) * 1.08
    node_d = _points_to_data(ax, obstacle_points)
    anchors = np.array([pos[n] for n in names], dtype=float)
    out = anchors - np.asarray(center, dtype=float)
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    direction = np.where(norm > 1e-9, out / np.maximum(norm, 1e-12), [[0.0, 1.0]])
    inner = set(inward)
    direction *= np.array([-1.0 if n in inner else 1.0 for n in names])[:, None]
    every = np.array(list(pos.values()), dtype=float)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    gap = 0.55 * node_d
    xy = _greedy(anchors, direction, size, gap, every, node_d,
                 (min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)))
    # distance from the node centre to the edge of the label box along ``direction``
    reach = 0.5 * np.min(size / np.maximum(np.abs(direction), 1e-9), axis=1)
    far = np.linalg.norm(xy - anchors, axis=1) > leader_min * (gap + reach)
    for t, p, a, f in zip(texts, xy, anchors, far, strict=True):
        t.set_position(p)
        if f:
            ax.plot([a[0], p[0]], [a[1], p[1]], color="0.5", lw=0.4, zorder=5.5)
    return texts
