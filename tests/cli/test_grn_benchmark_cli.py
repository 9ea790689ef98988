"""`gnngeno grn-benchmark`: splits, negatives, the tidy csv and its errors."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from gnngeno.cli import main
from gnngeno.datasets import simulate


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A BEELINE-style folder without split files (expression, network, TFs)."""
    d = tmp_path_factory.mktemp("bench") / "sim" / "TFs500" / "Specific"
    d.mkdir(parents=True)
    adata, net = simulate(n_cells=100, n_genes=50, n_tfs=6, seed=2)
    X = adata.X.toarray() if hasattr(adata.X, "toarray") else adata.X
    pd.DataFrame(X.T, index=adata.var_names, columns=adata.obs_names).to_csv(
        d / "BL--ExpressionData.csv")
    net.rename(columns={"source": "Gene1", "target": "Gene2"})[["Gene1", "Gene2"]].to_csv(
        d / "BL--network.csv", index=False)
    pd.DataFrame({"TF": adata.var_names[:6]}).to_csv(d / "TF.csv", index=False)
    return d


def test_both_negative_schemes_write_a_tidy_csv(folder, tmp_path, capsys):
    out = tmp_path / "t.csv"
    code = main(["grn-benchmark", str(folder), "--split", "random", "--negatives",
                 "uniform,degree-matched", "--methods", "degree,pearson", "--seeds", "0,1",
                 "--out", str(out)])
    assert code == 0
    t = pd.read_csv(out)
    assert list(t.columns[:5]) == ["dataset", "split", "negatives", "method", "seed"]
    assert len(t) == 2 * 2 * 2 and set(t["split"]) == {"random"}
    assert set(t["negatives"]) == {"uniform", "degree-matched"}
    printed = capsys.readouterr().out
    assert "degree-matched negatives, seed 1" in printed and "auroc_low_degree" in printed


def test_legacy_without_split_files_falls_back_to_random(folder, capsys):
    assert main(["grn-benchmark", str(folder), "--methods", "degree", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    assert "holds no split files" in captured.err
    assert "random split, uniform negatives, seed 3" in captured.out


def test_cross_reference_needs_a_reference_folder(folder, capsys):
    assert main(["grn-benchmark", str(folder), "--split", "cross-reference",
                 "--methods", "degree"]) == 1
    assert "--reference" in capsys.readouterr().err


def test_degree_matched_negatives_that_cannot_be_drawn_are_refused(folder, capsys):
    # 6 TFs: one held-out TF whose targets are all among its positives' targets
    assert main(["grn-benchmark", str(folder), "--split", "tf", "--negatives",
                 "degree-matched", "--methods", "degree"]) == 1
    assert "uniform" in capsys.readouterr().err


def test_unknown_negatives_are_refused(folder, capsys):
    assert main(["grn-benchmark", str(folder), "--split", "random", "--negatives", "hard",
                 "--methods", "degree"]) == 1
    assert "negatives" in capsys.readouterr().err


def test_help_says_what_each_split_controls_for(capsys):
    assert main(["grn-benchmark", "--help"]) == 0
    text = re.sub(r"-\s+", "-", " ".join(capsys.readouterr().out.split()))  # wrapped at "-"
    for phrase in ("held-out TFs", "degree-matched", "cross-reference", "no-graph",
                   "shuffled-prior"):
        assert phrase in text
