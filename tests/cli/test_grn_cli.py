"""`gnngeno grn` and `gnngeno grn-benchmark` end to end."""

from __future__ import annotations

import pandas as pd
import pytest

from gnngeno.cli import main
from gnngeno.datasets import simulate

COLUMNS = ["source", "target", "score", "rank", "in_prior"]


def test_grn_on_embedded_simulated_data(tmp_path, capsys):
    out = tmp_path / "edges.tsv"
    assert main(["grn", "--dataset", "simulated", "--out", str(out), "--max-epochs", "10",
                 "--cv-folds", "2"]) == 0
    edges = pd.read_csv(out, sep="\t")
    assert list(edges.columns) == COLUMNS
    assert len(edges) == 20 * 199
    assert edges["score"].is_monotonic_decreasing
    assert edges["score"].nunique() >= len(edges) - 3  # written without losing the ranking
    assert edges["in_prior"].sum() > 0
    printed = capsys.readouterr().out
    assert "cross-fitted (2 folds" in printed and "AUROC" in printed


def _files(tmp_path, n_genes=50, n_tfs=5):
    adata, net = simulate(n_cells=120, n_genes=n_genes, n_tfs=n_tfs, seed=0)
    expr = pd.DataFrame(adata.X.toarray().T, index=adata.var_names, columns=adata.obs_names)
    expr.to_csv(tmp_path / "expr.csv")
    (tmp_path / "tfs.txt").write_text("\n".join(adata.var_names[:n_tfs]) + "\n")
    net.to_csv(tmp_path / "prior.tsv", sep="\t", index=False)
    return adata, net


def test_grn_from_files_with_prior_and_saved_model(tmp_path, capsys):
    adata, net = _files(tmp_path)
    out = tmp_path / "edges.tsv"
    code = main(["grn", "--expression", str(tmp_path / "expr.csv"), "--tfs",
                 str(tmp_path / "tfs.txt"), "--prior", str(tmp_path / "prior.tsv"), "--out",
                 str(out), "--max-epochs", "5", "--cv-folds", "2", "--save-model",
                 str(tmp_path / "model")])
    assert code == 0
    edges = pd.read_csv(out, sep="\t")
    assert len(edges) == 5 * 49 and set(edges["source"]) == set(adata.var_names[:5])
    assert edges["in_prior"].sum() == len(net)
    assert (tmp_path / "model" / "model.pt").exists()
    assert "cross-fitted" in capsys.readouterr().out
    new = tmp_path / "new.tsv"
    assert main(["grn", "--expression", str(tmp_path / "expr.csv"), "--prior",
                 str(tmp_path / "prior.tsv"), "--out", str(new), "--max-epochs", "3",
                 "--cv-folds", "2", "--exclude-prior", "--tfs", str(tmp_path / "tfs.txt")]) == 0
    new_edges = pd.read_csv(new, sep="\t")
    assert not new_edges["in_prior"].any() and len(new_edges) == 5 * 49 - len(net)


def test_grn_without_prior_prints_no_accuracy_unless_truth_is_given(tmp_path, capsys):
    _files(tmp_path, n_genes=12, n_tfs=3)
    out = tmp_path / "edges.tsv"
    args = ["grn", "--expression", str(tmp_path / "expr.csv"), "--out", str(out),
            "--method", "gnn", "--max-epochs", "3"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "every one of the 12 genes" in printed  # no TF list: every gene may regulate
    assert "AUROC" not in printed and "AUPRC" not in printed
    assert len(pd.read_csv(out, sep="\t")) == 12 * 11
    assert main([*args, "--truth", str(tmp_path / "prior.tsv")]) == 0
    assert "against the reference network" in capsys.readouterr().out
    assert main(args[:-4]) == 0  # the default without a prior: expression alone
    printed = capsys.readouterr().out
    assert "ranking: expression alone (trees)" in printed and "AUROC" not in printed


def test_grn_expression_method_picks_the_expression_ranking(tmp_path, capsys):
    import numpy as np

    from gnngeno.models import score_from_expression

    adata, _ = _files(tmp_path, n_genes=12, n_tfs=3)
    out = tmp_path / "edges.tsv"
    args = ["grn", "--expression", str(tmp_path / "expr.csv"), "--out", str(out), "--seed", "0"]
    assert main([*args, "--expression-method", "pearson"]) == 0
    assert "ranking: expression alone (pearson)" in capsys.readouterr().out
    edges = pd.read_csv(out, sep="\t")
    X = np.log1p(adata.X.toarray() / adata.X.toarray().sum(1, keepdims=True) * 1e4)
    expected = score_from_expression(X, np.arange(12), method="pearson")
    genes = list(adata.var_names)
    got = [expected[genes.index(s), genes.index(t)] for s, t in zip(edges["source"],
                                                                   edges["target"], strict=True)]
    np.testing.assert_allclose(edges["score"], got, rtol=1e-4)  # float32 csv input
    assert main([*args, "--expression-method", "diffusion"]) == 0
    assert "ranking: expression alone (diffusion)" in capsys.readouterr().out
    assert pd.read_csv(out, sep="\t")["score"].nunique() == 12 * 11


def test_grn_on_a_five_gene_network_with_a_two_edge_prior(tmp_path, capsys):
    import numpy as np

    rng = np.random.default_rng(0)
    genes = [f"g{i}" for i in range(5)]
    X = rng.poisson(3, size=(30, 5))
    X[:, 4] = 1  # a gene without variance
    pd.DataFrame(X.T, index=genes, columns=[f"c{i}" for i in range(30)]).to_csv(
        tmp_path / "expr.csv")
    pd.DataFrame({"source": ["g0", "g1"], "target": ["g2", "g3"]}).to_csv(
        tmp_path / "prior.tsv", sep="\t", index=False)
    out = tmp_path / "edges.tsv"
    args = ["grn", "--expression", str(tmp_path / "expr.csv"), "--prior",
            str(tmp_path / "prior.tsv"), "--out", str(out), "--max-epochs", "5"]
    capsys.readouterr()
    assert main(args) == 1  # the labels do not tell genes from cells: the error names the flag
    err = capsys.readouterr().err
    assert "--orientation" in err and "orientation=" not in err
    assert main([*args, "--orientation", "genes_x_cells"]) == 0
    edges = pd.read_csv(out, sep="\t")
    assert len(edges) == 20 and edges["in_prior"].sum() == 2


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
