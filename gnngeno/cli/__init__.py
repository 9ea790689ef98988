"""The ``gnngeno`` command line: a thin layer over :mod:`gnngeno.tl` (parse, call, write).

Each command lives in its own module and registers itself on :data:`app`.
"""

from __future__ import annotations

import sys

from ._app import app
from . import _graphs  # noqa: F401  (registers commands)
from . import _seq  # noqa: F401  (registers `gnngeno seq ...`)
from . import _impute  # noqa: F401  (registers `gnngeno impute`)
from . import _grn  # noqa: F401  (registers `gnngeno grn`, `gnngeno grn-benchmark`)
from . import _embed  # noqa: F401  (registers `gnngeno embed`)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gnngeno`` console script.

    Errors become one line on stderr and exit code 1 (2 for usage errors); ``--debug`` anywhere
    on the command line shows the traceback instead. With ``argv`` given (tests), the exit code
    is returned instead of exiting.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, prog_name="gnngeno")  # standalone mode: exits via SystemExit
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except KeyboardInterrupt:
        print("gnngeno: interrupted", file=sys.stderr)
        code = 130
    except Exception as e:  # noqa: BLE001 - the CLI turns every error into one line
        if debug:
            raise
        message = " ".join(str(e).split())
        print(f"gnngeno: error: {message} ({type(e).__name__}; rerun with --debug for the "
              "traceback)", file=sys.stderr)
        code = 1
    if argv is None:
        sys.exit(code)
    return code


__all__ = ["app", "main"]
