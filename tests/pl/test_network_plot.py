from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from gnngeno import InputError, pl


@pytest.fixture()
def edges():
    rng = np.random.default_rng(0)
    src = rng.choice(["TF1", "TF2", "TF3"], 40)
    tgt = [f"g{i}" for i in rng.integers(0, 25, 40)]
    df = pd.DataFrame({"source": src, "target": tgt, "score": rng.random(40)})
    return df.drop_duplicates(["source", "target"]).reset_index(drop=True)


def test_network_draws_top_edges_with_tfs_marked(edges, tmp_path):
    out = tmp_path / "net.pdf"
    ax = pl.network(edges, top=10, top_per_tf=None, save=out)
    G = ax.graph
    assert G.number_of_edges() == 10
    top = edges.nlargest(10, "score")
    assert set(G.edges) == set(zip(top.source, top.target, strict=True))
    tfs = {n for n, d in G.nodes(data=True) if d["is_tf"]}
    assert tfs == set(top.source)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(s.startswith("TF (") for s in legend)
    assert out.exists() and out.stat().st_size > 0


def test_network_width_grows_with_score(edges):
    from matplotlib.patches import FancyArrowPatch

    ax = pl.network(edges, top=12, top_per_tf=None, show=False, labels=False)
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 12
    widths = np.array([p.get_linewidth() for p in arrows])
    scores = edges.nlargest(12, "score")["score"].to_numpy()  # drawn in score order
    assert widths[0] == widths.max() and widths[-1] == widths.min()
    assert np.all(np.diff(widths) <= 1e-9) and scores[0] >= scores[-1]


def test_network_truth_and_explicit_tfs(edges):
    top = edges.nlargest(8, "score")
    truth = top.iloc[:3][["source", "target"]]
    ax = pl.network(edges, top=8, top_per_tf=None, truth=truth, tfs=["TF1"], layout="spring",
                    show=False)
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "in the true network (3)" in legend and "not in the true network (5)" in legend
    tfs = {n for n, d in ax.graph.nodes(data=True) if d["is_tf"]}
    assert tfs <= {"TF1"}


def test_network_from_anndata(edges):
    genes = sorted(set(edges.source) | set(edges.target))
    adata = ad.AnnData(np.zeros((2, len(genes)), dtype=np.float32),
                       var=pd.DataFrame(index=genes))
    adata.var["is_tf"] = [g == "TF2" for g in genes]
    adata.uns["gnngeno_grn"] = {"edges": edges}
    ax = pl.network(adata, top=5, show=False)
    assert {n for n, d in ax.graph.nodes(data=True) if d["is_tf"]} <= {"TF2"}
    with pytest.raises(InputError, match="infer_grn"):
        pl.network(adata, key="other", show=False)


def test_network_rejects_bad_input(edges):
    with pytest.raises(InputError, match="score"):
        pl.network(edges.drop(columns="score"), show=False)
    with pytest.raises(InputError, match="top"):
        pl.network(edges, top=0, show=False)
    with pytest.raises(InputError, match="layout"):
        pl.network(edges, layout="hive", show=False)


@pytest.fixture()
def prior_edges():
    """Four TFs with eight targets each; every other edge is in the prior network."""
    rows = [(f"TF{t}", f"g{t}_{i}", 1.0 - 0.1 * i - 0.01 * t, i % 2 == 0)
            for t in range(4) for i in range(8)]
    return pd.DataFrame(rows, columns=["source", "target", "score", "in_prior"])


def _arrows(ax):
    from matplotlib.patches import FancyArrowPatch

    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


def test_network_top_per_tf_limits_edges_per_regulator(prior_edges):
    ax = pl.network(prior_edges, top=100, top_per_tf=2, show=False)
    out = pd.Series([s for s, _ in ax.graph.edges]).value_counts()
    assert out.to_dict() == {"TF0": 2, "TF1": 2, "TF2": 2, "TF3": 2}
    # the best-scored edges of each regulator are the ones kept
    assert {t for _, t in ax.graph.edges} == {f"g{t}_{i}" for t in range(4) for i in (0, 1)}
    ax = pl.network(prior_edges, top=5, top_per_tf=None, show=False)
    assert ax.graph.number_of_edges() == 5
    with pytest.raises(InputError, match="top_per_tf"):
        pl.network(prior_edges, top_per_tf=0, show=False)


def test_network_known_solid_new_dashed_with_legend(prior_edges):
    ax = pl.network(prior_edges, top=12, top_per_tf=None, show=False)
    n_known = sum(d["in_prior"] for *_, d in ax.graph.edges(data=True))
    assert 0 < n_known < 12
    styles = [p.get_linestyle() for p in _arrows(ax)]
    assert sum(s in ("-", "solid") for s in styles) == n_known
    assert sum(s in ("--", "dashed") for s in styles) == 12 - n_known
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert f"known (in the prior) ({n_known})" in legend
    assert f"new (not in the prior) ({12 - n_known})" in legend


def test_network_new_only_draws_edges_outside_the_prior(prior_edges):
    ax = pl.network(prior_edges, new_only=True, top_per_tf=None, show=False)
    assert ax.graph.number_of_edges() == 16
    assert not any(d["in_prior"] for *_, d in ax.graph.edges(data=True))
    assert all(p.get_linestyle() in ("--", "dashed") for p in _arrows(ax))
    assert "new edges" in ax.get_title()
    with pytest.raises(InputError, match="in_prior"):
        pl.network(prior_edges.drop(columns="in_prior"), new_only=True, show=False)
    with pytest.raises(InputError, match="every edge is in the prior"):
        pl.network(prior_edges.assign(in_prior=True), new_only=True, show=False)


def test_network_without_in_prior_column_draws_one_style(edges):
    ax = pl.network(edges, top=10, show=False)
    assert {p.get_linestyle() for p in _arrows(ax)} <= {"-", "solid"}
    assert not any("prior" in t.get_text() for t in ax.get_legend().get_texts())


def test_network_labels_count_and_no_overlap(prior_edges):
    ax = pl.network(prior_edges, top=100, top_per_tf=None, show=False)
    assert ax.graph.number_of_nodes() == 36 and len(ax.texts) == 36  # all, under max_labels
    assert len(pl.network(prior_edges, labels=False, show=False).texts) == 0
    # many genes: only the best connected are labelled (TFs first)
    ax = pl.network(prior_edges, top=100, top_per_tf=None, max_labels=6, show=False)
    labelled = {t.get_text() for t in ax.texts}
    assert labelled == {"TF0", "TF1", "TF2", "TF3"}  # targets have one edge each: no hubs
    assert labelled == {n for n, d in ax.graph.nodes(data=True) if d["labelled"]}
    ax = pl.network(prior_edges, top=100, top_per_tf=None, labels=True, show=False)
    renderer = ax.figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    overlaps = sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert len(boxes) == 36 and overlaps == 0
    with pytest.raises(InputError, match="labels"):
        pl.network(prior_edges, labels="some", show=False)


def test_network_prior_and_truth_together(prior_edges):
    truth = prior_edges.iloc[[0, 1]][["source", "target"]]  # one known, one new edge
    ax = pl.network(prior_edges, top=8, top_per_tf=None, truth=truth, show=False)
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"known, true (1)", "new, true (1)", "known, not true (3)", "new, not true (3)"} == {
        t for t in legend if "true" in t}
