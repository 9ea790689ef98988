"""`gnngeno grn` and `gnngeno grn-benchmark` end to end."""

from __future__ import annotations

import pandas as pd
import pytest

from gnngeno.cli import main
from gnngeno.datasets import simulate


def test_grn_on_embedded_simulated_data(tmp_path, capsys):
    out = tmp_path / "edges.tsv"
    assert main(["grn", "--dataset", "simulated", "--out", str(out), "--epochs", "20"]) == 0
    edges = pd.read_csv(out, sep="\t")
    assert list(edges.columns) == ["source", "target", "score"]
    assert len(edges) == 20 * 199
    assert edges["score"].is_monotonic_decreasing
    printed = capsys.readouterr().out
    assert "planted network" in printed and "AUROC" in printed


def test_grn_from_files_with_prior_and_saved_model(tmp_path):
    adata, net = simulate(n_cells=120, n_genes=50, n_tfs=5, seed=0)
    expr = pd.DataFrame(adata.X.toarray().T, index=adata.var_names, columns=adata.obs_names)
    expr.to_csv(tmp_path / "expr.csv")
    (tmp_path / "tfs.txt").write_text("\n".join(adata.var_names[:5]) + "\n")
    net.to_csv(tmp_path / "prior.tsv", sep="\t", index=False)
    out = tmp_path / "edges.tsv"
    code = main(["grn", "--expression", str(tmp_path / "expr.csv"), "--tfs",
                 str(tmp_path / "tfs.txt"), "--prior", str(tmp_path / "prior.tsv"), "--out",
                 str(out), "--epochs", "5", "--save-model", str(tmp_path / "model")])
    assert code == 0
    edges = pd.read_csv(out, sep="\t")
    assert len(edges) == 5 * 49 and set(edges["source"]) == set(adata.var_names[:5])
    assert (tmp_path / "model" / "model.pt").exists()


def test_grn_without_inputs_fails_with_one_line(tmp_path, capsys):
    assert main(["grn", "--out", str(tmp_path / "e.tsv")]) == 1
    assert "--expression" in capsys.readouterr().err
    assert not (tmp_path / "e.tsv").exists()


def test_grn_benchmark_shared_data_degree_matches_published(shared_data, capsys):
    folder = shared_data / "grn" / "beeline_scrna" / "mESC" / "TFs500" / "Non-Specific"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    assert main(["grn-benchmark", str(folder), "--methods", "degree,pearson"]) == 0
    printed = capsys.readouterr().out
    row = next(line for line in printed.splitlines() if line.strip().startswith("degree-only"))
    # the degree-only numbers on this legacy split: AUROC 0.906, AUPRC 0.166
    assert "0.906" in row and "0.166" in row
