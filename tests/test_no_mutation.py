"""No mutation (issue 9): every public function that takes an AnnData or a DataFrame leaves it
unchanged except for the fields its docstring says it writes; ``copy=True`` returns a new
AnnData and leaves the input entirely untouched."""

from __future__ import annotations

import copy
import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

import gnngeno as gg
import gnngeno.baselines  # noqa: F401  (not imported by gnngeno itself)
from gnngeno.datasets import simulate

# ------------------------------------------------------------------------------ snapshots


def _mat(M):
    if M is None:
        return None
    if sp.issparse(M):
        return M.copy()
    if isinstance(M, pd.DataFrame):
        return M.copy(deep=True)
    return np.array(M, copy=True)


def snapshot(a: ad.AnnData) -> dict:
    """A deep copy of everything an AnnData holds."""
    return {
        "X": _mat(a.X),
        "layers": {k: _mat(v) for k, v in a.layers.items()},
        "obs": a.obs.copy(deep=True),
        "var": a.var.copy(deep=True),
        "uns": copy.deepcopy(dict(a.uns)),
        "obsm": {k: _mat(v) for k, v in a.obsm.items()},
        "varm": {k: _mat(v) for k, v in a.varm.items()},
        "obsp": {k: _mat(v) for k, v in a.obsp.items()},
        "varp": {k: _mat(v) for k, v in a.varp.items()},
    }


def assert_equal(a, b, where: str = "") -> None:
    """Deep equality of matrices, frames, dicts, lists and scalars (NaN equals NaN)."""
    if sp.issparse(a) or sp.issparse(b):
        assert sp.issparse(a) and sp.issparse(b), f"{where}: sparse vs dense"
        assert a.shape == b.shape and a.dtype == b.dtype, f"{where}: shape/dtype changed"
        np.testing.assert_array_equal(a.toarray(), b.toarray(), err_msg=where)
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, obj=where)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, obj=where)
    elif isinstance(a, pd.Index):
        pd.testing.assert_index_equal(a, b, obj=where)
    elif isinstance(a, np.ndarray | torch.Tensor):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype, f"{where}: shape/dtype changed"
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys {set(a)} -> {set(b)}"
        for k in a:
            assert_equal(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), f"{where}: length changed"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_equal(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} -> {b!r}"


def assert_unchanged(before: dict, a: ad.AnnData, writes: dict[str, set[str]] | None = None):
    """``a`` equals ``before`` except for the documented ``writes`` ({field: {keys}}), which
    must now exist."""
    writes = writes or {}
    after = snapshot(a)
    for fld in before:
        allowed = writes.get(fld, set())
        b, c = before[fld], after[fld]
        if fld in ("obs", "var"):
            new_cols = set(c.columns) - set(b.columns)
            assert new_cols <= allowed, f".{fld} gained undocumented columns {new_cols}"
            assert allowed <= set(c.columns), f".{fld} lacks the documented {allowed}"
            keep = [col for col in b.columns if col not in allowed]
            assert_equal(b[keep], c[keep], f".{fld}")
        elif isinstance(b, dict):
            extra = set(c) - set(b) - allowed
            assert not extra, f".{fld} gained undocumented keys {extra}"
            assert allowed <= set(c), f".{fld} lacks the documented keys {allowed - set(c)}"
            for k in b:
                if k not in allowed:
                    assert k in c, f".{fld}[{k!r}] was removed"
                    assert_equal(b[k], c[k], f".{fld}[{k!r}]")
        else:
            assert_equal(b, c, f".{fld}")


# ------------------------------------------------------------------------------ data


@functools.lru_cache(maxsize=1)
def _base():
    adata, net = simulate(n_cells=30, n_genes=12, n_tfs=3, seed=0)
    n = adata.n_obs
    ring = sp.csr_matrix((np.ones(n, np.float32), (np.arange(n), (np.arange(n) + 1) % n)),
                         shape=(n, n))
    # things a user's AnnData carries that no function should touch
    adata.obsp["user_graph_connectivities"] = (ring + ring.T).tocsr()
    adata.obsm["X_user"] = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    adata.varm["user_loadings"] = np.ones((adata.n_vars, 3), np.float32)
    adata.varp["user_net"] = sp.identity(adata.n_vars, format="csr", dtype=np.float32)
    adata.uns["user"] = {"note": "keep me", "values": [1, 2, 3]}
    adata.obs["user_col"] = np.arange(n)
    adata.layers["lognorm"] = gg.pp.log_normalize(adata.layers["counts"])
    return adata, net


def data() -> tuple[ad.AnnData, pd.DataFrame]:
    a, n = _base()
    return a.copy(), n.copy()


def _promoters(adata) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    genes = adata.var_names[:8].tolist()
    return pd.DataFrame({"gene": genes,
                         "sequence": ["".join(rng.choice(list("ACGT"), 30)) for _ in genes]})


