"""Sequence plots: logos of PWMs / learned filters, and attribution maps over a sequence."""

from __future__ import annotations

import functools
import os

import numpy as np

from .._validate import InputError
from ._utils import finish, new_axes

COLORS = {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839"}


@functools.lru_cache(maxsize=16)
def _glyph(letter: str):
    """The outline of ``letter`` in bold DejaVu Sans and its extents (built once per letter:
    both are slow)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    path = TextPath((0, 0), letter, size=1, prop=FontProperties(family="DejaVu Sans",
                                                                weight="bold"))
    return path, path.get_extents()


def _letter(ax, letter: str, x: float, y: float, height: float, width: float = 1.0) -> None:
    """Draw ``letter`` stretched into the box ``[x, x+width] x [y, y+height]``."""
    from matplotlib.patches import PathPatch
    from matplotlib.transforms import Affine2D

    if height == 0:
        return
    path, bb = _glyph(letter)
    sx = 0.9 * width / max(bb.width, 1e-9)
    sy = height / max(bb.height, 1e-9)
    tr = (Affine2D().translate(-bb.x0, -bb.y0).scale(sx, sy)
          .translate(x + 0.05 * width, y))
    ax.add_patch(PathPatch(tr.transform_path(path), color=COLORS.get(letter, "grey"), lw=0))


def _draw_stacks(ax, heights: np.ndarray) -> None:
    """``heights`` (L, 4): positive stacks upwards (smallest at the bottom), negative downwards."""
    for i, row in enumerate(heights):
        pos = [(h, b) for b, h in zip("ACGT", row, strict=True) if h > 0]
        neg = [(h, b) for b, h in zip("ACGT", row, strict=True) if h < 0]
        y = 0.0
        for h, b in sorted(pos):
            _letter(ax, b, i, y, h)
            y += h
        y = 0.0
        for h, b in sorted(neg, reverse=True):
            y += h
            _letter(ax, b, i, y, -h)


def _pwm_array(pwm) -> tuple[np.ndarray, str]:
    name = ""
    if hasattr(pwm, "pwm"):
        name = f"{pwm.id} {pwm.name}".strip()
        pwm = pwm.pwm
    arr = np.asarray(pwm, dtype=float)
    if arr.ndim != 2 or 4 not in arr.shape:
        raise InputError(f"a PWM must have shape (width, 4) or (4, width), got {arr.shape}.")
    if arr.shape[1] != 4:
        arr = arr.T
    return arr, name


def logo(pwm, *, kind: str = "information", ax=None, title: str | None = None,
         save: str | os.PathLike | None = None, show: bool | None = None):
    """Sequence logo of a PWM, a :class:`~gnngeno.io.Motif` or a first-layer filter.

    Parameters
    ----------
    pwm
        ``(width, 4)`` (or ``(4, width)``) letter probabilities (A, C, G, T), a
        :class:`~gnngeno.io.Motif`, or raw filter weights with ``kind="weights"``.
    kind
        ``"information"`` (letter height = probability x column information, bits),
        ``"probability"``, or ``"weights"`` (signed values as given, e.g. a filter centred per
        column).
    ax
        Axes to draw into.
    title
        Title (default: the motif id and name).
    save, show
        As in every ``gnngeno.pl`` function.

    Returns
    -------
    The :class:`~matplotlib.axes.Axes`.
    """
    from ..interpret._motifs import information_content

    arr, name = _pwm_array(pwm)
    if kind == "information":
        p = arr / np.maximum(arr.sum(1, keepdims=True), 1e-12)
        heights = p * information_content(p)[:, None]
        ylabel, ymax = "bits", 2.0
    elif kind == "probability":
        heights = arr / np.maximum(arr.sum(1, keepdims=True), 1e-12)
        ylabel, ymax = "probability", 1.0
    elif kind == "weights":
        heights = arr - arr.mean(1, keepdims=True)
        ylabel, ymax = "weight", None
    else:
        raise InputError(f"kind={kind!r} is not supported; choose 'information', 'probability' "
                         "or 'weights'.")
    given = ax is not None
    (ax,) = new_axes(1, ax=ax, panel_size=(max(3.0, 0.35 * len(arr)), 2.2))
    _draw_stacks(ax, heights)
    ax.set_xlim(0, len(arr))
    if ymax is not None:
        ax.set_ylim(0, ymax)
    else:
        lo, hi = heights.clip(max=0).sum(1).min(), heights.clip(min=0).sum(1).max()
        pad = 0.05 * max(hi - lo, 1e-6)
        ax.set_ylim(lo - pad, hi + pad)
        ax.axhline(0, color="black", lw=0.5)
    ax.set_xticks(np.arange(len(arr)) + 0.5, [str(i + 1) for i in range(len(arr))],
                  fontsize=7)
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    if title or name:
        ax.set_title(title or name)
    finish(ax.figure, save=save, show=show, ax_given=given)
    return ax


def motif_match(query, target, *, offset: int = 0, strand: str = "+",
                title: str | None = None, save: str | os.PathLike | None = None,
                show: bool | None = None) -> list:
    """Logo of a PWM (e.g. a first-layer filter) above the database motif it matched, aligned.

    The alignment is the one :func:`gnngeno.interpret.match_motifs` reports: the target's
    first column sits at column ``offset`` of the query (negative: before it), and a target
    matched on the ``"-"`` strand is drawn reverse-complemented.

    Parameters
    ----------
    query, target
        ``(width, 4)`` letter probabilities (A, C, G, T) or :class:`~gnngeno.io.Motif` objects
        (their id and name title the panels).
    offset
        Column of the query where the target's first column lies (``offset`` of a
        :func:`~gnngeno.interpret.match_motifs` row).
    strand
        ``"+"`` or ``"-"`` (``strand`` of that row).
    title
        Figure title.
    save, show
        As in every ``gnngeno.pl`` function.

    Returns
    -------
    ``[query_ax, target_ax]``, information-content logos on a shared column axis.
    """
    q, q_name = _pwm_array(query)
    t, t_name = _pwm_array(target)
    if strand not in ("+", "-"):
        raise InputError(f"strand must be '+' or '-', got {strand!r}.")
    if strand == "-":
        t = t[::-1, ::-1]  # reverse complement: reversed columns, A<->T and C<->G
    offset = int(offset)
    start = min(0, offset)
    width = max(len(q), offset + len(t)) - start
    # empty (all-zero) columns draw no letters: they pad each logo to the aligned width
    qa, ta = np.zeros((width, 4)), np.zeros((width, 4))
    qa[-start:-start + len(q)] = q
    ta[offset - start:offset - start + len(t)] = t
    from ._utils import _plt

    fig, axes = _plt().subplots(2, 1, figsize=(max(3.0, 0.35 * width), 4.2), sharex=True)
    logo(qa, ax=axes[0], title=q_name or "query", show=False)
    t_label = (t_name or "match") + (" (reverse complement)" if strand == "-" else "")
    logo(ta, ax=axes[1], title=t_label, show=False)
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    finish(fig, save=save, show=show, ax_given=False)
    return list(axes)


def attribution(attr, sequence: str | None = None, *, start: int = 0, end: int | None = None,
                ax=None, title: str | None = None, save: str | os.PathLike | None = None,
                show: bool | None = None):
    """Attribution map over one sequence, drawn as letters scaled by their score.

    Parameters
    ----------
    attr
        ``(4, L)`` attributions of one sequence (e.g. one row of
        :func:`gnngeno.interpret.input_x_gradient` or of in-silico mutagenesis), or ``(L,)``
        per-position scores (then ``sequence`` gives the letters).
    sequence
        The sequence (needed for ``(L,)`` input; for ``(4, L)`` input it is only used to mask
        the observed bases when ``attr`` is not already masked).
    start, end
        Window to draw.
    ax, title, save, show
        As in every ``gnngeno.pl`` function.

    Returns
    -------
    The :class:`~matplotlib.axes.Axes`.
    """
    a = np.asarray(attr.detach().cpu() if hasattr(attr, "detach") else attr, dtype=float)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 1:
        if sequence is None:
            raise InputError("per-position scores (L,) need sequence= to know the letters.")
        if len(sequence) != len(a):
            raise InputError(f"sequence has {len(sequence)} bp but attr has {len(a)} values.")
        from ..data._sequence import one_hot_encode

        a = one_hot_encode(sequence)[0].numpy() * a[None, :]
    elif a.ndim == 2 and a.shape[0] == 4:
        if sequence is not None:
            from ..data._sequence import one_hot_encode

            oh = one_hot_encode(sequence)[0].numpy()
            if oh.shape != a.shape:
                raise InputError(f"sequence has {oh.shape[1]} bp but attr has {a.shape[1]}.")
            a = a * (oh == 1.0)
    else:
        raise InputError(f"attr must have shape (4, L) or (L,), got {a.shape}.")
    end = a.shape[1] if end is None else int(end)
    a = a[:, start:end]
    given = ax is not None
    (ax,) = new_axes(1, ax=ax, panel_size=(max(4.0, 0.12 * a.shape[1]), 2.0))
    _draw_stacks(ax, a.T)
    ax.set_xlim(0, a.shape[1])
    lo, hi = a.clip(max=0).sum(0).min(), a.clip(min=0).sum(0).max()
    pad = 0.05 * max(hi - lo, 1e-9)
    ax.set_ylim(lo - pad, hi + pad)
    ax.axhline(0, color="black", lw=0.5)
    ticks = np.arange(0, a.shape[1], max(1, a.shape[1] // 10))
    ax.set_xticks(ticks + 0.5, [str(start + t) for t in ticks], fontsize=7)
    ax.set_ylabel("attribution")
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title)
    finish(ax.figure, save=save, show=show, ax_given=given)
    return ax
