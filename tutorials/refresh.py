"""Re-execute the tutorials and save their outputs, stamped with the package source they ran on.

Run from the repository root after changing the package::

    OMP_NUM_THREADS=1 .venv/bin/python tutorials/refresh.py              # every notebook
    OMP_NUM_THREADS=1 .venv/bin/python tutorials/refresh.py 03_sequence_cnn.ipynb

Each notebook runs top to bottom in a fresh kernel in ``tutorials/`` (as nbmake runs it), its
outputs are written back into the file, and ``metadata["gnngeno"]["source_hash"]`` records
:func:`package_hash` of the ``gnngeno/`` tree it ran on. ``tests/test_tutorials_fresh.py`` fails
when a notebook's stored hash differs from the current one, i.e. when the saved outputs may no
longer be what the code produces. A notebook that fails to run is left unchanged. A notebook
whose outputs show a ``DeprecationWarning`` is saved, listed, and makes the command exit non-zero:
tutorials teach the current option names.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

TUTORIALS = Path(__file__).resolve().parent
PACKAGE = TUTORIALS.parent / "gnngeno"
METADATA_KEY = "gnngeno"
HASH_KEY = "source_hash"
COMMAND = "OMP_NUM_THREADS=1 .venv/bin/python tutorials/refresh.py"


def package_hash(package: Path = PACKAGE) -> str:
    """SHA-256 over the sorted ``*.py`` paths of ``package`` and their contents.

    Parameters
    ----------
    package
        Root of the package source tree.

    Returns
    -------
    str
        Hex digest; changes whenever a Python file is added, removed, renamed or edited.
    """
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py"), key=lambda p: p.relative_to(package).as_posix()):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def notebooks() -> list[Path]:
    """The tutorial notebooks, in order."""
    return sorted(TUTORIALS.glob("[0-9]*.ipynb"))


def stored_hash(path: Path) -> str | None:
    """The source hash saved in a notebook's metadata (``None`` when it was never refreshed)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return nb.metadata.get(METADATA_KEY, {}).get(HASH_KEY)


def deprecated_cells(nb) -> list[int]:
    """Indices of the code cells whose saved outputs show a ``DeprecationWarning``."""
    cells = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = out.get("text", "") if out.get("output_type") == "stream" else ""
            if "DeprecationWarning" in text:
                cells.append(i)
                break
    return cells


def refresh(path: Path, *, timeout: int = 1800, kernel: str = "python3") -> float:
    """Execute one notebook in place and stamp it with :func:`package_hash`.

    Parameters
    ----------
    path
        The ``.ipynb`` file.
    timeout
        Seconds allowed per cell.
    kernel
        Jupyter kernel to run it in.

    Returns
    -------
    float
        Wall-clock seconds the execution took.

    Raises
    ------
    DeprecationWarning
        Raised (after saving) when outputs show deprecated calls, naming the cells.
    """
    import nbformat
    from nbclient import NotebookClient

    source, original = package_hash(), path.read_bytes()
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name=kernel,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    if package_hash() != source:
        raise RuntimeError(f"gnngeno/ changed while {path.name} ran; run the refresh again")
    if path.read_bytes() != original:
        raise RuntimeError(f"{path.name} was edited while it ran; run the refresh again")
    nb.metadata.setdefault(METADATA_KEY, {})[HASH_KEY] = source
    nbformat.write(nb, path)
    old = deprecated_cells(nb)
    if old:
        raise DeprecationWarning(f"outputs saved, but cells {old} (0-based) show a "
                                 "DeprecationWarning: update those calls and refresh again")
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Command line: refresh the named notebooks (default: all of them)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*",
                        help="notebook files or names in tutorials/ (default: all)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    paths = [TUTORIALS / Path(n).name for n in args.notebooks] or notebooks()
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        parser.error(f"not in tutorials/: {', '.join(missing)}")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("GNNGENO_NO_PROGRESS", "1")
    failed = []
    for path in paths:
        print(f"{path.name}: running ...", flush=True)
        try:
            seconds = refresh(path, timeout=args.timeout)
        except DeprecationWarning as e:
            print(f"{path.name}: {e}", flush=True)
            failed.append(path.name)
            continue
        except Exception as e:  # noqa: BLE001 - report every notebook, then fail
            print(f"{path.name}: FAILED, left unchanged: {type(e).__name__}: {e}", flush=True)
            failed.append(path.name)
            continue
        print(f"{path.name}: outputs saved ({seconds:.0f} s)", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
