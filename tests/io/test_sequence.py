"""Sequence and motif readers: FASTA, DeepBind tables, sequence,label tables, MEME."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from gnngeno import InputError
from gnngeno.io import (
    Motif,
    read_deepbind,
    read_fasta,
    read_meme,
    read_sequence_table,
    read_sequences,
    write_fasta,
    write_meme,
)


def test_read_fasta_multiline_gzip_and_case(tmp_path):
    p = tmp_path / "x.fa.gz"
    with gzip.open(p, "wt") as fh:
        fh.write(">s1 first record\nacgt\nNNAC\n\n>s2\nGGG\n")
    df = read_fasta(p)
    assert df["name"].tolist() == ["s1", "s2"]
    assert df["sequence"].tolist() == ["ACGTNNAC", "GGG"]
    assert df["description"].tolist() == ["first record", ""]


def test_fasta_round_trip(tmp_path):
    seqs = ["ACGT" * 30, "TTTN"]
    write_fasta(seqs, tmp_path / "o.fa", names=["a", "b"], width=50)
    df = read_fasta(tmp_path / "o.fa")
    assert df["sequence"].tolist() == seqs and df["name"].tolist() == ["a", "b"]


def test_invalid_letters_name_the_row(tmp_path):
    p = tmp_path / "bad.fa"
    p.write_text(">a\nACGT\n>b\nACRT\n")
    with pytest.raises(InputError, match=r"row 1 .*\['R'\]"):
        read_fasta(p)


def test_fasta_without_header(tmp_path):
    p = tmp_path / "bad.fa"
    p.write_text("ACGT\n")
    with pytest.raises(InputError, match="before any '>'"):
        read_fasta(p)


def test_read_deepbind_and_autodetect(tmp_path):
    p = tmp_path / "t.seq.gz"
    with gzip.open(p, "wt") as fh:
        fh.write("FoldID\tEventID\tseq\tBound\nA\tseq_1_peak\tACGTN\t1\nA\tseq_2_shuf\tTTTTT\t0\n")
    df = read_deepbind(p)
    assert df.columns.tolist() == ["name", "fold", "sequence", "label"]
    assert df["label"].tolist() == [1.0, 0.0]
    assert read_sequences(p).equals(df)


def test_read_sequence_table_labels(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("sequence,label,other\nacgt,1,0.5\nGGCC,0,0.1\n")
    df = read_sequence_table(p)
    assert df["sequence"].tolist() == ["ACGT", "GGCC"]
    assert df.columns.tolist() == ["name", "sequence", "label", "other"]
    df1 = read_sequence_table(p, label_cols="label")
    assert df1.columns.tolist() == ["name", "sequence", "label"]
    with pytest.raises(InputError, match="sequence_col"):
        read_sequence_table(p, sequence_col="dna")


def test_meme_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    pwm = rng.dirichlet(np.ones(4), size=7)
    write_meme({"m1": Motif("m1", "TF1", pwm, 10), "m2": pwm[:3]}, tmp_path / "m.meme")
    back = read_meme(tmp_path / "m.meme")
    assert list(back) == ["m1", "m2"]
    assert back["m1"].name == "TF1" and back["m1"].nsites == 10
    np.testing.assert_allclose(back["m1"].pwm, pwm, atol=1e-5)
    assert back["m2"].width == 3


def test_read_meme_rejects_non_meme(tmp_path):
    p = tmp_path / "x.meme"
    p.write_text("hello\n")
    with pytest.raises(InputError, match="no MOTIF"):
        read_meme(p)


def test_sequence_files_shared_data(shared_data):
    seq = shared_data / "seq"
    if not seq.is_dir():
        pytest.skip("data/seq not present")
    db = read_meme(seq / "motifs" / "JASPAR2024_CORE_vertebrates_nonredundant.meme.gz")
    assert len(db) == 879
    assert db["MA0093.4"].name == "USF1" and db["MA0093.4"].consensus() == "GTCATGTGAC"
    test = read_deepbind(seq / "tf_chipseq" / "USF1_H1-hESC.test.seq.gz")
    assert len(test) == 1000 and test["label"].sum() == 500
    assert test["sequence"].str.len().eq(101).all()
