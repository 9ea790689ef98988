"""gnngeno: graph neural networks for gene networks and single-cell data, on AnnData.

Modules follow scanpy's layout::

    import gnngeno as gg
    adata, net = gg.datasets.simulate(seed=0)
    gg.gr.cell_graph(adata)            # AnnData -> graphs (.obsp/.varp)
    gg.tl.infer_grn(adata, tfs=...)    # graphs -> models -> results written back

``io`` readers, ``datasets`` embedded data, ``pp`` preprocessing, ``gr`` graph builders,
``data`` torch_geometric conversion and splits, ``nn`` pure-torch modules, ``models`` user
classes, ``train`` the training loop, ``tl`` one-line tools, ``metrics``, ``interpret``, ``pl``
plots.

The submodules are imported on first use (``gg.tl`` imports torch and scanpy then), so that
``import gnngeno`` and the command line's ``--help`` stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._settings import settings
from ._version import __version__

_SUBMODULES = ("baselines", "data", "datasets", "gr", "interpret", "io", "metrics", "models",
               "nn", "pl", "pp", "tl", "train")
_FROM_VALIDATE = ("InputError", "InputWarning")

if TYPE_CHECKING:  # for type checkers and IDEs; at run time they load on first use
    from . import (  # noqa: F401
        baselines,
        data,
        datasets,
        gr,
        interpret,
        io,
        metrics,
        models,
        nn,
        pl,
        pp,
        tl,
        train,
    )
    from ._validate import InputError, InputWarning  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)  # also sets the attribute
    if name in _FROM_VALIDATE:
        from . import _validate

        value = getattr(_validate, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gnngeno' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "__version__", "settings", "InputError", "InputWarning", "io", "datasets", "pp", "gr", "data",
    "nn", "models", "train", "tl", "metrics", "interpret", "pl", "baselines",
]
