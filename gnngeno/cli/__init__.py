"""The ``gnngeno`` command line: a thin layer over :mod:`gnngeno.tl` (parse, call, write).

Each command lives in its own module and registers itself on :data:`app`.
"""

from __future__ import annotations

import sys

from . import (
    _embed,  # noqa: F401  (registers `gnngeno embed`)
    _graphs,  # noqa: F401  (registers commands)
    _grn,  # noqa: F401  (registers `gnngeno grn`, `gnngeno grn-benchmark`)
    _impute,  # noqa: F401  (registers `gnngeno impute`)
    _seq,  # noqa: F401  (registers `gnngeno seq ...`)
)
from ._app import app


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gnngeno`` console script.

    Errors become one line on stderr and exit code 1 (2 for usage errors); ``--debug`` anywhere
    on the command line shows the traceback instead. With ``argv`` given (tests), the exit code
    is returned instead of exiting.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:  # accepted anywhere: move it before the command, where the root option lives
        args = ["--debug", *(a for a in args if a != "--debug")]
    try:
        # not standalone: usage errors come back as exceptions, printed below in one line
        rv = app(args=args, prog_name="gnngeno", standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except KeyboardInterrupt:
        print("gnngeno: interrupted", file=sys.stderr)
        code = 130
    except Exception as e:  # noqa: BLE001 - the CLI turns every error into one line
        usage = hasattr(e, "format_message")  # typer/click usage errors (exit code 2)
        if debug and not usage:
            raise
        if type(e).__name__ == "NoArgsIsHelpError":  # `gnngeno` alone: show the help
            e.show()
            return _exit(e.exit_code, argv)
        message = " ".join((e.format_message() if usage else str(e)).split())
        if usage and getattr(e, "ctx", None) is not None:
            message += f" See '{e.ctx.command_path} --help'."
        kind = ("usage error" if usage
                else f"{type(e).__name__}; rerun with --debug for the traceback")
        print(f"gnngeno: error: {message} ({kind})", file=sys.stderr)
        code = getattr(e, "exit_code", 1) if usage else 1
    return _exit(code, argv)


def _exit(code: int, argv: list[str] | None) -> int:
    if argv is None:
        sys.exit(code)
    return code


__all__ = ["app", "main"]
