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
"""

from . import (
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
from ._settings import settings
from ._validate import InputError, InputWarning
from ._version import __version__

__all__ = [
    "__version__", "settings", "InputError", "InputWarning", "io", "datasets", "pp", "gr", "data",
    "nn", "models", "train", "tl", "metrics", "interpret", "pl", "baselines",
]
