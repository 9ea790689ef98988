"""Bad input at every public entry point (API and CLI) gets a clear error (issue 9).

Every case is one row of a table: a callable that feeds one kind of bad input to one entry
point, the exception (or warning) type expected, a regex that the message must match to *name
the problem*, and a regex that it must match to *hint the fix*. CLI rows run
``gnngeno.cli.main`` in-process and also check the one-line, traceback-free error and that
``--debug`` lets the exception (and so the traceback) through.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import gnngeno as gg
from gnngeno import InputError, InputWarning
from gnngeno.cli import main
from gnngeno.datasets import simulate

# ------------------------------------------------------------------------------------ data


@functools.lru_cache(maxsize=1)
def _base():
    return simulate(n_cells=30, n_genes=12, n_tfs=3, seed=0)


def sim() -> tuple[ad.AnnData, pd.DataFrame]:
    """A fresh copy of a tiny simulated dataset (30 cells x 12 genes, 3 TFs) and its network."""
    adata, net = _base()
    return adata.copy(), net.copy()


def counts() -> np.ndarray:
    return sim()[0].layers["counts"].toarray().astype(np.float32)


def make(X, *, obs_names=None, var_names=None, layer_counts: bool = False) -> ad.AnnData:
    """An AnnData from a dense matrix with simulated-style names."""
    X = np.asarray(X, dtype=np.float32)
    obs = pd.DataFrame(index=obs_names if obs_names is not None
                       else [f"cell{i:05d}" for i in range(X.shape[0])])
    var = pd.DataFrame(index=var_names if var_names is not None
                       else [f"G{i:04d}" for i in range(X.shape[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = ad.AnnData(X=X, obs=obs, var=var)
    if layer_counts:
        a.layers["counts"] = X.copy()
    return a


def lognorm(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    return np.log1p(X / X.sum(1, keepdims=True) * 1e4).astype(np.float32)


def with_value(value, *, where=(0, 0), layer_counts=True) -> ad.AnnData:
    X = counts()
    X[where] = value
    return make(X, layer_counts=layer_counts)


def with_graph(a: ad.AnnData) -> ad.AnnData:
    """``a`` with a ring cell graph in ``.obsp['g']`` (so that no kNN search is needed)."""
    import scipy.sparse as sp

    n = a.n_obs
    ring = sp.csr_matrix((np.ones(n), (np.arange(n), (np.arange(n) + 1) % n)), shape=(n, n))
    a.obsp["g"] = (ring + ring.T).tocsr()
    return a


def zero_row() -> ad.AnnData:
    X = counts()
    X[3] = 0
    return make(X, layer_counts=True)


def zero_col() -> ad.AnnData:
    X = counts()
    X[:, 2] = 0
    return make(X, layer_counts=True)


def dup_genes() -> ad.AnnData:
    a = sim()[0]
    names = a.var_names.tolist()
    names[1] = names[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a.var_names = names
    return a


def dup_cells() -> ad.AnnData:
    a = sim()[0]
    names = a.obs_names.tolist()
    names[1] = names[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a.obs_names = names
    return a


def transposed() -> ad.AnnData:
    """Genes x cells stored as if it were cells x genes (obs = genes, var = cells)."""
    a = sim()[0]
    return make(counts().T, obs_names=a.var_names.tolist(), var_names=a.obs_names.tolist())


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def write_expr_csv(path: Path, X=None, *, genes_x_cells: bool = True) -> Path:
    """An expression table (genes x cells, BEELINE style) of the simulated data."""
    a = sim()[0]
    X = counts() if X is None else np.asarray(X)
    df = pd.DataFrame(X, index=a.obs_names, columns=a.var_names)
    (df.T if genes_x_cells else df).to_csv(path)
    return path


class Res:
    """Lazily built shared resources (a saved Embedder) for the model cases."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @functools.cached_property
    def embedder_dir(self) -> Path:
        adata = sim()[0]
        model = gg.models.Embedder(adata, kind="ae", layer="counts", n_latent=2, n_hidden=8,
                                   seed=0)
        model.train(max_epochs=1, validation_fraction=0.0)
        path = self.root / "embedder"
        model.save(path)
        self.embedder = model
        return path


