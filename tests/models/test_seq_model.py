"""SequenceModel: learns a planted motif, save/load, tasks, input errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gnngeno import InputError
from gnngeno.data import simulate_sequences
from gnngeno.models import SequenceModel

MOTIF = "TATGCAAAT"


@pytest.fixture(scope="module")
def toy():
    seqs, y, pos = simulate_sequences(600, 40, motif=MOTIF, seed=0)
    model = SequenceModel(n_filters=4, filter_size=9, n_hidden=8, dropout=0.1, seed=0)
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model trains ~3x faster on one thread (less overhead)
    try:
        model.train(seqs, y, max_epochs=10, batch_size=32, lr=1e-2, patience=3)
    finally:
        torch.set_num_threads(n_threads)
    return model, seqs, y, pos


def test_learns_planted_motif(toy):
    model, _, _, _ = toy
    test, yt, _ = simulate_sequences(300, 40, motif=MOTIF, seed=1)
    res = model.evaluate(test, yt)
    assert res["auroc"] > 0.95 and res["auprc"] > 0.95
    p = model.predict(test)
    assert p.shape == (300,) and ((p >= 0) & (p <= 1)).all()
    hist = model.history
    assert {"loss", "val_loss", "val_auroc"} <= set(hist.columns)
    assert hist["val_loss"].iloc[-1] < hist["val_loss"].iloc[0]


def test_save_load_round_trip(toy, tmp_path):
    model, seqs, _, _ = toy
    model.save(tmp_path / "m")
    back = SequenceModel.load(tmp_path / "m")
    np.testing.assert_allclose(back.predict(seqs[:20]), model.predict(seqs[:20]), rtol=1e-6)
    assert back.reference_sequences_ == model.reference_sequences_
    assert back.length == 40 and back.is_trained_


def test_model_saved_with_old_option_names_loads_quietly(toy, tmp_path):
    import warnings

    model, seqs, _, _ = toy
    model.save(tmp_path / "m")
    payload = torch.load(tmp_path / "m" / "model.pt", weights_only=False)
    params = payload["init_params"]
    params["hidden"] = params.pop("n_hidden")
    params.update(l1_filters=0.0, l2=0.0)  # as saved before they moved to train()
    torch.save(payload, tmp_path / "m" / "model.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = SequenceModel.load(tmp_path / "m")
    np.testing.assert_array_equal(back.predict(seqs[:5]), model.predict(seqs[:5]))


def test_embeddings(toy):
    model, seqs, _, _ = toy
    assert model.embed(seqs[:7]).shape == (7, 8)
    assert model.embed(seqs[:7], layer="pooled").shape == (7, 8)


def test_unequal_lengths_are_padded_to_training_length(toy):
    model, seqs, _, _ = toy
    assert model.predict([seqs[0][:30], seqs[1]]).shape == (2,)


def test_regression_and_multitask_train():
    seqs, y, _ = simulate_sequences(120, 30, seed=2)
    gc = np.array([(s.count("G") + s.count("C")) / len(s) for s in seqs], dtype=np.float32)
    reg = SequenceModel(task="regression", n_filters=3, filter_size=3, n_hidden=0, seed=0)
    reg.train(seqs, gc, max_epochs=2, batch_size=32)
    assert reg.predict(seqs).shape == (120,)
    assert "val_r2" in reg.history.columns
    mt = SequenceModel(task="multitask", n_outputs=2, n_filters=3, filter_size=5, n_dilated=1,
                       activation="elu", seed=0)
    mt.train(seqs, np.c_[y, 1 - y], max_epochs=1, batch_size=32, l1=1e-3, l2=1e-4)
    assert mt.predict(seqs).shape == (120, 2)
    assert mt.history["penalty"].iloc[0] > 0  # logged apart from the loss


def test_l1_makes_first_layer_filters_sparse():
    seqs, y, _ = simulate_sequences(200, 30, motif=MOTIF, seed=3)

    def filters(l1):
        m = SequenceModel(n_filters=4, filter_size=9, n_hidden=4, seed=0)
        m.train(seqs, y, max_epochs=3, batch_size=32, lr=1e-2, l1=l1)
        return m.module.conv1.weight.detach().abs().sum().item()

    assert filters(0.05) < 0.5 * filters(0.0)


def test_old_option_names_warn_and_train_alike():
    seqs, y, _ = simulate_sequences(80, 30, seed=4)
    with pytest.warns(DeprecationWarning, match="l1="):
        old = SequenceModel(n_filters=3, filter_size=5, hidden=4, l1_filters=1e-2, seed=0)
    old.train(seqs, y, max_epochs=2, batch_size=16)
    new = SequenceModel(n_filters=3, filter_size=5, n_hidden=4, seed=0)
    new.train(seqs, y, max_epochs=2, batch_size=16, l1=1e-2)
    np.testing.assert_array_equal(old.predict(seqs), new.predict(seqs))
    assert old.module.embedding_dim == 4


def test_input_errors():
    m = SequenceModel(n_filters=2, filter_size=3)
    with pytest.raises(InputError, match="0/1 targets"):
        m.train(["ACGTACGT"] * 4, [0.5, 1, 0, 1])
    with pytest.raises(InputError, match="targets"):
        m.train(["ACGTACGT"] * 4, [1, 0])
    with pytest.raises(InputError, match="letters other than"):
        m.train(["ACGTXCGT"] * 4, [1, 0, 1, 0])
    with pytest.raises(InputError, match="task"):
        SequenceModel(task="poisson")
    with pytest.raises(InputError, match="l1=-1"):
        m.train(["ACGTACGT"] * 4, [1, 0, 1, 0], l1=-1)
    with pytest.raises(RuntimeError, match="not trained"):
        m.predict(["ACGTACGT"])
