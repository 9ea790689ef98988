"""The ``gnngeno`` command line: a thin layer over :mod:`gnngeno.tl` (parse, call, write).

Each command lives in its own module and registers itself on :data:`app`.
"""

from __future__ import annotations

import sys

from ._app import app
from . import _graphs  # noqa: F401  (registers commands)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gnngeno`` console script.

    Errors become one line on stderr and exit code 1 (2 for usage errors); ``--debug`` anywhere
    on the command line shows the traceback instead.
    """
    import click

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        result = app(args=args, prog_name="gnngeno", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except click.exceptions.Exit as e:
        code = e.exit_code
    except click.ClickException as e:
        e.show()
        code = e.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        print("gnngeno: interrupted", file=sys.stderr)
        code = 130
    except Exception as e:  # noqa: BLE001 - the CLI turns every error into one line
        if debug:
            raise
        print(f"gnngeno: error: {type(e).__name__}: {e}", file=sys.stderr)
        code = 1
    if argv is None:
        sys.exit(code)
    return code


__all__ = ["app", "main"]
