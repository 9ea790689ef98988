"""The typer application, its global options and what every command shares.

Nothing here imports torch, scanpy or pandas: ``gnngeno --help`` and ``gnngeno COMMAND --help``
load only typer. Commands import what they need inside their functions.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import typer
from typer.core import TyperCommand

THREADS_HELP = (
    "CPU threads of torch, BLAS/OpenMP and scikit-learn. Default: $OMP_NUM_THREADS when set, "
    "else half the cores (1 to 8; 1 on a 2-core machine): small models gain little from more, "
    "and on a busy machine extra threads wait for each other (3 GraphImputer epochs on 1 000 "
    "PBMC cells, 2 busy cores: 1.7-5.0 s with 1 thread, 12-18 s with 2). 0: the libraries' "
    "own defaults. The same --seed and --threads give the same output."
)


class _State:
    """Options of the current invocation that commands read (reset by ``main``)."""

    quiet: bool = False
    seed: int = 0


STATE = _State()


def say(message: str) -> None:
    """Print a status line on stdout, unless ``--quiet``."""
    if not STATE.quiet:
        typer.echo(message)


def renamed(old: str, old_value: Any, new: str, new_value: Any) -> Any:
    """The value of the hidden, deprecated flag ``old`` when given (with a warning that it is
    now spelled ``new``), else ``new_value``. Old flags are kept for one release."""
    if old_value is None:
        return new_value
    warnings.warn(f"{old} is deprecated and will be removed in the next release; use {new}.",
                  FutureWarning, stacklevel=2)
    return old_value


def threads_option() -> Any:
    """The ``--threads`` option every computing command takes."""
    return typer.Option(None, "--threads", min=0, show_default=False, help=THREADS_HELP)


def lr_option() -> Any:
    """``--lr``, defaulting to the model's learning rate."""
    return typer.Option(None, "--lr", help="Learning rate (default: the model's).")


def patience_option(monitored: str = "loss") -> Any:
    """``--patience`` for early stopping on the validation value ``monitored``."""
    return typer.Option(None, "--patience", help=f"Epochs without a better validation "
                        f"{monitored} before stopping (default: the model's).")


def l1_option() -> Any:
    """``--l1``: the lasso penalty on the weights (default: the model's)."""
    return typer.Option(None, "--l1", help="L1 (lasso) penalty on the weights.")


def l2_option() -> Any:
    """``--l2``: the ridge penalty on the weights (default: the model's)."""
    return typer.Option(None, "--l2", help="L2 (ridge) penalty on the weights.")


def max_epochs_option() -> Any:
    """``--max-epochs`` of the cell models (impute, embed), default automatic."""
    return typer.Option(None, "--max-epochs", help="Cap on training epochs (default: automatic).")


def batch_size_option() -> Any:
    """``--batch-size`` of the cell models (impute, embed), default the model's."""
    return typer.Option(None, "--batch-size", help="Cells per training batch (default: the "
                        "model's).")


def prepare(n: int | None) -> None:
    """Apply the global ``--seed`` and ``--threads`` (``None``: keep ``settings.n_threads``; 0:
    the libraries' defaults). Every command calls it first; it imports torch."""
    from .._settings import settings

    settings.seed = STATE.seed  # seeds torch: here, not in the root, so that --help stays light
    if n is not None:
        settings.n_threads = None if n == 0 else n
    settings.apply_threads()


