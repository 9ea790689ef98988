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
    ax = pl.network(edges, top=10, save=out)
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

    ax = pl.network(edges, top=12, show=False, labels=False)
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 12
    widths = np.array([p.get_linewidth() for p in arrows])
    scores = edges.nlargest(12, "score")["score"].to_numpy()  # drawn in score order
    assert widths[0] == widths.max() and widths[-1] == widths.min()
    assert np.all(np.diff(widths) <= 1e-9) and scores[0] >= scores[-1]


def test_network_truth_and_explicit_tfs(edges):
    top = edges.nlargest(8, "score")
    truth = top.iloc[:3][["source", "target"]]
    ax = pl.network(edges, top=8, truth=truth, tfs=["TF1"], layout="spring", show=False)
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
