"""Mark transcription factors in ``adata.var``."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .. import _keys as keys
from .._validate import check_adata, check_tfs


def mark_tfs(adata, tfs: Iterable[str], *, key_added: str = keys.IS_TF_KEY, copy: bool = False):
    """Mark the transcription factors among the genes of ``adata``.

    Parameters
    ----------
    adata
        Cells x genes AnnData.
    tfs
        TF names (e.g. from :func:`gnngeno.io.read_tfs`). Names absent from the data are
        ignored with a warning; none present raises.
    key_added
        Boolean ``.var`` column to write (default ``"is_tf"``).
    copy
        Return a new AnnData instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a new AnnData with ``copy=True``. Writes ``.var[key_added]`` (bool) and
    ``.uns[key_added]["params"]`` (number of TFs given and found).

    Examples
    --------
    >>> import gnngeno as gg
    >>> adata, _ = gg.datasets.simulate(n_cells=20, n_genes=10, n_tfs=2, seed=0)
    >>> gg.pp.mark_tfs(adata, ["TF000", "G0001"])
    >>> int(adata.var["is_tf"].sum())
    2
    """
    check_adata(adata, min_cells=1)
    tf_list = [tfs] if isinstance(tfs, str) else [str(t) for t in tfs]
    kept = check_tfs(tf_list, [str(g) for g in adata.var_names])
    adata = adata.copy() if copy else adata
    adata.var[key_added] = np.isin(np.asarray(adata.var_names, dtype=str), kept)
    adata.uns[key_added] = {"params": {"n_given": len(set(tf_list)), "n_found": len(kept)}}
    return adata if copy else None


__all__ = ["mark_tfs"]
