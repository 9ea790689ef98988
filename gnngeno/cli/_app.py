"""The typer application and the error handling every command shares."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="gnngeno",
    help="Graph neural networks for gene networks and single-cell data.\n\n"
    "Errors print one line and exit non-zero; add --debug for the full traceback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress messages."),
    seed: int = typer.Option(0, "--seed", help="Random seed (python, numpy, torch)."),
) -> None:
    from .._settings import settings

    settings.seed = seed
    if verbose:
        settings.verbosity = "info"
