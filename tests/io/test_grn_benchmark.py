"""Tests of gnngeno.io.read_grn_benchmark on hand-written folders and on ../shared/data."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gnngeno import InputError, InputWarning
from gnngeno.io import GRNBenchmark, read_grn_benchmark

# the documented names readers write (see gnngeno.io.read_grn_benchmark)
IS_TF_KEY, READER_SOURCE_KEY = "is_tf", "gnngeno_source"

GENES = ["G0", "TFA", "G2", "TFB", "G4"]  # matrix order; TFA, TFB are TFs
CELLS = ["c0", "c1", "c2"]
EDGES = [("TFA", "G2"), ("TFA", "G4"), ("TFB", "G0")]


def _write_csv(df: pd.DataFrame, path: Path, *, index: bool = True) -> None:
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as fh:
            df.to_csv(fh, index=index)
    else:
        df.to_csv(path, index=index)


def _write_benchmark(folder: Path, *, gz: bool = True, split_dir: str | None = "splits_x",
                     target_order: list[str] | None = None) -> Path:
    """A tiny BEELINE/GENELink folder. Target.csv row indices follow ``target_order``."""
    ext = ".csv.gz" if gz else ".csv"
    folder.mkdir(parents=True)
    expr = pd.DataFrame(np.arange(15, dtype=float).reshape(5, 3) / 7, index=GENES, columns=CELLS)
    _write_csv(expr, folder / f"BL--ExpressionData{ext}")
    _write_csv(pd.DataFrame(EDGES, columns=["Gene1", "Gene2"]), folder / f"BL--network{ext}",
               index=False)
    order = target_order or GENES
    _write_csv(pd.DataFrame({"TF": ["TFB", "TFA"], "index": [order.index("TFB"),
                                                            order.index("TFA")]}),
               folder / f"TF{ext}")
    _write_csv(pd.DataFrame({"Gene": order, "index": range(len(order))}), folder / f"Target{ext}")
    if split_dir is not None:
        d = folder / split_dir if split_dir != "." else folder
        d.mkdir(exist_ok=True)
        ix = order.index
        pairs = {
            "Train_set": [("TFA", "G2", 1), ("TFA", "G0", 0)],
            "Validation_set": [("TFB", "G0", 1), ("TFB", "G2", 0)],
            "Test_set": [("TFA", "G4", 1), ("TFB", "G4", 0), ("TFA", "TFB", 0)],
        }
        for stem, rows in pairs.items():
            df = pd.DataFrame([(ix(s), ix(t), lab) for s, t, lab in rows],
                              columns=["TF", "Target", "Label"])
            _write_csv(df, d / f"{stem}{ext}")
    return folder


def test_reads_folder_with_split(tmp_path):
    # Target.csv order differs from the matrix order: indices must be mapped through it.
    order = ["TFB", "G4", "G0", "G2", "TFA"]
    folder = _write_benchmark(tmp_path / "mESC" / "TFs500" / "Specific", target_order=order)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    b = read_grn_benchmark(folder)
    assert isinstance(b, GRNBenchmark)
    assert b.name == "mESC/Specific"
    assert b.adata.shape == (3, 5)
    assert list(b.adata.var_names) == GENES and list(b.adata.obs_names) == CELLS
    assert b.adata.X.dtype == np.float32
    np.testing.assert_allclose(b.adata.X[1, 2], 7 / 7, rtol=1e-6)  # gene G2, cell c1
    assert b.tfs == ["TFA", "TFB"]  # matrix order, not TF.csv order
    assert b.adata.var[IS_TF_KEY].tolist() == [False, True, False, True, False]
    assert b.adata.uns[READER_SOURCE_KEY]["format"] == "beeline"
    assert list(b.network.columns) == ["source", "target", "weight"]
    assert (b.network["weight"] == 1.0).all()
    assert set(map(tuple, b.network[["source", "target"]].to_numpy())) == set(EDGES)
    assert set(b.splits) == {"train", "validation", "test"}
    assert b.splits["train"].to_dict("records") == [
        {"source": "TFA", "target": "G2", "label": 1}, {"source": "TFA", "target": "G0", "label": 0}]
    assert b.splits["test"]["label"].tolist() == [1, 0, 0]
    assert b.splits["test"]["label"].dtype.kind == "i"
    # readers never modify their input
    assert before == {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert "3 cells x 5 genes" in repr(b)


def test_wrong_target_mapping_warns(tmp_path):
    folder = _write_benchmark(tmp_path / "c" / "Net", target_order=["TFB", "G4", "G0", "G2", "TFA"])
    # replace Target.csv by the matrix order: the split indices now point to other genes
    _write_csv(pd.DataFrame({"Gene": GENES, "index": range(5)}), folder / "Target.csv.gz")
    with pytest.warns(InputWarning, match="labelled 1 are not edges"):
        read_grn_benchmark(folder)


@pytest.mark.parametrize("gz", [True, False])
def test_genelink_layout_split_in_folder(tmp_path, gz):
    folder = _write_benchmark(tmp_path / "hHEP 500", gz=gz, split_dir=".")
    b = read_grn_benchmark(folder)
    assert len(b.splits["test"]) == 3
    assert b.name == f"{tmp_path.name}/hHEP 500"
    assert read_grn_benchmark(folder, split=".").splits["train"].equals(b.splits["train"])


def test_split_choice(tmp_path):
    folder = _write_benchmark(tmp_path / "a" / "b", split_dir="splits_bridge_sample1")
    _write_benchmark_split_copy = folder / "splits_genelink_demo"
    _write_benchmark_split_copy.mkdir()
    for p in (folder / "splits_bridge_sample1").iterdir():
        df = pd.read_csv(p, index_col=0)
        _write_csv(df.iloc[:1], _write_benchmark_split_copy / p.name)
    assert len(read_grn_benchmark(folder).splits["test"]) == 3  # auto prefers bridge
    assert len(read_grn_benchmark(folder, split="genelink_demo").splits["test"]) == 1
    assert len(read_grn_benchmark(folder, split="splits_genelink_demo").splits["test"]) == 1
    assert read_grn_benchmark(folder, split=None).splits == {}
    with pytest.raises(InputError, match="available"):
        read_grn_benchmark(folder, split="nope")


def test_no_split_and_beeline_names(tmp_path):
    folder = tmp_path / "inputs" / "hESC"
    folder.mkdir(parents=True)
    expr = pd.DataFrame(np.ones((5, 3)), index=GENES, columns=CELLS)
    expr.to_csv(folder / "ExpressionData.csv")
    pd.DataFrame({"Gene1": ["TFA", "TFB"], "Gene2": ["G2", "G0"], "Type": ["+", "-"]}).to_csv(
        folder / "refNetwork.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = read_grn_benchmark(folder)
    assert b.splits == {}
    assert b.network["weight"].tolist() == [1.0, -1.0]
    assert b.tfs == ["TFA", "TFB"]  # no TF.csv: the network regulators
    assert b.name == "inputs/hESC"


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_grn_benchmark(tmp_path / "absent")
    folder = tmp_path / "Lofgof"
    folder.mkdir()
    pd.DataFrame(EDGES, columns=["Gene1", "Gene2"]).to_csv(folder / "BL--network.csv", index=False)
    with pytest.raises(FileNotFoundError, match="Lofgof.*labels only"):
        read_grn_benchmark(folder)
    with pytest.raises(InputError, match="no expression file.*expression="):
        read_grn_benchmark(folder)


def test_a_network_only_folder_reads_the_expression_it_is_given(tmp_path):
    full = _write_benchmark(tmp_path / "mESC" / "Specific")
    labels = tmp_path / "mESC" / "Lofgof"
    labels.mkdir()
    pd.DataFrame([("TFB", "G2"), ("TFB", "G4")], columns=["Gene1", "Gene2"]).to_csv(
        labels / "BL--network.csv", index=False)
    pd.DataFrame({"TF": ["TFB"]}).to_csv(labels / "TF.csv", index=False)
    own = read_grn_benchmark(full)
    for given in (full, full / "BL--ExpressionData.csv.gz"):  # a folder or the file itself
        b = read_grn_benchmark(labels, expression=given)
        assert b.name == "mESC/Lofgof" and b.splits == {}
        assert list(b.adata.var_names) == GENES
        np.testing.assert_array_equal(b.adata.X, own.adata.X)
        assert b.tfs == ["TFB"]  # the folder's own TF list, not the expression folder's
        assert list(zip(b.network["source"], b.network["target"], strict=True)) == [
            ("TFB", "G2"), ("TFB", "G4")]
    # a folder that has its own expression takes the given one instead
    other = tmp_path / "other"
    other.mkdir()
    expr = pd.DataFrame(np.ones((5, 2)), index=GENES, columns=["x", "y"])
    expr.to_csv(other / "ExpressionData.csv")
    assert read_grn_benchmark(full, expression=other).adata.n_obs == 2
    with pytest.raises(FileNotFoundError, match="no expression file in .*Pass the file itself"):
        read_grn_benchmark(labels, expression=labels)
    with pytest.raises(FileNotFoundError, match="not found"):
        read_grn_benchmark(labels, expression=tmp_path / "absent.csv")


def test_an_anndata_given_as_expression_is_used_as_it_is_and_left_unchanged(tmp_path, caplog):
    full = _write_benchmark(tmp_path / "mESC" / "Specific")
    labels = tmp_path / "mESC" / "Lofgof"
    labels.mkdir()
    pd.DataFrame([("TFB", "G2")], columns=["Gene1", "Gene2"]).to_csv(
        labels / "BL--network.csv", index=False)
    pd.DataFrame({"TF": ["TFB"]}).to_csv(labels / "TF.csv", index=False)
    own = read_grn_benchmark(full)
    given = own.adata.copy()
    given.var = given.var.drop(columns=IS_TF_KEY)
    before = given.copy()
    b = read_grn_benchmark(labels, expression=given)
    assert b.adata is not given
    np.testing.assert_array_equal(b.adata.X, own.adata.X)
    assert b.tfs == ["TFB"] and b.adata.var[IS_TF_KEY].sum() == 1
    assert list(given.var.columns) == list(before.var.columns)  # the user's object: unchanged
    np.testing.assert_array_equal(given.X, before.X)
    with caplog.at_level("INFO", logger="gnngeno"):  # a folder with its own expression says so
        read_grn_benchmark(full, expression=given)
    assert "given expression (an AnnData) is used instead of the folder's own" in caplog.text
    with pytest.raises(InputError, match="gene names .* are not unique"):
        read_grn_benchmark(labels, expression=given[:, [0, 0]])
    with pytest.raises(InputError, match="empty"):
        read_grn_benchmark(labels, expression=given[:0])


def test_split_indices_out_of_range(tmp_path):
    folder = _write_benchmark(tmp_path / "x" / "y", gz=False, split_dir=".")
    pd.DataFrame({"TF": [1], "Target": [99], "Label": [1]}).to_csv(folder / "Test_set.csv")
    with pytest.raises(InputError, match="not in the folder's Target.csv"):
        read_grn_benchmark(folder)


def test_corrupt_expression_file(tmp_path):
    folder = _write_benchmark(tmp_path / "x" / "y", split_dir=None)
    data = (folder / "BL--ExpressionData.csv.gz").read_bytes()
    (folder / "BL--ExpressionData.csv.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated or corrupt"):
        read_grn_benchmark(folder)


# --- ../shared/data ------------------------------------------------------------------------------
_SHARED = [(c, n) for c in ("mESC", "hHEP") for n in ("Specific", "Non-Specific", "STRING")]


@pytest.mark.shared_data
@pytest.mark.parametrize(("cell", "net"), _SHARED)
def test_shared_data_beeline_split_positives_are_network_edges(shared_data, cell, net):
    folder = shared_data / "grn" / "beeline_scrna" / cell / "TFs500" / net
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        b = read_grn_benchmark(folder)
    n_genes, n_cells = {"mESC": (1120, 421), "hHEP": (948, 425)}[cell]
    assert b.adata.shape == (n_cells, n_genes)
    assert b.adata.var_names.is_unique and b.adata.obs_names.is_unique
    assert b.name == f"{cell}/{net}"
    n_edges = {("mESC", "Specific"): 29613, ("mESC", "Non-Specific"): 6893,
               ("mESC", "STRING"): 7762, ("hHEP", "Specific"): 9939,
               ("hHEP", "Non-Specific"): 4129, ("hHEP", "STRING"): 7523}[(cell, net)]
    assert len(b.network) == n_edges
    n_tfs = 448 if cell == "hHEP" else (627 if net == "Specific" else 620)
    assert len(b.tfs) == n_tfs == int(b.adata.var[IS_TF_KEY].sum())
    edges = set(zip(b.network["source"], b.network["target"], strict=True))
    n_pos = 0
    for key in ("train", "validation", "test"):
        df = b.splits[key]
        pos = df[df["label"] == 1]
        assert len(pos) > 0 and (df["label"] == 0).any()
        assert all(p in edges for p in zip(pos["source"], pos["target"], strict=True))
        neg = df[df["label"] == 0]
        assert not any(p in edges for p in zip(neg["source"], neg["target"], strict=True))
        assert df["source"].isin(b.tfs).all()
        n_pos += len(pos)
    assert n_pos == n_edges  # the three splits partition the ground-truth edges


@pytest.mark.shared_data
def test_shared_data_genelink_demo_split(shared_data):
    folder = shared_data / "grn" / "beeline_scrna" / "mESC" / "TFs500" / "Specific"
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        b = read_grn_benchmark(folder, split="splits_genelink_demo")
    edges = set(zip(b.network["source"], b.network["target"], strict=True))
    counts = {k: (int(v["label"].sum()), int((v["label"] == 0).sum())) for k, v in b.splits.items()}
    # the README quotes 19804 train positives; the file holds 19803 (one more in test)
    assert counts == {"train": (19803, 46092), "validation": (2956, 6883), "test": (6854, 15884)}
    for df in b.splits.values():
        pos = df[df["label"] == 1]
        assert all(p in edges for p in zip(pos["source"], pos["target"], strict=True))


@pytest.mark.shared_data
def test_shared_data_lofgof_is_read_with_the_expression_of_mesc(shared_data):
    folder = shared_data / "grn" / "beeline_scrna" / "mESC" / "TFs500" / "Lofgof"
    with pytest.raises(FileNotFoundError, match="Lofgof"):
        read_grn_benchmark(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every network gene is in mESC's matrix
        b = read_grn_benchmark(folder, expression=folder.parent / "Non-Specific")
    assert b.adata.shape == (421, 1120)
    assert len(b.network) == 4169 and b.network["source"].nunique() == 34
    assert len(b.tfs) < 1120 and set(b.network["source"]) <= set(b.tfs)


def test_audit_counts_test_negatives_that_are_training_positives(tmp_path, caplog):
    import logging

    from gnngeno.io import repair_grn_splits

    folder = _write_benchmark(tmp_path / "b")
    b = read_grn_benchmark(folder)
    assert b.leaks and not any(b.leaks.values())  # the hand-written split is sound
    ix = GENES.index
    leaky = pd.DataFrame([(ix("TFA"), ix("G4"), 1), (ix("TFA"), ix("G2"), 0),
                          (ix("TFA"), ix("G0"), 0), (ix("TFB"), ix("G4"), 0)],
                         columns=["TF", "Target", "Label"])
    _write_csv(leaky, folder / "splits_x" / "Test_set.csv.gz")
    with warnings.catch_warnings(), caplog.at_level(logging.INFO, logger="gnngeno"):
        warnings.simplefilter("ignore", InputWarning)  # TFA -> G2 is an edge labelled 0
        b = read_grn_benchmark(folder)
    assert b.leaks["test_neg_train_pos"] == 1  # TFA -> G2 is a training positive
    assert b.leaks["test_pairs_train_neg"] == 1  # TFA -> G0 is a training negative
    assert b.leaks["test_pos_train_pos"] == 0
    assert "1 test negatives are training positives" in caplog.text
    fixed = repair_grn_splits(b)
    assert not any(fixed.leaks.values())
    assert len(fixed.splits["test"]) == 2 and len(b.splits["test"]) == 4  # a copy
    assert fixed.splits["train"] is b.splits["train"]


def test_audit_counts_reversed_edges_for_undirected_references_only():
    from gnngeno.io import audit_grn_splits

    splits = {"train": pd.DataFrame({"source": ["A"], "target": ["B"], "label": [1]}),
              "test": pd.DataFrame({"source": ["B", "A"], "target": ["A", "C"],
                                    "label": [0, 1]})}
    assert audit_grn_splits(splits, undirected=True)["test_neg_train_pos_reversed"] == 1
    assert audit_grn_splits(splits, undirected=False)["test_neg_train_pos_reversed"] == 0
    assert audit_grn_splits(splits)["test_neg_train_pos"] == 0
    # a test positive whose reverse was trained on is the same undirected edge
    splits["test"]["label"] = [1, 1]
    assert audit_grn_splits(splits, undirected=True)["test_pos_train_pos_reversed"] == 1
    assert audit_grn_splits(splits, undirected=False)["test_pos_train_pos_reversed"] == 0


def test_repair_removes_exactly_the_leaked_rows_property():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from gnngeno.io import audit_grn_splits, repair_grn_splits

    names = [f"g{i}" for i in range(8)]

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7), st.integers(0, 1)),
                    min_size=1, max_size=30),
           st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7), st.integers(0, 1)),
                    min_size=1, max_size=30), st.booleans())
    def check(train, test, undirected):
        def frame(rows):
            return pd.DataFrame({"source": [names[a] for a, _, _ in rows],
                                 "target": [names[b] for _, b, _ in rows],
                                 "label": [c for _, _, c in rows]})

        splits = {"train": frame(train), "test": frame(test)}
        b = GRNBenchmark(adata=None, network=pd.DataFrame(), tfs=[], splits=splits,
                         name="x/STRING" if undirected else "x/Specific")
        leaks = audit_grn_splits(splits, undirected=undirected)
        fixed = repair_grn_splits(b)
        assert not any(fixed.leaks.values())
        assert len(fixed.splits["test"]) <= len(splits["test"])
        if not any(leaks.values()):
            assert len(fixed.splits["test"]) == len(splits["test"])
        pos = {(s, t) for s, t, lab in splits["train"].itertuples(index=False) if lab == 1}
        for s, t, _lab in fixed.splits["test"].itertuples(index=False):
            assert (s, t) not in pos
            if undirected:
                assert (t, s) not in pos

    check()


@pytest.mark.shared_data
def test_shared_data_shipped_splits_pass_the_audit(shared_data):
    folder = shared_data / "grn" / "beeline_scrna" / "hHEP" / "TFs500" / "STRING"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        b = read_grn_benchmark(folder)
    assert set(b.leaks) >= {"test_neg_train_pos", "test_neg_train_pos_reversed"}
    # sound for negatives, but STRING is undirected and the published split keeps test
    # positives whose reverse is a training positive: the same edge
    assert b.leaks["test_pos_train_pos_reversed"] > 1000
    assert not any(v for k, v in b.leaks.items() if not k.endswith("pos_train_pos_reversed"))
