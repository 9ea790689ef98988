"""Sequence logos and attribution maps."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.axes import Axes

from gnngeno import InputError, pl
from gnngeno.io import Motif


def _pwm(consensus: str) -> np.ndarray:
    return np.eye(4)[["ACGT".index(c) for c in consensus]] * 0.9 + 0.025


def test_logo_information_and_save(tmp_path):
    ax = pl.logo(Motif("m1", "TF", _pwm("TATGCA")), save=tmp_path / "logo.png")
    assert isinstance(ax, Axes) and (tmp_path / "logo.png").stat().st_size > 0
    assert ax.get_title() == "m1 TF"
    assert len(ax.patches) == 6 * 4  # one letter per base and column
    assert ax.get_ylim() == (0, 2)
    # the tallest letter of column 0 is T
    tallest = max(ax.patches[:4], key=lambda p: p.get_path().get_extents().height)
    assert tallest.get_facecolor()[:3] == pytest.approx((214 / 255, 40 / 255, 57 / 255), abs=0.01)


def test_logo_kinds(tmp_path):
    W = np.random.default_rng(0).normal(size=(4, 7))  # a filter (4, width)
    ax = pl.logo(W, kind="weights", show=False)
    assert ax.get_ylim()[0] < 0 < ax.get_ylim()[1]
    pl.logo(_pwm("ACG"), kind="probability", show=False)
    with pytest.raises(InputError, match="kind"):
        pl.logo(_pwm("ACG"), kind="bits")
    with pytest.raises(InputError, match="shape"):
        pl.logo(np.ones((3, 3)))


def test_attribution(tmp_path):
    seq = "ACGTACGTAC"
    scores = np.linspace(-1, 1, len(seq))
    ax = pl.attribution(scores, seq, save=tmp_path / "a.pdf")
    assert (tmp_path / "a.pdf").exists() and len(ax.patches) == len(seq)
    attr = np.random.default_rng(0).normal(size=(4, len(seq)))
    ax2 = pl.attribution(attr, seq, start=2, end=8, show=False)
    assert ax2.get_xlim() == (0, 6)
    with pytest.raises(InputError, match="sequence="):
        pl.attribution(scores)
    with pytest.raises(InputError, match="shape"):
        pl.attribution(np.ones((3, 5)))



LETTER_RGB = {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839"}


def _tallest_letters(ax) -> str:
    """The tallest letter of each column that holds letters, read back from patch colours."""
    from matplotlib.colors import to_rgb

    name = {tuple(np.round(to_rgb(c), 3)): b for b, c in LETTER_RGB.items()}
    cols: dict[int, tuple[float, str]] = {}
    for p in ax.patches:
        ext = p.get_path().get_extents()
        x = int(np.floor(ext.x0))
        if ext.height > cols.get(x, (0.0, ""))[0]:
            cols[x] = (ext.height, name[tuple(np.round(p.get_facecolor()[:3], 3))])
    return "".join(cols[x][1] if x in cols else "-" for x in range(int(ax.get_xlim()[1])))


def test_motif_match_aligns_query_and_reverse_complemented_target(tmp_path):
    query = Motif("filter_1", "", np.vstack([np.full((2, 4), 0.25), _pwm("TATGCA")]))
    target = Motif("MA1", "POU", _pwm("GGTGCATA"))  # reverse complement: TATGCACC
    q_ax, t_ax = pl.motif_match(query, target, offset=2, strand="-",
                                save=tmp_path / "match.png")
    assert (tmp_path / "match.png").stat().st_size > 0
    assert q_ax.get_xlim() == t_ax.get_xlim() == (0, 10)  # the aligned width
    assert _tallest_letters(q_ax) == "--TATGCA--"
    assert _tallest_letters(t_ax) == "--TATGCACC"
    assert t_ax.get_title() == "MA1 POU (reverse complement)"
    # a target that starts before the query shifts the query right
    q_ax, t_ax = pl.motif_match(_pwm("ACGT"), _pwm("TTACGT"), offset=-2, show=False)
    assert _tallest_letters(q_ax) == "--ACGT" and _tallest_letters(t_ax) == "TTACGT"
    with pytest.raises(InputError, match="strand"):
        pl.motif_match(query, target, strand="x", show=False)
