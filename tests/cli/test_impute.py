"""`gnngeno impute IN OUT`: counts or log-normalised input, stored cell graphs, output type."""

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


def _lognorm(adata) -> ad.AnnData:
    """Cells x genes AnnData whose X is log1p(counts normalised to 1e4 per cell), float32,
    with no counts layer."""
    import scanpy as sc

    a = ad.AnnData(X=adata.layers["counts"].copy(), obs=adata.obs[[]].copy(),
                   var=adata.var[[]].copy())
    sc.pp.normalize_total(a, target_sum=1e4)
    sc.pp.log1p(a)
    a.X = a.X.astype(np.float32)
    return a


def _dense(X) -> np.ndarray:
    return np.asarray(X.toarray() if hasattr(X, "toarray") else X)


@pytest.mark.parametrize("fmt", ["csv", "h5ad"])
def test_cli_impute_log_normalised_no_flags(sim, tmp_path, capsys, fmt):
    """A log-normalised matrix and no option: it runs (Gaussian model on the input's scale)
    and every observed value is kept exactly."""
    a = _lognorm(sim[0])
    X = _dense(a.X)
    src, dst = tmp_path / f"in.{fmt}", tmp_path / "out.h5ad"
    if fmt == "csv":
        pd.DataFrame(X, index=a.obs_names, columns=a.var_names).to_csv(src)
    else:
        a.write_h5ad(src)
    code = main(["impute", str(src), str(dst), "--max-epochs", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "log-normalised" in captured.out
    out = ad.read_h5ad(dst)
    imputed = _dense(out.layers["gnngeno_imputed"])
    observed = X != 0
    assert observed.any() and (~observed).any()
    np.testing.assert_array_equal(imputed[observed], X[observed])
    assert np.isfinite(imputed).all() and (imputed[~observed] != 0).any()
    params = out.uns["gnngeno_imputed"]["params"]
    assert params["input_scale"] == "log" and params["likelihood"] == "gaussian"


def test_cli_impute_reuses_stored_graph(sim, tmp_path, capsys):
    """A cell graph in the input's .obsp is used, and the output says so; --graph-key none
    builds a new one."""
    import scipy.sparse as sp

    adata, _ = sim
    a = adata.copy()
    rng = np.random.default_rng(0)
    A = sp.random(a.n_obs, a.n_obs, density=0.05, random_state=rng, dtype=np.float32)
    a.obsp["connectivities"] = ((A + A.T) > 0).astype(np.float32).tocsr()
    src, dst = tmp_path / "in.h5ad", tmp_path / "out.h5ad"
    a.write_h5ad(src)
    assert main(["impute", str(src), str(dst), "--max-epochs", "1"]) == 0
    assert "reusing the cell graph in .obsp['connectivities']" in capsys.readouterr().out
    assert main(["impute", str(src), str(dst), "--max-epochs", "1", "--graph-key",
                 "none"]) == 0
    assert "reusing" not in capsys.readouterr().out
    assert main(["impute", str(src), str(dst), "--graph-key", "nope"]) == 1
    assert "--graph-key 'nope'" in capsys.readouterr().err


def test_cli_impute_dtype_float16(sim, tmp_path):
    adata, _ = sim
    src, dst = tmp_path / "in.h5ad", tmp_path / "out.h5ad"
    adata.write_h5ad(src)
    assert main(["impute", str(src), str(dst), "--max-epochs", "1", "--dtype", "float16"]) == 0
    assert ad.read_h5ad(dst).layers["gnngeno_imputed"].dtype == np.float16


def test_cli_impute_help_documents_defaults(capsys):
    assert main(["impute", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for phrase in ("auto: the 'counts' layer when present, else X", "log-normalised",
                   "--dtype", "float16", "30x", "--graph-key"):
        assert phrase in text, phrase


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
