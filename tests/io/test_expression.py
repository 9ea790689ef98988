"""Tests of the expression readers on files written here and on ../shared/data."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp
from anndata import AnnData

from gnngeno import InputError, InputWarning
from gnngeno.io import (
    read_10x_h5,
    read_10x_mtx,
    read_dense_h5,
    read_expression,
    read_h5ad,
    read_table,
)

# the documented names readers write (see gnngeno.io)
COUNTS_LAYER, LABEL_KEY, READER_SOURCE_KEY = "counts", "label", "gnngeno_source"

GENES = ["Sox2", "Pou5f1", "Nanog", "Actb"]
CELLS = ["AAACCTGAGAAGGCCT-1", "AAACCTGAGACAGACC-1", "AAACCTGAGCGATAGC-1"]


@pytest.fixture()
def counts() -> np.ndarray:
    """3 cells x 4 genes of small integer counts."""
    return np.random.default_rng(0).poisson(2.0, size=(3, 4)).astype(np.float32)


def _digest(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _gz_write(path: Path, text: str) -> None:
    with gzip.open(path, "wt") as fh:
        fh.write(text)


# --- read_table ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["expr.csv", "expr.tsv.gz", "expr.txt"])
def test_read_table_genes_x_cells_auto(tmp_path, counts, name):
    sep = "," if ".csv" in name else "\t"
    df = pd.DataFrame(counts.T, index=GENES, columns=CELLS)
    path = tmp_path / name
    text = df.to_csv(sep=sep)
    if name.endswith(".gz"):
        _gz_write(path, text)
    else:
        path.write_text(text)
    adata = read_table(path)
    assert list(adata.var_names) == GENES and list(adata.obs_names) == CELLS
    np.testing.assert_array_equal(adata.X, counts)
    assert adata.X.dtype == np.float32
    np.testing.assert_array_equal(adata.layers[COUNTS_LAYER], counts)
    src = adata.uns[READER_SOURCE_KEY]
    assert src == {"path": str(path), "format": "table", "orientation": "genes_x_cells"}


def test_read_table_cells_x_genes_and_lognormalised(tmp_path):
    genes = ["ENSG00000141510", "ENSG00000012048.21", "ENSMUSG00000074637"]
    cells = ["cell_1", "cell_2"]
    values = np.array([[0.5, 1.25, 0.0], [2.0, 0.0, 3.5]])
    path = tmp_path / "x.csv"
    pd.DataFrame(values, index=cells, columns=genes).to_csv(path)
    adata = read_table(path)
    assert list(adata.var_names) == genes
    assert adata.uns[READER_SOURCE_KEY]["orientation"] == "cells_x_genes"
    assert COUNTS_LAYER not in adata.layers  # not whole numbers
    assert read_table(path, orientation="genes_x_cells").shape == (3, 2)  # user decides


def test_read_table_ambiguous_orientation(tmp_path):
    path = tmp_path / "x.csv"
    pd.DataFrame(np.ones((2, 2)), index=["A1", "B2"], columns=["C3", "D4"]).to_csv(path)
    with pytest.raises(InputError, match="orientation='genes_x_cells'"):
        read_table(path)
    assert read_table(path, orientation="cells_x_genes").shape == (2, 2)


def test_read_table_duplicate_genes_made_unique(tmp_path, counts):
    path = tmp_path / "x.csv"
    pd.DataFrame(counts.T, index=["Sox2", "Sox2", "Nanog", "Actb"], columns=CELLS).to_csv(path)
    with pytest.warns(InputWarning, match="gene names occur more than once"):
        adata = read_table(path)
    assert adata.var_names.is_unique
    assert list(adata.var_names) == ["Sox2", "Sox2-1", "Nanog", "Actb"]


def test_read_table_errors(tmp_path, counts):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_table(tmp_path / "missing.csv")
    path = tmp_path / "x.csv"
    df = pd.DataFrame(counts.T, index=GENES, columns=CELLS)
    df.insert(0, "description", "a gene")
    df.to_csv(path)
    with pytest.raises(InputError, match="non-numeric"):
        read_table(path)
    wrong = tmp_path / "x.h5ad"
    wrong.write_text("a,b\n")
    with pytest.raises(InputError, match="not a text table"):
        read_table(wrong)
    with pytest.raises(InputError, match="orientation="):
        read_table(path, orientation="rows")
    good = tmp_path / "y.csv.gz"
    _gz_write(good, pd.DataFrame(counts.T, index=GENES, columns=CELLS).to_csv())
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated or corrupt"):
        read_table(good)


# --- 10x mtx -------------------------------------------------------------------------------------
def _write_mtx_folder(folder: Path, counts: np.ndarray, *, v3: bool = True, gz: bool = True,
                      prefix: str = "", symbols=GENES, types=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    mtx = folder / f"{prefix}matrix.mtx"
    scipy.io.mmwrite(mtx, sp.coo_matrix(counts.T.astype(np.int64)), field="integer")
    if gz:
        with open(mtx, "rb") as src, gzip.open(f"{mtx}.gz", "wb") as dst:
            dst.write(src.read())
        mtx.unlink()
    ids = [f"ENSMUSG{i:011d}" for i in range(len(symbols))]
    types = types or ["Gene Expression"] * len(symbols)
    rows = [f"{i}\t{s}\t{t}" if v3 else f"{i}\t{s}" for i, s, t in zip(ids, symbols, types,
                                                                          strict=True)]
    feat = folder / (f"{prefix}features.tsv{ext}" if v3 else f"{prefix}genes.tsv{ext}")
    bcs = folder / f"{prefix}barcodes.tsv{ext}"
    for path, lines in ((feat, rows), (bcs, CELLS)):
        text = "\n".join(lines) + "\n"
        _gz_write(path, text) if gz else path.write_text(text)
    return folder


@pytest.mark.parametrize(("v3", "gz"), [(True, True), (False, False), (False, True)])
def test_read_10x_mtx_layouts(tmp_path, counts, v3, gz):
    folder = _write_mtx_folder(tmp_path / "mtx", counts, v3=v3, gz=gz)
    before = _digest(folder)
    adata = read_10x_mtx(folder)
    assert sp.issparse(adata.X) and adata.X.dtype == np.float32
    np.testing.assert_array_equal(adata.X.toarray(), counts)
    np.testing.assert_array_equal(adata.layers[COUNTS_LAYER].toarray(), counts)
    assert list(adata.var_names) == GENES and list(adata.obs_names) == CELLS
    assert adata.var["gene_ids"].iloc[0] == "ENSMUSG00000000000"
    assert adata.uns[READER_SOURCE_KEY]["format"] == "10x_mtx"
    assert LABEL_KEY not in adata.obs
    assert _digest(folder) == before
    by_id = read_10x_mtx(folder, var_names="gene_ids")
    assert by_id.var_names[0] == "ENSMUSG00000000000"


def test_read_10x_mtx_prefix_labels_and_gex_only(tmp_path, counts):
    folder = _write_mtx_folder(tmp_path / "geo", counts, prefix="GSM1_",
                               types=["Gene Expression"] * 3 + ["Antibody Capture"])
    (folder / "labels.csv").write_text(f"barcode,label\n{CELLS[1]},10\n{CELLS[0]},2\n")
    with pytest.warns(InputWarning, match="1 of 3 barcodes have no label"):
        adata = read_expression(folder / "GSM1_matrix.mtx.gz")
    assert list(adata.var_names) == GENES[:3]  # antibody feature dropped
    assert adata.obs[LABEL_KEY].tolist()[:2] == ["2", "10"]
    assert pd.isna(adata.obs[LABEL_KEY].iloc[2])
    assert list(adata.obs[LABEL_KEY].cat.categories) == ["2", "10"]  # natural order
    with pytest.warns(InputWarning, match="no label"):
        assert read_10x_mtx(folder, gex_only=False).n_vars == 4


def test_read_10x_mtx_duplicate_symbols_and_errors(tmp_path, counts):
    folder = _write_mtx_folder(tmp_path / "dup", counts, symbols=["A", "A", "B", "C"])
    with pytest.warns(InputWarning, match="more than once"):
        assert list(read_10x_mtx(folder).var_names) == ["A", "A-1", "B", "C"]
    (folder / "barcodes.tsv.gz").unlink()
    with pytest.raises(FileNotFoundError, match="barcodes"):
        read_10x_mtx(folder)
    _gz_write(folder / "barcodes.tsv.gz", "x-1\ny-1\n")
    with pytest.raises(InputError, match="different runs"):
        read_10x_mtx(folder)
    with pytest.raises(InputError, match="a folder was expected"):
        read_10x_mtx(tmp_path / "dup" / "features.tsv.gz")


# --- 10x h5 --------------------------------------------------------------------------------------
def _write_10x_h5(path: Path, counts: np.ndarray, *, v3: bool = True,
                  genomes=("mm10",)) -> Path:
    csc = sp.csc_matrix(counts.T.astype(np.int32))  # genes x cells, CSC = per-cell columns
    with h5py.File(path, "w") as f:
        for genome in genomes:
            grp = f.create_group("matrix" if v3 else genome)
            grp["data"], grp["indices"], grp["indptr"] = csc.data, csc.indices, csc.indptr
            grp["shape"] = np.array(csc.shape, dtype=np.int32)
            grp["barcodes"] = np.array(CELLS, dtype="S")
            ids = np.array([f"ENSG{i:011d}" for i in range(len(GENES))], dtype="S")
            if v3:
                ft = grp.create_group("features")
                ft["id"], ft["name"] = ids, np.array(GENES, dtype="S")
                ft["feature_type"] = np.array(["Gene Expression"] * 3 + ["Peaks"], dtype="S")
                ft["genome"] = np.array([genome] * len(GENES), dtype="S")
                break
            grp["genes"], grp["gene_names"] = ids, np.array(GENES, dtype="S")
    return path


def test_read_10x_h5_v3_and_v2(tmp_path, counts):
    v3 = _write_10x_h5(tmp_path / "filtered_feature_bc_matrix.h5", counts)
    adata = read_10x_h5(v3)
    assert list(adata.var_names) == GENES[:3]  # gex_only drops the Peaks feature
    np.testing.assert_array_equal(adata.X.toarray(), counts[:, :3])
    assert adata.var["genome"].iloc[0] == "mm10"
    assert COUNTS_LAYER in adata.layers
    assert read_10x_h5(v3, gex_only=False).n_vars == 4
    assert read_expression(v3).uns[READER_SOURCE_KEY]["format"] == "10x_h5"
    v2 = _write_10x_h5(tmp_path / "v2.h5", counts, v3=False)
    adata2 = read_10x_h5(v2)
    np.testing.assert_array_equal(adata2.X.toarray(), counts)
    assert list(adata2.obs_names) == CELLS and list(adata2.var_names) == GENES
    two = _write_10x_h5(tmp_path / "two.h5", counts, v3=False, genomes=("hg19", "mm10"))
    with pytest.raises(InputError, match="several genomes"):
        read_10x_h5(two)
    assert read_10x_h5(two, genome="mm10").n_obs == 3


def test_read_10x_h5_wrong_files(tmp_path, counts):
    dense = tmp_path / "dense.h5"
    with h5py.File(dense, "w") as f:
        f["X"] = counts
    with pytest.raises(InputError, match="read_dense_h5"):
        read_10x_h5(dense)
    text = tmp_path / "t.h5"
    text.write_text("not hdf5")
    with pytest.raises(InputError, match="cannot be read as HDF5"):
        read_10x_h5(text)


# --- dense h5 ------------------------------------------------------------------------------------
def test_read_dense_h5(tmp_path, counts):
    path = tmp_path / "d.h5"
    with h5py.File(path, "w") as f:
        f["X"], f["Y"] = counts, np.array([1.0, 2.0, 1.0])
    adata = read_dense_h5(path)
    assert list(adata.var_names) == ["gene_0000", "gene_0001", "gene_0002", "gene_0003"]
    assert list(adata.obs_names) == ["cell_00000", "cell_00001", "cell_00002"]
    assert adata.obs[LABEL_KEY].tolist() == ["1", "2", "1"]
    assert isinstance(adata.obs[LABEL_KEY].dtype, pd.CategoricalDtype)
    np.testing.assert_array_equal(adata.X.toarray(), counts)
    assert isinstance(read_dense_h5(path, sparse=False).X, np.ndarray)
    assert read_expression(path).uns[READER_SOURCE_KEY]["format"] == "dense_h5"
    with h5py.File(path, "a") as f:
        del f["Y"]
        f["Y"] = np.array([1, 2])
    with pytest.raises(InputError, match="2 labels but 'X' has 3 cells"):
        read_dense_h5(path)
    tenx = _write_10x_h5(tmp_path / "10x.h5", counts)
    with pytest.raises(InputError, match="read_10x_h5"):
        read_dense_h5(tenx)


# --- h5ad and dispatch ---------------------------------------------------------------------------
def test_read_h5ad(tmp_path, counts):
    path = tmp_path / "a.h5ad"
    AnnData(X=counts, obs=pd.DataFrame(index=CELLS), var=pd.DataFrame(index=GENES)).write_h5ad(path)
    before = _digest(tmp_path)
    adata = read_h5ad(path)
    np.testing.assert_array_equal(adata.layers[COUNTS_LAYER], counts)
    assert adata.uns[READER_SOURCE_KEY] == {"path": str(path), "format": "h5ad"}
    backed = read_h5ad(path, backed="r")
    assert backed.isbacked and COUNTS_LAYER not in backed.layers
    backed.file.close()
    with pytest.raises(InputError, match="read-only"):
        read_h5ad(path, backed="r+")
    assert read_expression(path).shape == (3, 4)
    assert _digest(tmp_path) == before
    bad = tmp_path / "bad.h5ad"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(InputError, match="HDF5"):
        read_h5ad(bad)


def test_read_expression_dispatch_and_errors(tmp_path, counts):
    folder = _write_mtx_folder(tmp_path / "mtx", counts)
    assert read_expression(folder).uns[READER_SOURCE_KEY]["format"] == "10x_mtx"
    table = tmp_path / "t.tsv"
    pd.DataFrame(counts, index=CELLS, columns=GENES).to_csv(table, sep="\t")
    assert read_expression(table, orientation="cells_x_genes").shape == (3, 4)
    loom = tmp_path / "x.loom"
    loom.write_text("")
    with pytest.raises(InputError, match=r"anndata.read_loom.*Supported: \.h5ad"):
        read_expression(loom)
    with pytest.raises(InputError, match="no expression matrix"):
        read_expression(tmp_path / "mtx" / ".." / "..")
    with pytest.raises(FileNotFoundError):
        read_expression(tmp_path / "nothing.h5ad")
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["Z"] = counts
    with pytest.raises(InputError, match="none of the layouts"):
        read_expression(other)


# --- ../shared/data ------------------------------------------------------------------------------
@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "shape", "n_labels"), [
    ("10X_PBMC_top2000.h5", (4271, 2000), 8), ("mouse_bladder_cell_top2000.h5", (2746, 2003), 16)])
def test_shared_data_dense_h5(shared_data, name, shape, n_labels):
    adata = read_expression(shared_data / "sc" / name)
    assert adata.shape == shape
    assert adata.obs[LABEL_KEY].nunique() == n_labels
    assert adata.obs[LABEL_KEY].value_counts().index[0] == "1"
    assert COUNTS_LAYER in adata.layers and adata.var_names.is_unique
    np.testing.assert_array_equal(adata.X.data, np.round(adata.X.data))


@pytest.mark.shared_data
def test_shared_data_10x_mtx_matches_dense_h5(shared_data):
    mtx = read_10x_mtx(shared_data / "sc" / "10X_PBMC_top2000_mtx")
    dense = read_dense_h5(shared_data / "sc" / "10X_PBMC_top2000.h5")
    assert mtx.shape == (4271, 2000)
    assert (mtx.X != dense.X).nnz == 0
    assert mtx.obs[LABEL_KEY].tolist() == dense.obs[LABEL_KEY].tolist()
    assert mtx.obs[LABEL_KEY].value_counts().tolist() == [1292, 702, 606, 459, 450, 332, 295, 135]
    assert list(mtx.var_names[:2]) == ["gene_0000", "gene_0001"]


@pytest.mark.shared_data
def test_shared_data_beeline_expression_table(shared_data):
    path = shared_data / "grn" / "beeline_scrna" / "hHEP" / "TFs500" / "STRING"
    adata = read_expression(path / "BL--ExpressionData.csv.gz")  # orientation detected
    assert adata.shape == (425, 948)
    assert adata.uns[READER_SOURCE_KEY]["orientation"] == "genes_x_cells"
    assert COUNTS_LAYER not in adata.layers  # log-transformed values
    assert read_expression(path).shape == (425, 948)  # the folder
