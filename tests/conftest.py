"""Shared fixtures: small seeded data and the location of ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GNNGENO_NO_PROGRESS", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GNNGENO_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or ``$GNNGENO_SHARED_DATA``); skips the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared benchmark data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture()
def sim():
    """A small simulated dataset with a planted network: ``(adata, net)``."""
    from gnngeno.datasets import simulate

    return simulate(n_cells=200, n_genes=60, n_tfs=8, seed=0)
