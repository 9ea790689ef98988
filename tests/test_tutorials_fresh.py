"""The tutorials' saved outputs come from the current package source.

``tutorials/refresh.py`` re-executes the notebooks and stores a hash of ``gnngeno/`` in their
metadata; a notebook whose hash is missing or differs shows outputs of other code.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _load_refresh():
    spec = importlib.util.spec_from_file_location("gnngeno_tutorials_refresh",
                                                  REPO / "tutorials" / "refresh.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


refresh = _load_refresh()
NOTEBOOKS = refresh.notebooks()


def test_there_are_tutorials():
    assert len(NOTEBOOKS) >= 5


def test_package_hash_follows_every_python_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    (tmp_path / "notes.txt").write_text("ignored")
    first = refresh.package_hash(tmp_path)
    assert refresh.package_hash(tmp_path) == first
    (tmp_path / "notes.txt").write_text("still ignored")
    assert refresh.package_hash(tmp_path) == first
    (tmp_path / "sub" / "b.py").write_text("y = 3\n")
    edited = refresh.package_hash(tmp_path)
    assert edited != first
    (tmp_path / "sub" / "b.py").rename(tmp_path / "sub" / "c.py")
    assert refresh.package_hash(tmp_path) not in (first, edited)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_saved_outputs_match_the_package(path):
    stored = refresh.stored_hash(path)
    current = refresh.package_hash()
    how = f"re-execute the tutorials and save their outputs with `{refresh.COMMAND}`"
    assert stored is not None, (
        f"tutorials/{path.name} has no metadata['{refresh.METADATA_KEY}']['{refresh.HASH_KEY}']:"
        f" its outputs were never refreshed; {how}")
    assert stored == current, (
        f"tutorials/{path.name} was executed on another gnngeno source (stored hash "
        f"{stored[:12]}, current {current[:12]}): its saved outputs may be stale; {how}")
