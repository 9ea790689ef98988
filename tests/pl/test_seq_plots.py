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
