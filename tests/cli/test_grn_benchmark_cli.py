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


def test_a_network_only_folder_takes_expression_from_another(folder, tmp_path, capsys):
    labels = tmp_path / "sim" / "TFs500" / "Lofgof"
    labels.mkdir(parents=True)
    net = pd.read_csv(folder / "BL--network.csv")
    tfs = pd.read_csv(folder / "TF.csv")["TF"]
    genes = pd.read_csv(folder / "BL--ExpressionData.csv", index_col=0).index
    known = set(zip(net["Gene1"], net["Gene2"], strict=True))
    new = [(t, g) for t in tfs for g in genes if t != g and (t, g) not in known][::7]
    pd.concat([net.iloc[::2], pd.DataFrame(new, columns=["Gene1", "Gene2"])]).to_csv(
        labels / "BL--network.csv", index=False)
    assert main(["grn-benchmark", str(labels), "--methods", "degree"]) == 1
    assert "--expression" in capsys.readouterr().err
    out = tmp_path / "t.csv"
    assert main(["grn-benchmark", str(labels), "--expression", str(folder), "--split",
                 "random", "--methods", "degree", "--out", str(out)]) == 0
    assert pd.read_csv(out)["dataset"].tolist() == ["sim/Lofgof"]
    # the network-only folder as the test truth of a cross-reference run
    assert main(["grn-benchmark", str(folder), "--split", "cross-reference", "--reference",
                 str(labels), "--methods", "degree", "--out", str(out)]) == 0
    assert pd.read_csv(out)["split"].tolist() == ["cross-reference"]


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
                   "shuffled-prior", "grnboost2", "degree-expression", "--repaired", "--plot",
                   "what the test controls for", "whether degree alone can win"):
        assert phrase in text


@pytest.fixture(scope="module")
def leaky_folder(folder, tmp_path_factory):
    """``folder`` with split files whose test negatives include 10 training positives."""
    import shutil

    import numpy as np

    from gnngeno.data import split_grn
    from gnngeno.io import read_grn_benchmark

    d = tmp_path_factory.mktemp("leaky") / "sim" / "TFs500" / "Specific"
    shutil.copytree(folder, d)
    bench = read_grn_benchmark(d)
    genes = pd.Index(bench.adata.var_names)
    pos = np.stack([genes.get_indexer(bench.network["source"]),
                    genes.get_indexer(bench.network["target"])])
    sp = split_grn(pos, n_genes=len(genes), tf_index=genes.get_indexer(bench.tfs), seed=1)

    def frame(pairs, labels):
        return pd.DataFrame({"TF": genes[pairs[0]], "Target": genes[pairs[1]],
                             "Label": np.asarray(labels, int)})

    frame(sp.train_pos, np.ones(sp.train_pos.shape[1])).to_csv(d / "Train_set.csv", index=False)
    frame(sp.val_pairs, sp.val_labels).to_csv(d / "Validation_set.csv", index=False)
    pd.concat([frame(sp.test_pairs, sp.test_labels),
               frame(sp.train_pos[:, :10], np.zeros(10))]).to_csv(d / "Test_set.csv", index=False)
    return d


def test_repaired_rows_beside_the_original_and_a_plot(leaky_folder, tmp_path, capsys):
    from gnngeno.io import read_grn_benchmark

    with pytest.warns(UserWarning, match="labelled 0 are"):  # the leak: negatives on edges
        assert read_grn_benchmark(leaky_folder).leaks["test_neg_train_pos"] == 10
    out, png = tmp_path / "t.csv", tmp_path / "fig" / "auroc.png"
    assert main(["grn-benchmark", str(leaky_folder), "--repaired", "--methods", "degree,pearson",
                 "--negatives", "uniform,degree-matched", "--out", str(out),
                 "--plot", str(png)]) == 0
    t = pd.read_csv(out)
    assert set(t["split"]) == {"legacy", "legacy (repaired)"} and len(t) == 2 * 2 * 2
    r = t[t["negatives"] == "uniform"].set_index(["method", "split"])["n_test"]
    assert (r.xs("legacy", level="split") - r.xs("legacy (repaired)", level="split") == 10).all()
    deg = t[(t["method"] == "degree-only") & (t["negatives"] == "uniform")].set_index("split")
    assert deg.loc["legacy (repaired)", "auroc"] > deg.loc["legacy", "auroc"]
    assert png.stat().st_size > 0
    printed = capsys.readouterr().out
    assert "legacy (repaired) split, uniform negatives" in printed and "plot written" in printed


def test_repaired_needs_the_legacy_split_and_the_plot_a_known_format(leaky_folder, tmp_path,
                                                                      capsys):
    assert main(["grn-benchmark", str(leaky_folder), "--split", "random", "--repaired",
                 "--methods", "degree"]) == 1
    assert "--split legacy" in capsys.readouterr().err
    bad = tmp_path / "auroc.xyz"
    assert main(["grn-benchmark", str(leaky_folder), "--methods", "degree", "--plot",
                 str(bad)]) == 1
    assert ".xyz" in capsys.readouterr().err and not bad.exists()
