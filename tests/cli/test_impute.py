"""`gnngeno impute IN OUT [--layer counts]`."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from gnngeno.cli import main


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread: faster on a small, shared machine; restored afterwards."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)



def test_cli_impute_h5ad(sim, tmp_path, capsys):
    adata, _ = sim
    src, dst = tmp_path / "in.h5ad", tmp_path / "out.h5ad"
    adata.write_h5ad(src)
    code = main(["impute", str(src), str(dst), "--layer", "counts", "--max-epochs", "1",
                 "--n-neighbors", "10"])
    assert code == 0, capsys.readouterr()
    out = ad.read_h5ad(dst)
    assert out.layers["gnngeno_imputed"].shape == adata.shape
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_cli_impute_csv(sim, tmp_path):
    adata, _ = sim
    df = pd.DataFrame(adata.layers["counts"].toarray().astype(int), index=adata.obs_names,
                      columns=adata.var_names)
    src, dst = tmp_path / "in.csv", tmp_path / "out.h5ad"
    df.to_csv(src)
    assert main(["impute", str(src), str(dst), "--max-epochs", "1", "--denoise"]) == 0
    out = ad.read_h5ad(dst)
    assert np.isfinite(out.layers["gnngeno_imputed"]).all()
    assert not out.uns["gnngeno_imputed"]["params"]["keep_observed"]


def test_cli_impute_bad_input(sim, tmp_path, capsys):
    adata, _ = sim
    a = adata.copy()
    X = a.layers["counts"].toarray()
    X[0, 0] = -3
    a.layers["counts"] = X
    src, dst = tmp_path / "bad.h5ad", tmp_path / "out.h5ad"
    a.write_h5ad(src)
    assert main(["impute", str(src), str(dst), "--max-epochs", "1"]) == 1
    assert "negative" in capsys.readouterr().err
    assert not dst.exists()
    assert main(["impute", str(src), str(dst), "--layer", "nope"]) == 1
    assert "nope" in capsys.readouterr().err
