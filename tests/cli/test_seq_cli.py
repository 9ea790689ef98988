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
                     str(d / "model"), "--n-filters", "4", "--filter-size", "9", "--n-hidden", "8",
                     "--max-epochs", "6", "--batch-size", "32", "--lr", "0.01"])
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


def test_predict_prints_auroc_auprc_when_labelled(trained, tmp_path, capsys):
    from gnngeno.metrics import auprc, auroc

    test, yt, _ = simulate_sequences(60, 40, motif=MOTIF, seed=3)
    pd.DataFrame({"name": [f"r{i}" for i in range(60)], "sequence": test, "label": yt}).to_csv(
        tmp_path / "in.tsv", sep="\t", index=False)
    capsys.readouterr()
    assert main(["seq", "predict", "--model", str(trained / "model"), "--input",
                 str(tmp_path / "in.tsv"), "--out", str(tmp_path / "preds.tsv")]) == 0
    out = capsys.readouterr().out
    preds = pd.read_csv(tmp_path / "preds.tsv", sep="\t")
    assert "on 60 labelled sequences" in out
    assert _printed_metrics(out) == pytest.approx(
        (auroc(yt, preds["score"]), auprc(yt, preds["score"])), abs=2e-3)
    # without labels (FASTA) no metric is printed
    write_fasta(test, tmp_path / "in.fa")
    assert main(["seq", "predict", "--model", str(trained / "model"), "--input",
                 str(tmp_path / "in.fa"), "--out", str(tmp_path / "preds2.tsv")]) == 0
    assert "AUROC" not in capsys.readouterr().out


def test_predict_multitask_prints_per_task_mean(tmp_path, capsys):
    from gnngeno.metrics import auprc, auroc
    from gnngeno.models import SequenceModel

    seqs, y, _ = simulate_sequences(120, 30, motif=MOTIF, seed=4)
    Y = np.stack([y, 1 - y], 1).astype(np.float32)
    model = SequenceModel(n_outputs=2, task="multitask", n_filters=2, filter_size=6,
                          output_names=["bound", "unbound"], seed=0)
    model.train(seqs, Y, max_epochs=1, batch_size=64)
    model.save(tmp_path / "model")
    table = pd.DataFrame({"name": [f"s{i}" for i in range(120)], "sequence": seqs,
                          "bound": Y[:, 0], "unbound": Y[:, 1]})
    table.loc[:9, "unbound"] = np.nan  # a missing label is left out of its task
    table.to_csv(tmp_path / "in.tsv", sep="\t", index=False)
    capsys.readouterr()
    assert main(["seq", "predict", "--model", str(tmp_path / "model"), "--input",
                 str(tmp_path / "in.tsv"), "--out", str(tmp_path / "preds.tsv")]) == 0
    out = capsys.readouterr().out
    preds = pd.read_csv(tmp_path / "preds.tsv", sep="\t")
    roc = [auroc(Y[:, 0], preds["score_bound"]), auroc(Y[10:, 1], preds["score_unbound"][10:])]
    prc = [auprc(Y[:, 0], preds["score_bound"]), auprc(Y[10:, 1], preds["score_unbound"][10:])]
    assert "mean over 2 tasks with both classes" in out and "unbound" in out
    assert _printed_metrics(out) == pytest.approx((np.mean(roc), np.mean(prc)), abs=2e-3)


def _printed_metrics(out: str) -> tuple[float, float]:
    """(AUROC, AUPRC) printed by `seq predict` (the scores file is rounded: compare loosely)."""
    import re

    m = re.search(r"AUROC ([0-9.]+), AUPRC ([0-9.]+)", out)
    assert m, out
    return float(m.group(1)), float(m.group(2))


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
    printed = capsys.readouterr().out
    assert "PLANTED" in printed
    # a logo for the filter that matched the planted motif, and the log says where
    assert (out / "logos" / f"{best}.png").stat().st_size > 0
    assert f"{out}/logos/" in printed
    logos = sorted(p.stem for p in (out / "logos").glob("*.png"))
    first = matches[matches["rank"] == 1]
    assert logos == sorted(first.loc[first["e_value"] <= 1.0, "query"])


def test_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "bad.fa").write_text(">a\nACXT\n")
    code = main(["seq", "train", "--train", str(tmp_path / "bad.fa"), "--out",
                 str(tmp_path / "m")])
    assert code == 1
    err = capsys.readouterr().err
    assert "InputError" in err and "letters other than" in err and not (tmp_path / "m").exists()
