"""The README's two commands are what CI runs, word for word."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [b.strip() for b in blocks[:2]]


def test_readme_opens_with_two_commands():
    cmds = _readme_commands()
    assert len(cmds) == 2
    assert "pip install torch==2.13.0" in cmds[0] and "gnngeno " in cmds[0]
    assert "pytest" in cmds[1]
    # torch is installed before the package so that pip does not pull a CUDA build
    for cmd in cmds:
        assert cmd.index("torch==2.13.0") < cmd.index("pip install -e")


def test_ci_runs_the_readme_commands_verbatim():
    ci = (REPO / ".ci" / "run").read_text()
    for cmd in _readme_commands():
        assert cmd in ci, f"README command not in .ci/run: {cmd}"