# ------------------------------------------------------------------------------ cases
# name -> (call(adata, net, copy) -> result, documented writes for copy=False)
SMALL_GRN = dict(max_epochs=2, model_kwargs=dict(hidden_dim=8, out_dim=4, n_components=4))
SMALL_EMB = dict(kind="ae", layer="counts", n_latent=2, max_epochs=1, n_hidden=8)
SMALL_IMP = dict(layer="counts", graph_key="user_graph", max_epochs=1, batch_size=16,
                 model_kwargs=dict(n_hidden=8, n_latent=4))
SMALL_SEQ = dict(model_kwargs=dict(n_filters=4, filter_size=5, hidden=4),
                 train_kwargs=dict(max_epochs=1))


@dataclass
class Tool:
    id: str
    call: Callable
    writes: dict[str, set[str]] = field(default_factory=dict)
    copy: bool = True  # has a copy= argument


TOOLS = [
    Tool("gr.cell_graph",
         lambda a, n, c: gg.gr.cell_graph(a, n_neighbors=5, n_pcs=4, transformer="sklearn",
                                          copy=c),
         {"obsp": {"gnngeno_cell_connectivities", "gnngeno_cell_distances"},
          "obsm": {"gnngeno_cell_pca"}, "uns": {"gnngeno_cell"}}),
    Tool("gr.gene_graph", lambda a, n, c: gg.gr.gene_graph(a, k=3, copy=c),
         {"varp": {"gnngeno_coexpression"}, "uns": {"gnngeno_coexpression"}}),
    Tool("gr.gene_graph(tfs)",
         lambda a, n, c: gg.gr.gene_graph(a, k=3, tfs=["TF000", "TF001"], layer="lognorm",
                                          copy=c),
         {"varp": {"gnngeno_coexpression"}, "uns": {"gnngeno_coexpression"}}),
    Tool("gr.prior_grn", lambda a, n, c: gg.gr.prior_grn(a, n, copy=c),
         {"varp": {"gnngeno_prior"}, "uns": {"gnngeno_prior"}}),
    Tool("pp.mark_tfs", lambda a, n, c: gg.pp.mark_tfs(a, ["TF000", "G0001"], copy=c),
         {"var": {"is_tf"}, "uns": {"is_tf"}}),
    Tool("tl.infer_grn", lambda a, n, c: gg.tl.infer_grn(a, prior=n, copy=c, **SMALL_GRN),
         {"varp": {"gnngeno_grn"}, "uns": {"gnngeno_grn"}}),
    Tool("tl.infer_grn(self-supervised)",
         lambda a, n, c: gg.tl.infer_grn(a, copy=c, **SMALL_GRN),
         {"varp": {"gnngeno_grn"}, "uns": {"gnngeno_grn"}}),
    Tool("tl.embed", lambda a, n, c: gg.tl.embed(a, copy=c, **SMALL_EMB),
         {"obsm": {"X_gnngeno"}, "uns": {"gnngeno"}}),
    Tool("tl.impute", lambda a, n, c: gg.tl.impute(a, copy=c, **SMALL_IMP),
         {"layers": {"gnngeno_imputed"}, "uns": {"gnngeno_imputed"}}),
    Tool("tl.encode_sequences",
         lambda a, n, c: gg.tl.encode_sequences(a, _promoters(a), copy=c, **SMALL_SEQ),
         {"varm": {"gnngeno_seq"}, "var": {"gnngeno_seq_found"}, "uns": {"gnngeno_seq"}}),
]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("tool", TOOLS, ids=[t.id for t in TOOLS])
def test_copy_false_writes_only_documented_fields(tool: Tool):
    adata, net = data()
    before, net_before = snapshot(adata), net.copy(deep=True)
    X_obj = adata.X
    out = tool.call(adata, net, False)
    assert out is None
    assert adata.X is X_obj
    assert_unchanged(before, adata, tool.writes)
    pd.testing.assert_frame_equal(net, net_before)


@pytest.mark.parametrize("tool", TOOLS, ids=[t.id for t in TOOLS])
def test_copy_true_returns_new_object_and_leaves_input(tool: Tool):
    adata, net = data()
    before, net_before = snapshot(adata), net.copy(deep=True)
    out = tool.call(adata, net, True)
    assert isinstance(out, ad.AnnData) and out is not adata
    assert_unchanged(before, adata)  # nothing at all written into the input
    pd.testing.assert_frame_equal(net, net_before)
    # the copy holds the documented results and the untouched rest of the input
    assert_unchanged(before, out, tool.writes)
    assert not np.shares_memory(out.layers["counts"].data, adata.layers["counts"].data)


def test_copy_true_result_is_independent_of_input():
    adata, net = data()
    out = gg.gr.gene_graph(adata, k=3, copy=True)
    out.layers["counts"].data[:] = 0
    out.uns["user"]["values"].append(4)
    assert adata.layers["counts"].sum() > 0
    assert adata.uns["user"]["values"] == [1, 2, 3]