# ------------------------------------------------------------------------------------ cases


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[Path, Res], object]
    exc: type[BaseException]
    problem: str
    fix: str
    warns: bool = False


def _split_no_train_positive():
    # every positive starts at TF 0; hold out 90 % of the TFs so that TF 0 is held out
    for seed in range(50):
        order = np.random.default_rng(seed).permutation(np.arange(10))
        if 0 in order[:9]:
            break
    pos = np.array([[0, 0], [11, 12]])
    return gg.data.split_edges(pos, n_genes=20, tf_index=np.arange(10), method="tf",
                               fractions=(0.1, 0.3, 0.6), seed=seed)


def _imputation_wrong_shape():
    masked, hidden = gg.pp.mask_nonzero(sim()[0], seed=0)
    return gg.metrics.imputation_metrics(np.zeros((3, 3)), masked.X, hidden)


def _net(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source", "target"])


API_CASES = [
    # --- values of the expression matrix -------------------------------------------------------
    Case("nan_in_X", lambda t, r: gg.gr.gene_graph(with_value(np.nan)),
         InputError, r"1 NaN", r"Remove or fill them|nan_to_num"),
    Case("inf_in_counts_layer", lambda t, r: gg.tl.embed(with_value(np.inf), layer="counts"),
         InputError, r"infinite", r"Remove or fill them|nan_to_num"),
    Case("nan_in_cell_graph_input", lambda t, r: gg.gr.cell_graph(with_value(np.nan)),
         InputError, r"NaN", r"Remove or fill them"),
    Case("negative_counts_mask", lambda t, r: gg.pp.mask_nonzero(with_value(-3.0), layer="counts"),
         InputError, r"negative values", r"raw counts"),
    Case("negative_values_imputer",
         lambda t, r: gg.models.GraphImputer(with_value(-1.0), layer=None, likelihood="gaussian"),
         InputError, r"negative values", r"raw counts|unscaled"),
    Case("negative_counts_embed_nb",
         lambda t, r: gg.tl.embed(with_value(-2.0), layer="counts", likelihood="nb"),
         InputError, r"negative values", r"raw counts"),
    Case("non_integer_counts_impute",
         lambda t, r: gg.tl.impute(make(lognorm(counts())), layer=None, likelihood="zinb"),
         InputError, r"non-integer values.*raw counts are required",
         r"layer='counts'|Gaussian"),
    Case("non_integer_counts_mask",
         lambda t, r: gg.pp.mask_nonzero(make(lognorm(counts())), layer=None),
         InputError, r"non-integer values", r"layer with raw counts"),
    Case("non_integer_counts_embedder_nb",
         lambda t, r: gg.models.Embedder(make(lognorm(counts())), likelihood="nb"),
         InputError, r"non-integer values", r"raw counts"),
    Case("scaled_counts_impute",
         lambda t, r: gg.models.GraphImputer(with_graph(make(counts() * 1.37)), layer=None,
                                             graph_key="g"),
         InputError, r"neither raw counts nor log-normalised", r"layer='counts'|log1p"),
    Case("lognormalised_normalised_again_gene_graph_warns",
         lambda t, r: gg.gr.gene_graph(make(lognorm(counts())), normalize=True),
         InputWarning, r"adata\.X looks log-normalised", r"raw-count layer", warns=True),
    Case("lognormalised_normalised_again_log_normalize_warns",
         lambda t, r: gg.pp.log_normalize(lognorm(counts())),
         InputWarning, r"looks log-normalised", r"raw-count layer", warns=True),
    # --- names -------------------------------------------------------------------------------------
    Case("duplicate_gene_names", lambda t, r: gg.gr.gene_graph(dup_genes()),
         InputError, r"gene names .* not unique", r"var_names_make_unique"),
    Case("duplicate_cell_names", lambda t, r: gg.gr.cell_graph(dup_cells(), n_neighbors=5),
         InputError, r"cell names .* not unique", r"obs_names_make_unique"),
    Case("duplicate_gene_names_infer_grn", lambda t, r: gg.tl.infer_grn(dup_genes()),
         InputError, r"gene names .* not unique", r"var_names_make_unique"),
    Case("duplicate_genes_in_file_warns",
         lambda t, r: gg.io.read_table(write_text(t / "dup.csv", "gene,c_1,c_2,c_3\nSOX2,1,2,3\n"
                                                  "SOX2,4,5,6\nPAX6,0,1,0\n"),
                                       orientation="genes_x_cells"),
         InputWarning, r"gene names occur more than once", r"Aggregate or drop the duplicates",
         warns=True),
    # --- shape ---------------------------------------------------------------------------------------
    Case("empty_matrix", lambda t, r: gg.tl.embed(make(np.zeros((0, 5)))),
         InputError, r"is empty \(0 cells x 5 genes\)", r"Check the filtering"),
    Case("no_genes", lambda t, r: gg.pp.mark_tfs(make(np.zeros((4, 0))), ["TF000"]),
         InputError, r"is empty \(4 cells x 0 genes\)", r"Check the filtering"),
    Case("single_cell_gene_graph", lambda t, r: gg.gr.gene_graph(sim()[0][:1].copy()),
         InputError, r"has 1 cell\(s\); at least 3", r"pass adata\.T"),
    Case("single_cell_infer_grn", lambda t, r: gg.tl.infer_grn(sim()[0][:1].copy()),
         InputError, r"has 1 cell\(s\)", r"pass adata\.T"),
    Case("cell_without_counts_mask", lambda t, r: gg.pp.mask_nonzero(zero_row()),
         InputError, r"1 cell\(s\) with no counts", r"sc\.pp\.filter_cells"),
    Case("cell_without_counts_imputer", lambda t, r: gg.models.GraphImputer(zero_row()),
         InputError, r"1 cell\(s\) with no counts", r"sc\.pp\.filter_cells"),
    Case("gene_without_counts_gene_graph_warns", lambda t, r: gg.gr.gene_graph(zero_col(), k=2),
         InputWarning, r"1 gene\(s\) (have|with) no counts", r"sc\.pp\.filter_genes", warns=True),
    Case("genes_x_cells_given_as_cells_x_genes", lambda t, r: gg.gr.gene_graph(transposed()),
         InputError, r"genes x cells|look like genes", r"adata\.T"),
    Case("genes_x_cells_embed",
         lambda t, r: gg.tl.embed(transposed(), kind="ae", max_epochs=1, n_latent=2),
         InputError, r"genes x cells|look like genes", r"adata\.T"),
    Case("table_orientation_undecidable",
         lambda t, r: gg.io.read_table(write_text(t / "amb.csv", ",1,2,3\n1,1,2,3\n2,4,5,6\n")),
         InputError, r"could not tell .* whether the rows or the columns", r"orientation="),
    # --- networks --------------------------------------------------------------------------------------
    Case("network_genes_missing_reported",
         lambda t, r: gg.gr.prior_grn(sim()[0], pd.concat(
             [sim()[1], _net(("FOO", "G0001"), ("TF000", "BAR"))], ignore_index=True)),
         InputWarning, r"2 of \d+ edges .* absent from the expression", r"left out", warns=True),
    Case("network_no_gene_remains",
         lambda t, r: gg.gr.prior_grn(sim()[0], _net(("FOO", "BAR"), ("BAZ", "QUX"))),
         InputError, r"2 of 2 edges .* none remain", r"same gene identifiers"),
    Case("network_self_loops_reported",
         lambda t, r: gg.gr.prior_grn(sim()[0], pd.concat([sim()[1], _net(("TF000", "TF000"))])),
         InputWarning, r"1 self-loop", r"left out", warns=True),
    Case("network_duplicate_edges_reported",
         lambda t, r: gg.gr.prior_grn(sim()[0], pd.concat([sim()[1], sim()[1].head(2)])),
         InputWarning, r"2 duplicate edge", r"merged", warns=True),
    Case("network_only_self_loops",
         lambda t, r: gg.gr.prior_grn(sim()[0], _net(("TF000", "TF000"), ("G0001", "G0001"))),
         InputError, r"no edge .* remains after removing self-loops",
         r"between two different genes"),
    Case("network_nan_weights_reported",
         lambda t, r: gg.gr.prior_grn(sim()[0], sim()[1].assign(
             weight=[np.nan] * 2 + [1.0] * (len(sim()[1]) - 2))),
         InputWarning, r"2 edge weight\(s\) .* missing \(NaN\)", r"set to 1\.0", warns=True),
    Case("network_non_numeric_weights",
         lambda t, r: gg.gr.prior_grn(sim()[0], sim()[1].assign(
             weight=["strong"] + [1.0] * (len(sim()[1]) - 1))),
         InputError, r"1 non-numeric or infinite edge weight", r"drop the weight column"),
    Case("network_wrong_columns",
         lambda t, r: gg.gr.prior_grn(sim()[0], pd.DataFrame({"a": ["TF000"], "b": ["G0001"]})),
         InputError, r"lacks column\(s\) \['source', 'target'\]", r"Rename them"),
    Case("network_not_a_dataframe",
         lambda t, r: gg.gr.prior_grn(sim()[0], [("TF000", "G0001")]),
         InputError, r"must be a pandas DataFrame", r"read_network"),
    Case("network_file_without_source_target",
         lambda t, r: gg.io.read_network(write_text(t / "n.csv", "x,y\nA,B\n")),
         InputError, r"could not find the source/target columns", r"Pass source=\.\.\."),
    Case("network_file_non_numeric_weight",
         lambda t, r: gg.io.read_network(write_text(t / "w.csv", "source,target,weight\nA,B,high\n")),
         InputError, r"non-numeric values", r"weight=None"),
    # --- TFs -------------------------------------------------------------------------------------------
    Case("tfs_no_overlap", lambda t, r: gg.pp.mark_tfs(sim()[0], ["FOO", "BAR"]),
         InputError, r"none of the 2 names in the TF list", r"Check identifiers"),
    Case("tfs_no_overlap_infer_grn",
         lambda t, r: gg.tl.infer_grn(sim()[0], tfs=["foo"], prior=sim()[1]),
         InputError, r"none of the 1 names in the TF list", r"Check identifiers"),
    Case("tfs_empty", lambda t, r: gg.pp.mark_tfs(sim()[0], []),
         InputError, r"TF list is empty", r"Pass the transcription factors"),
    Case("tf_file_without_names",
         lambda t, r: gg.io.read_tfs(write_text(t / "tfs.txt", "# no names here\n\n")),
         InputError, r"holds no names", r"one (TF )?name per line"),
    # --- splits ----------------------------------------------------------------------------------------
    Case("split_zero_positive_edges",
         lambda t, r: gg.data.split_edges(np.zeros((2, 0), int), n_genes=5, tf_index=[0]),
         InputError, r"no positive edges to split", r"pass a prior network"),
    Case("split_training_part_without_positives", lambda t, r: _split_no_train_positive(),
         InputError, r"training part of the split has no positive edge",
         r"fewer held-out groups|split='random'"),
    Case("split_test_part_without_positives",
         lambda t, r: gg.data.split_edges(np.array([[0, 0], [3, 4]]), n_genes=6, tf_index=[0, 1]),
         InputError, r"test part of the split has no positive edge",
         r"larger prior|fractions=\(1, 0, 0\)"),
    Case("prior_edges_not_from_tfs",
         lambda t, r: gg.models.GRNPredictor(sim()[0], tfs=["TF000"]).train(
             _net(("TF001", "G0001"), ("TF002", "G0002")), max_epochs=1),
         InputError, r"no prior edge starts at one of the TFs", r"check tfs="),
    Case("split_fractions_not_summing_to_one",
         lambda t, r: gg.data.split_edges(np.array([[0], [3]]), n_genes=6, tf_index=[0],
                                          fractions=(0.5, 0.5, 0.5)),
         InputError, r"non-negative fractions summing to 1", r"e\.g\. \(0\.7, 0\.1, 0\.2\)"),
    # --- sequences -------------------------------------------------------------------------------------
    Case("sequence_letters_one_hot", lambda t, r: gg.data.one_hot_encode(["ACGU"]),
         InputError, r"letters other than A, C, G, T, N \(\['U'\]\)", r"Replace ambiguity codes"),
    Case("sequence_letters_fasta",
         lambda t, r: gg.io.read_fasta(write_text(t / "s.fa", ">a\nACGT\n>b\nAC-GT\n")),
         InputError, r"row 1 contains letters other than", r"remove spaces/gaps"),
    Case("sequence_letters_encode_sequences",
         lambda t, r: gg.tl.encode_sequences(sim()[0], {"G0000": "ACGTRYACGT"}),
         InputError, r"letters other than A, C, G, T, N", r"Replace ambiguity codes"),
    Case("sequence_letters_reverse_complement",
         lambda t, r: gg.data.reverse_complement(["ACGT", "ACGZ"]),
         InputError, r"letters other than", r"by N"),
    Case("sequence_letters_dinucleotide_shuffle",
         lambda t, r: gg.data.dinucleotide_shuffle("ACG T"),
         InputError, r"letters other than", r"remove spaces"),
    Case("sequences_unequal_length", lambda t, r: gg.data.one_hot_encode(["ACG", "ACGTA"]),
         InputError, r"unequal lengths \(3\.\.5 bp\)", r"Pass length=L"),
    Case("sequence_not_a_string", lambda t, r: gg.data.one_hot_encode(["ACGT", 7]),
         InputError, r"row 1 is a int, not a string", r"as strings"),
    Case("one_hot_wrong_shape", lambda t, r: gg.data.decode_one_hot(np.zeros((2, 7, 4))),
         InputError, r"shape \(N, 4, L\), got \(2, 7, 4\)", r"transpose"),
    Case("sequence_model_non_binary_targets",
         lambda t, r: gg.models.SequenceModel(n_filters=2, filter_size=3, hidden=0).train(
             ["ACGTAC"] * 4, [0.0, 0.5, 1.0, 2.0], max_epochs=1),
         InputError, r"needs 0/1 targets", r"task='regression'"),
    Case("sequence_model_target_count",
         lambda t, r: gg.models.SequenceModel(n_filters=2, filter_size=3, hidden=0).train(
             ["ACGTAC"] * 4, [0.0, 1.0], max_epochs=1),
         InputError, r"4 sequences but 2 targets", r"one target row per sequence"),
    Case("sequence_model_without_sequences",
         lambda t, r: gg.models.SequenceModel(n_filters=2, filter_size=3, hidden=0).train(
             [], [], max_epochs=1),
         InputError, r"no sequences", r"at least one sequence"),
    Case("sequences_shorter_than_filters",
         lambda t, r: gg.models.SequenceModel(n_filters=2, filter_size=7, hidden=0).train(
             ["ACG", "TTA", "GGC", "CCA"], [0, 1, 0, 1], max_epochs=1),
         ValueError, r"3 bp are shorter than the filters \(7 bp\)", r"pad them"),
    Case("deepbind_non_numeric_labels",
         lambda t, r: gg.io.read_deepbind(write_text(
             t / "d.seq", "FoldID\tEventID\tseq\tBound\nA\te1\tACGT\tyes\n")),
         InputError, r"Bound.*non-numeric", r"0/1"),
    Case("fasta_without_header",
         lambda t, r: gg.io.read_fasta(write_text(t / "nohead.fa", "ACGT\n")),
         InputError, r"sequence before any '>' header", r"read_sequence_table"),
    Case("sequence_table_without_sequence_column",
         lambda t, r: gg.io.read_sequence_table(write_text(t / "st.csv", "a,b\nACGT,1\n")),
         InputError, r"has no column 'sequence'", r"sequence_col="),
    # --- files -----------------------------------------------------------------------------------------
    Case("unsupported_file_type", lambda t, r: gg.io.read_expression(write_text(t / "x.loom", "")),
         InputError, r"'\.loom' is not supported", r"anndata\.read_loom"),
    Case("table_reader_on_other_extension",
         lambda t, r: gg.io.read_table(write_text(t / "x.h5ad", "a,b\n")),
         InputError, r"is not a text table", r"read_expression"),
    Case("h5ad_that_is_not_hdf5",
         lambda t, r: gg.io.read_h5ad(write_text(t / "fake.h5ad", "gene,c1\nA,1\n")),
         InputError, r"not an HDF5 file", r"read_expression|download completed"),
    Case("missing_file", lambda t, r: gg.io.read_expression(t / "absent.csv"),
         FileNotFoundError, r"expression file not found", r"Check the path"),
    Case("table_with_annotation_column",
         lambda t, r: gg.io.read_table(write_text(t / "ann.csv", "gene,desc,c_1\nSOX2,tf,1\n"
                                                  "PAX6,tf,2\n"), orientation="genes_x_cells"),
         InputError, r"non-numeric column\(s\) \['desc'\]", r"Remove annotation columns"),
    Case("folder_without_matrix",
         lambda t, r: gg.io.read_expression((t / "emptydir").mkdir() or t / "emptydir"),
         InputError, r"holds no expression matrix", r"Supported:"),
    # --- models ----------------------------------------------------------------------------------------
    Case("model_loaded_on_other_genes",
         lambda t, r: gg.models.Embedder.load(r.embedder_dir, sim()[0][:, :8].copy()),
         InputError, r"4 expected genes are missing", r"Subset the AnnData"),
    Case("model_loaded_on_reordered_genes",
         lambda t, r: gg.models.Embedder.load(r.embedder_dir, sim()[0][:, ::-1].copy()),
         InputError, r"same 12 genes in another order", r"Reorder the AnnData"),
    Case("model_applied_to_other_genes",
         lambda t, r: (r.embedder_dir, r.embedder.get_latent(sim()[0][:, 2:].copy())),
         InputError, r"expected genes are missing", r"Subset the AnnData"),
    Case("model_loaded_with_wrong_class",
         lambda t, r: gg.models.GRNPredictor.load(r.embedder_dir, sim()[0]),
         InputError, r"holds a Embedder, not a GRNPredictor", r"Embedder\.load"),
    Case("model_loaded_without_adata", lambda t, r: gg.models.Embedder.load(r.embedder_dir),
         InputError, r"needs the AnnData", r"Embedder\.load\(path, adata\)"),
    Case("model_folder_missing", lambda t, r: gg.models.Embedder.load(t / "nomodel"),
         FileNotFoundError, r"no saved model", r"folder given to \.save"),
    # --- options -----------------------------------------------------------------------------------------
    Case("missing_layer", lambda t, r: gg.tl.embed(sim()[0], layer="raw"),
         InputError, r"layer 'raw' is not in adata\.layers", r"Pass layer=None"),
    Case("not_an_anndata", lambda t, r: gg.gr.cell_graph(np.ones((5, 5))),
         InputError, r"expected an AnnData .*got ndarray", r"anndata\.AnnData\(X\)"),
    Case("unknown_choice", lambda t, r: gg.tl.embed(sim()[0], kind="pca"),
         InputError, r"kind='pca' is not supported", r"choose one of"),
    # --- metrics -----------------------------------------------------------------------------------------
    Case("metric_lengths_differ", lambda t, r: gg.metrics.auroc([0, 1], [0.3]),
         InputError, r"y_true has 2 entries but y_score has 1", r"one score per candidate"),
    Case("metric_without_positives", lambda t, r: gg.metrics.auprc([0, 0, 0], [0.1, 0.2, 0.3]),
         InputError, r"0 positives out of 3", r"need both positives and negatives"),
    Case("metric_non_finite_scores", lambda t, r: gg.metrics.auroc([0, 1], [np.nan, 1.0]),
         InputError, r"1 non-finite values", r"replace them"),
    Case("metric_labels_not_binary", lambda t, r: gg.metrics.auroc([0, 2], [0.1, 0.2]),
         InputError, r"0/1 labels", r"y_true > 0|astype\(int\)"),
    Case("clustering_nan_embedding",
         lambda t, r: gg.metrics.kmeans_scores(np.full((4, 2), np.nan), [0, 0, 1, 1]),
         InputError, r"NaN or infinite values", r"drop|fill|nan_to_num"),
    Case("clustering_agreement_nan",
         lambda t, r: gg.metrics.clustering_agreement(np.full((6, 3), np.nan), [0, 0, 0, 1, 1, 1]),
         InputError, r"NaN", r"Remove or fill|drop|nan_to_num"),
    Case("clustering_label_count",
         lambda t, r: gg.metrics.kmeans_scores(np.zeros((4, 2)), [0, 1]),
         InputError, r"2 labels for 4 cells", r"one label per row"),
    Case("imputation_metric_shapes", lambda t, r: _imputation_wrong_shape(),
         InputError, r"imputed \(3, 3\) .* must both have the masked shape", r"\(30, 12\)"),
]


@pytest.fixture(scope="module")
def res(tmp_path_factory) -> Res:
    return Res(tmp_path_factory.mktemp("bad_input_res"))


def _check_message(message: str, case: Case) -> None:
    assert re.search(case.problem, message, re.S), (
        f"{case.id}: the message does not name the problem /{case.problem}/: {message!r}")
    assert re.search(case.fix, message, re.S), (
        f"{case.id}: the message does not hint the fix /{case.fix}/: {message!r}")


@pytest.mark.parametrize("case", API_CASES, ids=[c.id for c in API_CASES])
def test_api_bad_input(case: Case, tmp_path: Path, res: Res) -> None:
    if case.warns:
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            case.call(tmp_path, res)
        ours = [str(w.message) for w in rec if issubclass(w.category, case.exc)]
        assert ours, f"{case.id}: no {case.exc.__name__} (got {[str(w.message) for w in rec]})"
        matching = [m for m in ours if re.search(case.problem, m, re.S)]
        assert matching, f"{case.id}: no warning names /{case.problem}/: {ours}"
        _check_message(matching[0], case)
        return
    with pytest.raises(case.exc) as info:
        case.call(tmp_path, res)
    _check_message(str(info.value), case)


# ------------------------------------------------------------------------------------ CLI cases


@dataclass(frozen=True)
class CliCase:
    id: str
    argv: Callable[[Path], list[str]]
    exc: type[BaseException] | None  # None: a usage error (exit code 2, no traceback to show)
    problem: str
    fix: str


def _expr(t: Path, X=None, name="expr.csv") -> str:
    return str(write_expr_csv(t / name, X))


def _tfs(t: Path, names) -> str:
    return str(write_text(t / "tfs.txt", "\n".join(names) + "\n"))


def _prior(t: Path, net: pd.DataFrame) -> str:
    net.to_csv(t / "prior.tsv", sep="\t", index=False)
    return str(t / "prior.tsv")


CLI_CASES = [
    CliCase("grn_without_inputs", lambda t: ["grn", "--out", str(t / "e.tsv")],
            InputError, r"pass --expression FILE", r"--dataset simulated"),
    CliCase("grn_expression_method_with_prior",
            lambda t: ["grn", "--expression", _expr(t), "--prior",
                       _prior(t, _net(("TF000", "G0005"))), "--method", "expression",
                       "--out", str(t / "e.tsv")],
            InputError, r"--method 'expression' ranks from expression alone",
            r"pass --method 'gnn'"),
    CliCase("grn_tfs_without_overlap",
            lambda t: ["grn", "--expression", _expr(t), "--tfs", _tfs(t, ["FOO", "BAR"]),
                       "--out", str(t / "e.tsv"), "--max-epochs", "1"],
            InputError, r"none of the 2 names in the TF list", r"Check identifiers"),
    CliCase("grn_prior_genes_absent",
            lambda t: ["grn", "--expression", _expr(t), "--tfs", _tfs(t, ["TF000", "TF001"]),
                       "--prior", _prior(t, _net(("FOO", "BAR"))), "--out", str(t / "e.tsv"),
                       "--max-epochs", "1"],
            InputError, r"none remain", r"same gene identifiers"),
    CliCase("impute_nan",
            lambda t: ["impute", _expr(t, np.where(np.eye(30, 12) > 0, np.nan, counts())),
                       str(t / "o.h5ad"), "--layer", "X"],
            InputError, r"\d+ NaN", r"Remove or fill"),
    CliCase("impute_log_normalised_as_counts",
            lambda t: ["impute", _expr(t, lognorm(counts())), str(t / "o.h5ad"), "--layer", "X",
                       "--likelihood", "zinb"],
            InputError, r"non-integer values.*raw counts are required", r"layer"),
    CliCase("impute_unsupported_file",
            lambda t: ["impute", str(write_text(t / "d.loom", "x")), str(t / "o.h5ad")],
            InputError, r"'\.loom' is not supported", r"anndata\.read_loom"),
    CliCase("impute_missing_layer",
            lambda t: ["impute", _expr(t, lognorm(counts())), str(t / "o.h5ad"),
                       "--layer", "counts"],
            InputError, r"--layer 'counts' is not in", r"--layer X"),
    CliCase("embed_unknown_layer",
            lambda t: ["embed", _expr(t), str(t / "o.h5ad"), "--layer", "foo"],
            InputError, r"--layer 'foo' is not in", r"Pass --layer X"),
    CliCase("embed_unknown_kind",
            lambda t: ["embed", _expr(t), str(t / "o.h5ad"), "--kind", "pca"],
            InputError, r"--kind 'pca' is not supported", r"choose one of"),
    CliCase("embed_negative_counts",
            lambda t: ["embed", _expr(t, -counts()), str(t / "o.h5ad"), "--layer", "X",
                       "--likelihood", "nb"],
            InputError, r"negative values", r"raw counts"),
    CliCase("graphs_nan",
            lambda t: ["graphs", "--expression", _expr(t, np.where(np.eye(30, 12) > 0, np.inf,
                                                                   counts()))],
            InputError, r"infinite values", r"Remove or fill"),
    CliCase("seq_train_bad_letters",
            lambda t: ["seq", "train", "--train",
                       str(write_text(t / "b.fa", ">a\nACGTACGT\n>b\nACGUACGU\n")),
                       "--out", str(t / "m")],
            InputError, r"letters other than A, C, G, T, N", r"Replace ambiguity codes"),
    CliCase("seq_predict_no_model",
            lambda t: ["seq", "predict", "--model", str((t / "nm").mkdir() or t / "nm"),
                       "--input", str(write_text(t / "ok.fa", ">a\nACGT\n")),
                       "--out", str(t / "p.tsv")],
            FileNotFoundError, r"no saved model", r"folder given to \.save"),
    CliCase("input_file_missing",
            lambda t: ["impute", str(t / "absent.csv"), str(t / "o.h5ad")],
            None, r"path '.*absent\.csv' does not exist", r"See 'gnngeno impute --help'"),
    CliCase("unknown_option",
            lambda t: ["embed", str(t / "in.h5ad"), str(t / "o.h5ad"), "--kindd", "vae"],
            None, r"No such option: --kindd", r"Possible options: --kind"),
    CliCase("expression_table_undecidable",
            lambda t: ["embed", str(write_text(t / "amb.csv", ",1,2,3\n1,1,2,3\n2,4,5,6\n")),
                       str(t / "o.h5ad")],
            InputError, r"could not tell", r"orientation="),
]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_cli_bad_input_one_line(case: CliCase, tmp_path: Path, capsys) -> None:
    argv = case.argv(tmp_path)
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"{case.id}: expected one stderr line, got {lines}"
    line = lines[0]
    assert line.startswith("gnngeno: error: ")
    if case.exc is None:
        assert code == 2 and line.endswith("(usage error)")
    else:
        assert code == 1
        assert line.endswith("rerun with --debug for the traceback)")
    _check_message(line, Case(case.id, None, case.exc, case.problem, case.fix))
    outs = [p.name for p in tmp_path.rglob("*")
            if p.name.startswith(".") or p.name in ("o.h5ad", "e.tsv", "p.tsv", "m")]
    assert not outs, f"{case.id}: left output or temporary files {outs}"


DEBUG_CASES = [c for c in CLI_CASES if c.exc is not None]


@pytest.mark.parametrize("case", DEBUG_CASES, ids=[c.id for c in DEBUG_CASES])
def test_cli_debug_shows_traceback(case: CliCase, tmp_path: Path) -> None:
    """With --debug (before or after the command) the exception propagates, so the console
    script prints its traceback."""
    argv = case.argv(tmp_path)
    for debug_argv in (["--debug", *argv], [*argv, "--debug"]):
        with pytest.raises(case.exc) as info:
            main(debug_argv)
        assert len(info.traceback) > 2  # a real traceback, deeper than main()


def test_a_single_tf_name_is_one_tf_not_its_letters() -> None:
    adata = sim()[0]
    gg.pp.mark_tfs(adata, "TF001")
    assert adata.var_names[adata.var["is_tf"]].tolist() == ["TF001"]


def test_enough_cases() -> None:
    assert len(API_CASES) + len(CLI_CASES) >= 40
    assert len({c.id for c in API_CASES} | {c.id for c in CLI_CASES}) == len(API_CASES) + len(
        CLI_CASES)
