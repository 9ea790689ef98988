"""The code passes the linter configured in ``pyproject.toml`` (``[tool.ruff]``)."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_ruff_check_passes():
    pytest.importorskip("ruff", reason="ruff is in the [test] extras")
    res = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise",
                          "gnngeno", "tests", "benchmarks"],
                         cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, f"ruff check found problems:\n{res.stdout}{res.stderr}"
