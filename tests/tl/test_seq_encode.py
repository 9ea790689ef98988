"""encode_sequences: per-gene sequence embeddings as node features."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from gnngeno import InputError, InputWarning
from gnngeno.data import simulate_sequences
from gnngeno.tl import encode_sequences


@pytest.fixture()
def adata():
    rng = np.random.default_rng(0)
    return ad.AnnData(rng.poisson(1.0, size=(10, 6)).astype(np.float32),
                      var=pd.DataFrame(index=[f"g{i}" for i in range(6)]))


@pytest.fixture(scope="module")
def table():
    seqs, _, _ = simulate_sequences(80, 40, motif="TATGCAAAT", seed=0)
    genes = [f"g{i % 40}" for i in range(80)]  # two "promoters" per gene
    return pd.DataFrame({"promoter_id": [f"p{i}" for i in range(80)], "symbol": genes,
                         "sequence": [s.lower() for s in seqs]})


def test_encode_with_trained_model(adata, table):
    from gnngeno.models import SequenceModel

    seqs, y, _ = simulate_sequences(100, 40, seed=1)
    model = SequenceModel(n_filters=4, filter_size=5, hidden=3, seed=0)
    model.train(seqs, y, max_epochs=1, batch_size=50)
    sub = table[table["symbol"] != "g5"]
    with pytest.warns(InputWarning, match="1 of 6 genes have no sequence"):
        encode_sequences(adata, sub, model=model, fallback="zero")
    emb = adata.varm["gnngeno_seq"]
    assert emb.shape == (6, 3) and np.isfinite(emb).all()
    assert adata.var["gnngeno_seq_found"].tolist() == [True] * 5 + [False]
    assert np.all(emb[5] == 0)
    assert adata.uns["gnngeno_seq"]["missing_genes"] == ["g5"]
    # a gene's features are the mean over its sequences
    both = sub[sub["symbol"] == "g0"]["sequence"].str.upper().tolist()
    np.testing.assert_allclose(emb[0], model.embed(both).mean(0), rtol=1e-5, atol=1e-6)


def test_encode_trains_small_model_and_copy(adata, table):
    out = encode_sequences(adata, table, copy=True, model_kwargs=dict(n_filters=4, hidden=5),
                           train_kwargs=dict(max_epochs=1), fallback="mean")
    assert "gnngeno_seq" not in adata.varm
    assert out.varm["gnngeno_seq"].shape == (6, 5)
    assert out.uns["gnngeno_seq"]["params"]["fallback"] == "mean"
    assert "val_auroc" in out.uns["gnngeno_seq"]["model_metrics"]


def test_encode_errors(adata, table):
    bad = table.assign(symbol=[f"x{i}" for i in range(len(table))])
    with pytest.raises(InputError, match="no gene of adata.var_names"):
        encode_sequences(adata, bad, gene_col="symbol", train_kwargs=dict(max_epochs=1))
    with pytest.raises(InputError, match="fallback"):
        encode_sequences(adata, table, fallback="drop")
    with pytest.raises(InputError, match="letters other than"):
        encode_sequences(adata, {"g0": "ACGU"})
