"""`gnngeno embed IN.h5ad OUT.h5ad`."""

from __future__ import annotations

import anndata as ad
import numpy as np

import gnngeno as gg
from gnngeno.cli import main


def test_cli_embed_writes_obsm(tmp_path, capsys):
    a, _ = gg.datasets.simulate(n_cells=80, n_genes=25, n_tfs=4, seed=0)
    src, dst = tmp_path / "in.h5ad", tmp_path / "out.h5ad"
    a.write_h5ad(src)
    code = main(["--seed", "1", "embed", str(src), str(dst), "--layer", "counts", "--kind", "ae",
                 "--n-latent", "3", "--max-epochs", "2", "--input-noise", "0.5"])
    assert code == 0, capsys.readouterr().err
    out = ad.read_h5ad(dst)
    assert out.obsm["X_gnngeno"].shape == (80, 3)
    assert np.isfinite(out.obsm["X_gnngeno"]).all()
    assert out.uns["gnngeno"]["params"]["kind"] == "ae"
    assert out.uns["gnngeno"]["params"]["input_noise"] == 0.5
    assert "X_gnngeno" in capsys.readouterr().out


def test_cli_embed_bad_layer_is_one_line_error(tmp_path, capsys):
    a, _ = gg.datasets.simulate(n_cells=40, n_genes=20, n_tfs=4, seed=0)
    src = tmp_path / "in.h5ad"
    a.write_h5ad(src)
    code = main(["embed", str(src), str(tmp_path / "out.h5ad"), "--layer", "nope"])
    err = capsys.readouterr().err
    assert code == 1 and "nope" in err and "--layer X" in err
    assert not (tmp_path / "out.h5ad").exists()
