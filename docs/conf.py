"""Sphinx configuration of the gnngeno documentation.

Build (from the repository root, with ``pip install -e ".[docs]"``)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

Generated at build time into ``docs/generated/`` (not tracked): the command-line reference from
the typer application, one API page per module from its ``__all__``, and copies of the tutorial
notebooks, rendered from their saved outputs (never executed here).
"""

from __future__ import annotations

import importlib
import inspect
import os
import shutil
import sys
import types
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
GENERATED = DOCS / "generated"
sys.path.insert(0, str(REPO))
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import gnngeno  # noqa: E402

project = "gnngeno"
author = "gnngeno developers"
copyright = "gnngeno developers"
release = version = gnngeno.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "generated/_*.md", "Thumbs.db", ".DS_Store"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# notebooks are shown with the outputs saved by tutorials/refresh.py, never re-executed
nb_execution_mode = "off"
nb_merge_streams = True
# a progress-bar widget saved in a notebook has no static rendering; its text fallback is shown
suppress_warnings = ["mystnb.unknown_mime_type"]
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# numpydoc docstrings, rendered by napoleon; type hints are shown in the signatures
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_param = False  # "a, b" documented together stays one entry
# "Shapes" (tensor shapes of the nn modules) and the free-text "Returns"/"Yields" of this package
# ("type" or "name : type" lines, then prose and lists) render as written, under a heading
napoleon_custom_sections = ["Shapes", "Returns", "Yields"]
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}

# command-line options keep their two hyphens (no en dashes in "--seed")
smartquotes = False

html_theme = "furo"
html_title = f"gnngeno {release}"
html_static_path: list[str] = []

# the modules of the API reference, in reading order, with one line each
API_MODULES = {
    "gnngeno": "Settings and the errors every function raises.",
    "gnngeno.io": "Readers and writers: expression, networks, benchmarks, sequences, motifs, "
                  "out-of-core .h5ad.",
    "gnngeno.datasets": "Embedded and simulated datasets.",
    "gnngeno.pp": "Preprocessing.",
    "gnngeno.gr": "Graph builders and converters.",
    "gnngeno.data": "Splits, negatives, sequence encoding and mini-batch loaders.",
    "gnngeno.tl": "One-line tools that write their results into the AnnData.",
    "gnngeno.models": "Model classes: construct on an AnnData, train, get results.",
    "gnngeno.nn": "Pure-torch modules and functions.",
    "gnngeno.train": "The training plan, the training loop and distributed helpers.",
    "gnngeno.metrics": "Metrics for networks, imputation and clustering.",
    "gnngeno.interpret": "Attribution and motifs of sequence models.",
    "gnngeno.pl": "Plots.",
    "gnngeno.baselines": "Baselines printed beside every model.",
}


def _public_names(module: types.ModuleType) -> list[str]:
    """``__all__`` of a module, or its public functions and classes defined in gnngeno."""
    if module.__name__ == "gnngeno":
        return ["settings", "InputError", "InputWarning"]
    names = getattr(module, "__all__", None)
    if names is None:
        names = sorted(
            n for n, obj in vars(module).items()
            if not n.startswith("_") and not isinstance(obj, types.ModuleType)
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and getattr(obj, "__module__", "").startswith("gnngeno")
        )
    return [n for n in names if not isinstance(getattr(module, n), types.ModuleType)]


def _title(text: str) -> str:
    return f"{text}\n{'=' * len(text)}\n"


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def _api_pages() -> None:
    """One page per module: its docstring and autosummary tables of its public names.

    An object exported by several modules gets its page under the first one; the others link to
    it.
    """
    documented: dict[int, str] = {}
    index = [_title("API reference"),
             "``import gnngeno as gg``: every public function and class, by module.\n",
             ".. toctree::\n   :hidden:\n\n" + "".join(f"   {n}\n" for n in API_MODULES),
             ".. list-table::\n   :widths: 30 70\n\n"
             + "".join(f"   * - :doc:`{n}`\n     - {s}\n" for n, s in API_MODULES.items())]
    for name in API_MODULES:
        module = importlib.import_module(name)
        functions, classes, data = [], [], []
        for attr in _public_names(module):
            obj = getattr(module, attr)
            entry = f"{name}.{attr}"
            if not isinstance(obj, (str, int, float, tuple, dict)):
                entry = documented.setdefault(id(obj), entry)
            kind = (classes if inspect.isclass(obj) else functions if callable(obj) else data)
            kind.append(attr if entry == f"{name}.{attr}" else f"~{entry}")
        lines = [_title(f"``{name}``"), f".. automodule:: {name}\n   :no-members:\n"]
        for heading, entries in (("Functions", functions), ("Classes", classes),
                                 ("Objects", data)):
            if not entries:
                continue
            if heading == "Objects":
                constants = [e for e in entries if _is_constant(getattr(module, e, None))]
                entries = [e for e in entries if e not in constants]
                if constants:
                    lines.append(_constants(module, constants))
                if not entries:
                    continue
            template = "   :template: class.rst\n" if heading == "Classes" else ""
            lines.append(f"{heading}\n{'-' * len(heading)}\n\n"
                         f".. autosummary::\n   :toctree: stubs\n   :nosignatures:\n{template}\n"
                         + "".join(f"   {e}\n" for e in entries))
        _write_if_changed(GENERATED / "api" / f"{name}.rst", "\n".join(lines))
    _write_if_changed(GENERATED / "api" / "index.rst", "\n".join(index))
    # pages of objects that no longer exist would be orphans (a warning, so an error)
    current = set(documented.values())
    for stub in (GENERATED / "api" / "stubs").glob("*.rst"):
        if stub.stem not in current:
            stub.unlink()


def _is_constant(obj: object) -> bool:
    return isinstance(obj, (str, int, float, tuple, list, frozenset, dict))


def _constants(module: types.ModuleType, names: list[str]) -> str:
    """Plain constants (choices accepted by options) with their values, or keys for mappings."""
    text = "Constants\n---------\n\n"
    for name in names:
        value = getattr(module, name)
        if isinstance(value, dict):
            what = "Mapping; accepted names: " + ", ".join(f"``{k!r}``" for k in value)
        else:
            what = f"Value: ``{value!r}``"
        text += f".. py:data:: {name}\n   :module: {module.__name__}\n\n   {what}.\n\n"
    return text


def _cli_page() -> None:
    """Markdown reference of every command, by typer's own documentation generator."""
    import typer
    import typer.main
    from typer.cli import get_docs_for_click

    from gnngeno.cli import app

    command = typer.main.get_command(app)
    ctx = typer.Context(command, info_name="gnngeno")
    text = get_docs_for_click(obj=command, ctx=ctx, name="gnngeno", title="`gnngeno`")
    _write_if_changed(GENERATED / "_cli.md", text.strip() + "\n")


def _tutorials() -> None:
    """Copy the notebooks (with their saved outputs) next to the pages that list them."""
    target = GENERATED / "tutorials"
    target.mkdir(parents=True, exist_ok=True)
    wanted = {p.name for p in (REPO / "tutorials").glob("[0-9]*.ipynb")}
    for old in target.glob("*.ipynb"):
        if old.name not in wanted:
            old.unlink()
    for name in sorted(wanted):
        source, copy = REPO / "tutorials" / name, target / name
        if not copy.is_file() or copy.read_bytes() != source.read_bytes():
            shutil.copyfile(source, copy)


_api_pages()
_cli_page()
_tutorials()
