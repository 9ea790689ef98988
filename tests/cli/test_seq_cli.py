"""`gnngeno seq train / predict / motifs` end to end on a tiny planted-motif set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from gnngeno.cli import main
from gnngeno.data import simulate_sequences
from gnngeno.io import Motif, read_meme, write_fasta, write_meme

MOTIF = "TATGCAAAT"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("seqcli")
    seqs, y, _ = simulate_sequences(300, 40, motif=MOTIF, fraction=1.0, seed=0)
    write_fasta(seqs, d / "peaks.fa")  # positives only: shuffled negatives are added
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model trains ~3x faster on one thread
    try:
        code = main(["--seed", "0", "seq", "train", "--train", str(d / "peaks.fa"), "--out",
                     str(d / "model"), "--filters", "4", "--filter-size", "9", "--hidden", "8",
                     "--epochs", "6", "--batch-size", "32", "--lr", "0.01"])
    finally:
        torch.set_num_threads(n_threads)
    assert code == 0
    return d


def test_train_writes_model_and_history(trained):
    assert (trained / "model" / "model.pt").exists()
    hist = pd.read_csv(trained / "model" / "history.tsv", sep="\t")
    assert "val_auroc" in hist.columns and len(hist) >= 1


def test_predict_one_score_per_row_in_order(trained, tmp_path):
    test, yt, _ = simulate_sequences(60, 40, motif=MOTIF, seed=3)
    pd.DataFrame({"name": [f"r{i}" for i in range(60)], "sequence": test, "label": yt}).to_csv(
        tmp_path / "in.tsv", sep="\t", index=False)
    assert main(["seq", "predict", "--model", str(trained / "model"), "--input",
                 str(tmp_path / "in.tsv"), "--out", str(tmp_path / "preds.tsv")]) == 0
    preds = pd.read_csv(tmp_path / "preds.tsv", sep="\t")
    assert preds["name"].tolist() == [f"r{i}" for i in range(60)]
    assert preds["score"].between(0, 1).all()
    assert preds.loc[yt == 1, "score"].mean() > preds.loc[yt == 0, "score"].mean() + 0.3


def test_motifs_command(trained, tmp_path, capsys):
    rng = np.random.default_rng(1)
    db = {"planted": Motif("planted", "PLANTED",
                           np.eye(4)[["ACGT".index(c) for c in MOTIF]] * 0.9 + 0.025)}
    db.update({f"d{i}": Motif(f"d{i}", "", rng.dirichlet(np.ones(4) * 0.3, size=9))
               for i in range(10)})
    write_meme(db, tmp_path / "db.meme")
    out = tmp_path / "motifs"
    assert main(["seq", "motifs", "--model", str(trained / "model"), "--motifs",
                 str(tmp_path / "db.meme"), "--out", str(out)]) == 0
    assert len(read_meme(out / "filters.meme")) == 4
    matches = pd.read_csv(out / "matches.tsv", sep="\t")
    imp = pd.read_csv(out / "importance.tsv", sep="\t")
    best = imp["filter"].iloc[0]
    assert matches[matches["query"] == best].iloc[0]["target_id"] == "planted"
    assert "PLANTED" in capsys.readouterr().out


def test_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "bad.fa").write_text(">a\nACXT\n")
    code = main(["seq", "train", "--train", str(tmp_path / "bad.fa"), "--out",
                 str(tmp_path / "m")])
    assert code == 1
    err = capsys.readouterr().err
    assert "InputError" in err and "letters other than" in err and not (tmp_path / "m").exists()
