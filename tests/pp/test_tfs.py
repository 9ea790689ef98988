"""pp.mark_tfs from a list or from the TF catalogues shipped with gnngeno (offline)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest

from gnngeno import InputError, InputWarning, pp


def _adata(genes):
    a = ad.AnnData(np.ones((3, len(genes)), dtype=np.float32))
    a.var_names = list(genes)
    return a


def test_catalogues_ship_with_the_package():
    human = pp.tf_catalogue("human")
    broad = pp.tf_catalogue("human", curated=False)
    mouse = pp.tf_catalogue("mouse")
    assert len(human) == 1390 and len(broad) == 1839 and len(mouse) == 1721
    assert {"SOX2", "POU5F1", "GATA1"} <= set(human) and set(human) <= set(broad)
    assert {"Sox2", "Pou5f1", "Gata1"} <= set(mouse)
    with pytest.raises(InputError, match="human"):
        pp.tf_catalogue("zebrafish")


def test_mark_tfs_by_species():
    a = _adata(["SOX2", "GAPDH", "gata1", "ACTB"])
    pp.mark_tfs(a, species="human")
    assert a.var["is_tf"].tolist() == [True, False, True, False]  # symbols ignore case
    assert a.uns["is_tf"]["params"]["species"] == "human"
    m = _adata(["Sox2", "Actb", "Nanog"])
    new = pp.mark_tfs(m, species="mouse", copy=True)
    assert new.var["is_tf"].tolist() == [True, False, True] and "is_tf" not in m.var


def test_mark_tfs_with_a_list_still_works():
    a = _adata(["A", "B", "C"])
    with pytest.warns(InputWarning, match="1 of 3 TFs"):
        pp.mark_tfs(a, ["A", "C", "Z"])
    assert a.var["is_tf"].tolist() == [True, False, True]


def test_mark_tfs_errors_name_the_fix():
    a = _adata(["ENSG000001", "ENSG000002"])
    with pytest.raises(InputError, match="Ensembl"):
        pp.mark_tfs(a, species="human")
    with pytest.raises(InputError, match="either tfs"):
        pp.mark_tfs(a)
    with pytest.raises(InputError, match="either tfs"):
        pp.mark_tfs(a, ["ENSG000001"], species="human")