def tl_options(func, model_cls, **options: Any) -> dict[str, Any]:
    """Keyword arguments for the ``tl`` function ``func`` from command-line options.

    Options left at ``None`` are dropped (the function's defaults apply). An option that
    ``func`` names is passed as is; the others go into its ``model_kwargs`` (options of
    ``model_cls``) or ``train_kwargs`` (options of ``model_cls.train``), or into ``**kwargs``
    when ``func`` takes those instead.
    """
    import inspect

    given = {k: v for k, v in options.items() if v is not None}
    params = inspect.signature(func).parameters
    init = inspect.signature(model_cls).parameters
    train = inspect.signature(model_cls.train).parameters
    named = {k for k, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    out: dict[str, Any] = {}
    groups: dict[str, dict[str, Any]] = {"model_kwargs": {}, "train_kwargs": {}}
    for name, value in given.items():
        if name in named and name not in groups:
            out[name] = value
        elif name in init:
            groups["model_kwargs"][name] = value
        elif name in train:
            groups["train_kwargs"][name] = value
        else:  # a programming error: the command passes an option nobody takes
            raise TypeError(f"{func.__name__}: no option {name!r} in the function, "
                            f"{model_cls.__name__} or {model_cls.__name__}.train.")
    var_keyword = any(p.kind == p.VAR_KEYWORD for p in params.values())
    for group, values in groups.items():
        if not values:
            continue
        if group in named:
            out[group] = {**values, **out.get(group, {})}
        elif var_keyword:
            out.update(values)
        else:
            raise TypeError(f"{func.__name__} takes no {group}= for {sorted(values)}.")
    return out


# Python option names that a command-line flag passes under another name
_PYTHON_NAMES = {"hidden": "n_hidden", "l1_filters": "l1", "encoder": "conv",
                 "num_layers": "n_layers", "hidden_dim": "n_hidden", "keep_observed": "denoise"}


def flag_names(message: str, params: list[Any]) -> str:
    """``message`` with the Python option names of ``params`` written as their flags.

    ``layer='counts'`` becomes ``--layer 'counts'``; ``layer=None`` becomes ``--layer X``.
    """
    flags: dict[str, str] = {}
    for p in params:
        long = [o for o in getattr(p, "opts", []) if o.startswith("--")]
        option = getattr(p, "param_type_name", "") == "option"  # not an argument
        if option and long and p.name and not getattr(p, "hidden", False):
            flags[p.name] = long[0]
    for python, cli in _PYTHON_NAMES.items():
        if cli in flags and python not in flags:
            flags[python] = flags[cli]
    if not flags:
        return message
    names = "|".join(sorted(map(re.escape, flags), key=len, reverse=True))
    edge = r"(?<![\w.\[\]'\"-])"
    message = re.sub(rf"{edge}({names})=", lambda m: f"{flags[m[1]]} ", message)
    message = re.sub(rf"{edge}({names}) (?=['\"])", lambda m: f"{flags[m[1]]} ", message)
    if "layer" in flags:
        message = message.replace(f"{flags['layer']} None", f"{flags['layer']} X")
    return message


class Command(TyperCommand):
    """A command whose input errors name its flags (``--layer``), not Python options."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ValueError as e:
            from .._validate import InputError

            if not isinstance(e, InputError):
                raise
            message = flag_names(str(e), self.params)
            if message == str(e):
                raise
            raise InputError(message) from e


app = typer.Typer(
    name="gnngeno",
    help="Graph neural networks for gene networks and single-cell data.\n\n"
    "Errors print one line and exit non-zero; add --debug for the full traceback. The global "
    "options (--seed, --quiet, --verbose, --progress, --debug) may also follow the command.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: no rich import, flags without a type column
)


def _show_version(value: bool) -> None:
    if value:
        from .._version import __version__

        typer.echo(f"gnngeno {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed of the command (python, "
                             "numpy, torch, data splits); with the same --threads the output "
                             "repeats exactly."),
    quiet: bool = typer.Option(False, "--quiet/--no-quiet", "-q", show_default=False, help="Print only warnings "
                               "and errors: no status lines, no progress bars."),
    verbose: bool = typer.Option(False, "--verbose/--no-verbose", "-v",
                                 show_default=False, help="Also log progress messages."),
    progress: bool = typer.Option(None, "--progress/--no-progress", show_default=False,
                                  help="Progress bars on stderr. Default: only when stderr is "
                                  "a terminal, never when the environment variable "
                                  "GNNGENO_NO_PROGRESS is set."),
    debug: bool = typer.Option(False, "--debug/--no-debug",
                               show_default=False, help="Show full tracebacks on errors."),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_show_version,
                                 help="Show the version and exit."),
) -> None:
    from .._settings import settings

    if quiet and verbose:
        raise typer.BadParameter("--quiet and --verbose exclude each other; pass one.",
                                 param_hint="'--quiet'")
    STATE.seed = seed
    STATE.quiet = quiet
    if verbose:
        settings.verbosity = "info"
    if quiet:
        settings.verbosity = "warning"
        settings.progress = False
    elif progress is not None:
        settings.progress = progress