# ------------------------------------------------------------------------------ functions that only read
def _readers():
    def mask(a, n):
        masked, hidden = gg.pp.mask_nonzero(a, fraction=0.2, seed=0)
        assert masked is not a and masked.X is not a.X
        return masked

    def _plot_embedding(a, n):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        gg.pl.embedding(a, "X_user", color=["cell_type", "G0001"], show=False)
        plt.close("all")

    return [
        ("pp.mask_nonzero", mask),
        ("pp.log_normalize", lambda a, n: gg.pp.log_normalize(a.layers["counts"])),
        ("gr.to_pyg(cell)", lambda a, n: gg.gr.to_pyg(a, "user_graph", features="X")),
        ("gr.to_networkx(gene)", lambda a, n: gg.gr.to_networkx(a, "user_net")),
        ("gr.network_to_adjacency",
         lambda a, n: gg.gr.network_to_adjacency(n[n.source.isin(a.var_names)
                                                   & n.target.isin(a.var_names)], a.var_names)),
        ("baselines.grn_baseline(pearson)",
         lambda a, n: gg.baselines.grn_baseline(a, "pearson")),
        ("baselines.grn_baseline(degree)",
         lambda a, n: gg.baselines.grn_baseline(a, "degree", prior=n)),
        ("pl.embedding", _plot_embedding),
        ("models.GRNPredictor",
         lambda a, n: gg.models.GRNPredictor(a, hidden_dim=8, out_dim=4, n_components=4)
         .train(n, max_epochs=1).get_edges()),
        ("models.Embedder",
         lambda a, n: gg.models.Embedder(a, kind="ae", layer="counts", n_latent=2, n_hidden=8)
         .train(max_epochs=1).get_latent(a)),
        ("models.GraphImputer",
         lambda a, n: gg.models.GraphImputer(a, graph_key="user_graph", n_hidden=8, n_latent=4)
         .train(max_epochs=1).get_imputed(a)),
    ]


READERS = _readers()


@pytest.mark.parametrize("name,call", READERS, ids=[r[0] for r in READERS])
def test_reading_functions_leave_inputs_unchanged(name, call):
    adata, net = data()
    before, net_before = snapshot(adata), net.copy(deep=True)
    call(adata, net)
    assert_unchanged(before, adata)
    pd.testing.assert_frame_equal(net, net_before)


def test_metrics_leave_inputs_unchanged():
    adata, net = data()
    edges = gg.baselines.grn_baseline(adata, "pearson")
    e_before, n_before = edges.copy(deep=True), net.copy(deep=True)
    gg.metrics.evaluate_grn(edges, net)
    pd.testing.assert_frame_equal(edges, e_before)
    pd.testing.assert_frame_equal(net, n_before)

    y = np.array([0, 1, 0, 1, 1], float)
    s = np.array([0.1, 0.9, 0.3, 0.2, 0.8])
    y0, s0 = y.copy(), s.copy()
    gg.metrics.grn_metrics(y, s)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(s, s0)

    masked, hidden = gg.pp.mask_nonzero(adata, fraction=0.2, seed=0)
    imputed = gg.pp.log_normalize(masked.layers["counts"]).toarray()
    snap = (imputed.copy(), masked.layers["counts"].copy(), hidden.values.copy())
    gg.metrics.imputation_metrics(imputed, masked.layers["counts"], hidden)
    np.testing.assert_array_equal(imputed, snap[0])
    assert (masked.layers["counts"] != snap[1]).nnz == 0
    np.testing.assert_array_equal(hidden.values, snap[2])

    Z = np.r_[np.zeros((4, 2)), np.ones((4, 2))]
    Z0 = Z.copy()
    gg.metrics.kmeans_scores(Z, [0] * 4 + [1] * 4)
    np.testing.assert_array_equal(Z, Z0)


def test_split_and_sequence_helpers_leave_inputs_unchanged():
    adata, net = data()
    genes = adata.var_names.tolist()
    splits = {"train": pd.DataFrame({"source": ["TF000", "TF001"], "target": ["G0001", "G0002"],
                                     "label": [1, 0]}),
              "test": pd.DataFrame({"source": ["TF000"], "target": ["G0003"], "label": [1]})}
    before = {k: v.copy(deep=True) for k, v in splits.items()}
    gg.data.split_from_pairs(splits, genes=genes, tf_index=[0, 1])
    for k in splits:
        pd.testing.assert_frame_equal(splits[k], before[k])

    pos = np.array([[0, 0, 1, 1, 2], [3, 4, 5, 6, 7]])
    pos0 = pos.copy()
    gg.data.split_edges(pos, n_genes=12, tf_index=[0, 1, 2], seed=0)
    np.testing.assert_array_equal(pos, pos0)

    seqs = ["ACGTN", "acgtn"]
    seqs0 = list(seqs)
    gg.data.one_hot_encode(seqs)
    gg.data.reverse_complement(seqs)
    gg.data.dinucleotide_shuffle(seqs, seed=0)
    assert seqs == seqs0
    X = gg.data.one_hot_encode(["ACGTA", "GGCCA"])
    X0 = X.clone()
    gg.data.reverse_complement(X)
    gg.data.augment(X, max_shift=1, generator=torch.Generator().manual_seed(0))
    assert torch.equal(X, X0)
