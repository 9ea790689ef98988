"""Mark transcription factors in ``adata.var``, from a list or a catalogue shipped with
gnngeno."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources

import numpy as np

from .. import _keys as keys
from .._validate import InputError, check_adata, check_tfs

#: Catalogue files (in ``gnngeno/datasets/tf_catalogues``) per species and curation.
TF_CATALOGUES = {("human", True): "hs_hgnc_curated_tfs.txt",
                 ("human", False): "hs_hgnc_tfs.txt",
                 ("mouse", True): "mm_mgi_tfs.txt",
                 ("mouse", False): "mm_mgi_tfs.txt"}


def tf_catalogue(species: str, *, curated: bool = True) -> list[str]:
    """Transcription factors of ``species`` from the catalogues shipped with gnngeno (offline).

    Parameters
    ----------
    species
        ``"human"`` (HGNC symbols; Lambert et al., *Cell* 2018) or ``"mouse"`` (MGI symbols).
    curated
        Human only: the curated list of Lambert et al. (1 390 genes); ``False``: the broader
        list of curated and likely TFs (1 839 genes). See the catalogues' README for their
        origin (pySCENIC's resources) and licence.

    Returns
    -------
    Gene symbols, in the catalogue's order.
    """
    name = TF_CATALOGUES.get((str(species).lower(), bool(curated)))
    if name is None:
        raise InputError(f"no TF catalogue for species={species!r}; the shipped ones are "
                         f"'human' and 'mouse' (or pass tfs=[...]).")
    text = (resources.files("gnngeno") / "datasets" / "tf_catalogues" / name).read_text()
    return [line.strip() for line in text.splitlines() if line.strip()]


def mark_tfs(adata, tfs: Iterable[str] | None = None, *, species: str | None = None,
             curated: bool = True, key_added: str = keys.IS_TF_KEY, copy: bool = False):
    """Mark the transcription factors among the genes of ``adata``.

    Parameters
    ----------
    adata
        Cells x genes AnnData.
    tfs
        TF names (e.g. from :func:`gnngeno.io.read_tfs`). Names absent from the data are
        ignored with a warning; none present raises.
    species
        Instead of ``tfs``: ``"human"`` or ``"mouse"``, to use the catalogue shipped with
        gnngeno (:func:`tf_catalogue`; no download). Gene symbols are matched ignoring case;
        catalogue genes absent from the data are ignored silently.
    curated
        With ``species="human"``: the curated list (Lambert et al. 2018), else the broader one.
    key_added
        Boolean ``.var`` column to write (default ``"is_tf"``).
    copy
        Return a new AnnData instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a new AnnData with ``copy=True``. Writes ``.var[key_added]`` (bool) and
    ``.uns[key_added]["params"]`` (number of TFs given and found, and the catalogue).

    Examples
    --------
    >>> import gnngeno as gg
    >>> adata, _ = gg.datasets.simulate(n_cells=20, n_genes=10, n_tfs=2, seed=0)
    >>> gg.pp.mark_tfs(adata, ["TF000", "G0001"])
    >>> int(adata.var["is_tf"].sum())
    2
    """
    check_adata(adata, min_cells=1)
    genes = [str(g) for g in adata.var_names]
    params: dict = {}
    if (tfs is None) == (species is None):
        raise InputError("pass either tfs=[...] (gene names) or species='human' / 'mouse' "
                         "(the shipped catalogues), not both or neither.")
    if species is not None:
        catalogue = tf_catalogue(species, curated=curated)
        wanted = {t.upper() for t in catalogue}
        kept = [g for g in genes if g.upper() in wanted]
        if not kept:
            raise InputError(f"none of the {len(catalogue)} {species} TFs of the shipped "
                             f"catalogue is a gene of the data (e.g. {genes[:3]}). Check the "
                             "species and that var_names are gene symbols (not Ensembl ids).")
        params = {"n_given": len(catalogue), "n_found": len(kept), "species": str(species),
                  "curated": bool(curated)}
    else:
        tf_list = [tfs] if isinstance(tfs, str) else [str(t) for t in tfs]
        kept = check_tfs(tf_list, genes)
        params = {"n_given": len(set(tf_list)), "n_found": len(kept)}
    adata = adata.copy() if copy else adata
    adata.var[key_added] = np.isin(np.asarray(adata.var_names, dtype=str), kept)
    adata.uns[key_added] = {"params": params}
    return adata if copy else None


__all__ = ["TF_CATALOGUES", "mark_tfs", "tf_catalogue"]
