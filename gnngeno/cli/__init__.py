"""The ``gnngeno`` command line: a thin layer over :mod:`gnngeno.tl` (parse, call, write).

Each command lives in its own module and registers itself on :data:`app`. Importing this
package loads typer only (no torch, scanpy or pandas): ``--help`` answers at once.
"""

from __future__ import annotations

import sys
import warnings

from . import (
    _embed,  # noqa: F401  (registers `gnngeno embed`)
    _graphs,  # noqa: F401  (registers commands)
    _grn,  # noqa: F401  (registers `gnngeno grn`)
    _grn_benchmark,  # noqa: F401  (registers `gnngeno grn-benchmark`)
    _impute,  # noqa: F401  (registers `gnngeno impute`)
    _seq,  # noqa: F401  (registers `gnngeno seq ...`)
)
from ._app import STATE, app

# global options that may also follow the command: flags, and options taking a value
_GLOBAL_FLAGS = {"--debug", "--no-debug", "--quiet", "--no-quiet", "-q", "--verbose",
                 "--no-verbose", "-v", "--progress", "--no-progress"}
_GLOBAL_VALUES = {"--seed"}


def _hoist_globals(args: list[str]) -> list[str]:
    """Move the global options found after the command in front of it (up to a ``--``)."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i:])
            break
        if a in _GLOBAL_FLAGS:
            front.append(a)
        elif a in _GLOBAL_VALUES and i + 1 < len(args):
            front.extend(args[i:i + 2])
            i += 1
        elif a.split("=", 1)[0] in _GLOBAL_VALUES:
            front.append(a)
        else:
            rest.append(a)
        i += 1
    return front + rest


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings on the console as one line, as errors are."""
    print(f"gnngeno: warning: {' '.join(str(message).split())} ({category.__name__})",
          file=sys.stderr if file is None else file)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gnngeno`` console script.

    Errors become one line on stderr and exit code 1 (2 for usage errors); ``--debug`` anywhere
    on the command line shows the traceback instead. With ``argv`` given (tests), the exit code
    is returned instead of exiting, and the settings the command changed are put back.
    """
    from .._settings import settings

    args = _hoist_globals(list(sys.argv[1:] if argv is None else argv))
    debug = "--debug" in args
    saved = dict(vars(settings))
    torch_threads = _torch_threads()
    try:
        with warnings.catch_warnings():
            if argv is None:  # the console: one-line warnings (tests keep pytest's capture)
                warnings.showwarning = _show_warning
            code = _run(args, debug)
    finally:
        vars(settings).update(saved)
        settings.verbosity = saved["_verbosity"]
        STATE.quiet, STATE.seed = False, 0
        if torch_threads is not None and _torch_threads() != torch_threads:
            sys.modules["torch"].set_num_threads(torch_threads)
    return _exit(code, argv)


def _torch_threads() -> int | None:
    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else None


def _run(args: list[str], debug: bool) -> int:
    try:
        # not standalone: usage errors come back as exceptions, printed below in one line
        rv = app(args=args, prog_name="gnngeno", standalone_mode=False)
        if rv == 130:  # typer turns Ctrl-C into exit code 130
            print("gnngeno: interrupted", file=sys.stderr)
        return rv if isinstance(rv, int) else 0
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except KeyboardInterrupt:
        print("gnngeno: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the CLI turns every error into one line
        usage = hasattr(e, "format_message")  # typer/click usage errors (exit code 2)
        if debug and not usage:
            raise
        if type(e).__name__ == "NoArgsIsHelpError":  # `gnngeno` alone: show the help
            e.show()
            return e.exit_code
        message = " ".join((e.format_message() if usage else str(e)).split())
        if usage and getattr(e, "ctx", None) is not None:
            message += f" See '{e.ctx.command_path} --help'."
        kind = ("usage error" if usage
                else f"{type(e).__name__}; rerun with --debug for the traceback")
        print(f"gnngeno: error: {message} ({kind})", file=sys.stderr)
        return getattr(e, "exit_code", 1) if usage else 1


def _exit(code: int, argv: list[str] | None) -> int:
    if argv is None:
        sys.exit(code)
    return code


__all__ = ["app", "main"]
