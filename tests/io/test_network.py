"""Tests of the network and TF-list readers."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from gnngeno import InputError, InputWarning
from gnngeno.io import read_beeline_network, read_network, read_tfs


@pytest.mark.parametrize(
    ("header", "sep", "ext"),
    [("Gene1,Gene2", ",", ".csv"), ("TF\ttarget\timportance", "\t", ".tsv"),
     ("regulator,target,score", ",", ".csv"), ("source\ttarget\tweight", "\t", ".txt"),
     ("tf,gene", ",", ".csv.gz")],
)
def test_read_network_detects_headers(tmp_path, header, sep, ext):
    n_cols = len(header.split(sep))
    rows = [sep.join(["A", "B", "0.5"][:n_cols]), sep.join(["A", "C", "2"][:n_cols])]
    text = "\n".join([header, *rows]) + "\n"
    path = tmp_path / f"net{ext}"
    if ext.endswith(".gz"):
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    net = read_network(path)
    assert list(net.columns) == ["source", "target", "weight"]
    assert net["source"].tolist() == ["A", "A"] and net["target"].tolist() == ["B", "C"]
    expected = [0.5, 2.0] if n_cols == 3 else [1.0, 1.0]
    assert net["weight"].tolist() == expected


def test_read_network_explicit_columns_and_errors(tmp_path):
    path = tmp_path / "net.csv"
    pd.DataFrame({"reg": ["A", "B"], "tgt": ["C", "D"], "w": [1, -2]}).to_csv(path)  # + index
    net = read_network(path, source="reg", target="tgt", weight="w")
    assert net.to_dict("list") == {"source": ["A", "B"], "target": ["C", "D"], "weight": [1., -2.]}
    assert read_network(path, source="reg", target="tgt")["weight"].tolist() == [1.0, 1.0]
    with pytest.raises(InputError, match="source=... and target="):
        read_network(path)
    with pytest.raises(InputError, match="not a column"):
        read_network(path, source="nope", target="tgt")
    pd.DataFrame({"TF": ["A"], "target": ["B"], "weight": ["high"]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="non-numeric"):
        read_network(path)
    with pytest.raises(FileNotFoundError):
        read_network(tmp_path / "missing.csv")


def test_read_network_headerless_and_missing_rows(tmp_path):
    path = tmp_path / "net.tsv"
    path.write_text("A\tB\t3\nC\t\t1\n")
    with pytest.warns(InputWarning, match="lack a source or target"):
        net = read_network(path, header=False)
    assert net.to_dict("list") == {"source": ["A"], "target": ["B"], "weight": [3.0]}


def test_read_beeline_network_signs(tmp_path):
    path = tmp_path / "refNetwork.csv"
    path.write_text("Gene1,Gene2,Type\nA,B,+\nA,C,-\nB,C,+\n")
    net = read_beeline_network(path)
    assert net["weight"].tolist() == [1.0, -1.0, 1.0]
    path.write_text("Gene1,Gene2\nA,B\n")
    assert read_beeline_network(path)["weight"].tolist() == [1.0]
    path.write_text("x,y\nA,B\n")
    with pytest.raises(InputError, match="Gene1, Gene2"):
        read_beeline_network(path)


def test_read_tfs_formats(tmp_path):
    plain = tmp_path / "tfs.txt"
    plain.write_text("# my TFs\nTF\nSox2\n\nPou5f1\nSox2\n")
    assert read_tfs(plain) == ["Sox2", "Pou5f1"]
    table = tmp_path / "TF.csv.gz"
    with gzip.open(table, "wt") as fh:
        pd.DataFrame({"TF": ["Nanog", "Sox2"], "index": [3, 1]}).to_csv(fh)
    assert read_tfs(table) == ["Nanog", "Sox2"]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="no TF column"):
        read_tfs(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    with pytest.raises(InputError, match="holds no names"):
        read_tfs(empty)


@pytest.mark.shared_data
def test_shared_data_lofgof_network_and_tfs(shared_data):
    folder = shared_data / "grn" / "beeline_scrna" / "mESC" / "TFs500" / "Lofgof"
    net = read_network(folder / "BL--network.csv.gz")
    assert len(net) == 4169 and (net["weight"] == 1.0).all()
    assert net.equals(read_beeline_network(folder / "BL--network.csv.gz"))
    tfs = read_tfs(folder / "TF.csv.gz")
    assert len(tfs) == 620 and set(net["source"]) <= set(tfs)


def test_read_tfs_corrupt_gzip(tmp_path):
    path = tmp_path / "TF.csv.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(InputError, match="truncated or corrupt"):
        read_tfs(path)
