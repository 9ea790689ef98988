"""Attribution and filters-as-motifs on a model trained on a planted motif."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gnngeno.data import one_hot_encode, simulate_sequences
from gnngeno.interpret import (
    filter_importance,
    filter_weights_to_pwms,
    filters_to_pwms,
    in_silico_mutagenesis,
    information_content,
    input_x_gradient,
    match_motifs,
    saliency,
    trim_pwm,
)
from gnngeno.io import Motif, read_meme, write_meme
from gnngeno.models import SequenceModel

MOTIF = "TATGCAAAT"


def _pwm(consensus: str) -> np.ndarray:
    return np.eye(4)[["ACGT".index(c) for c in consensus]] * 0.9 + 0.025


@pytest.fixture(scope="module")
def toy():
    seqs, y, pos = simulate_sequences(600, 40, motif=MOTIF, seed=0)
    model = SequenceModel(n_filters=4, filter_size=9, hidden=8, dropout=0.1, seed=0)
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model trains ~3x faster on one thread (less overhead)
    try:
        model.train(seqs, y, max_epochs=10, batch_size=32, lr=1e-2, patience=3)
    finally:
        torch.set_num_threads(n_threads)
    return model, seqs, y, pos


@pytest.fixture()
def database():
    rng = np.random.default_rng(1)
    db = {"planted": Motif("planted", "PLANTED", _pwm(MOTIF))}
    for i in range(30):
        db[f"decoy{i}"] = Motif(f"decoy{i}", "", rng.dirichlet(np.ones(4) * 0.3, size=9))
    return db


def test_best_filter_matches_planted_motif(toy, database, tmp_path):
    model, seqs, y, _ = toy
    pwms = filters_to_pwms(model)  # from the reference sequences kept by the model
    assert len(pwms) == 4 and all(m.pwm.shape == (9, 4) for m in pwms.values())
    np.testing.assert_allclose(pwms["filter_0"].pwm.sum(1), 1.0)
    imp = filter_importance(model, seqs[:200])
    best = imp.index[0]
    assert imp.iloc[0] > 0
    hits = match_motifs({best: pwms[best]}, database, top=3)
    assert hits.iloc[0]["target_id"] == "planted"
    assert hits.iloc[0]["e_value"] < 0.05
    assert hits.iloc[1]["e_value"] > hits.iloc[0]["e_value"]
    write_meme(pwms, tmp_path / "f.meme")
    assert list(read_meme(tmp_path / "f.meme")) == list(pwms)


def test_attribution_peaks_on_planted_site(toy):
    model, seqs, y, pos = toy
    idx = np.flatnonzero(pos >= 0)[:20]
    X = one_hot_encode([seqs[i] for i in idx])
    sal = saliency(model, X)
    ixg = input_x_gradient(model, X)
    ism = in_silico_mutagenesis(model, X[:5], batch_size=512)
    assert sal.shape == ixg.shape == X.shape and (sal >= 0).all()
    assert ism.shape == (5, 4, 40)
    # exactly zero where the variant equals the sequence
    assert np.all(ism[X[:5].numpy() == 1] == 0)
    hits_ixg = hits_ism = 0
    for k, i in enumerate(idx):
        site = range(pos[i], pos[i] + len(MOTIF))
        hits_ixg += int(ixg[k].sum(0).argmax() in site)
        if k < 5:
            hits_ism += int(np.abs(ism[k]).sum(0).argmax() in site)
    assert hits_ixg >= 17 and hits_ism >= 4


def test_ism_matches_direct_prediction(toy):
    model, seqs, _, _ = toy
    s = seqs[0]
    ism = in_silico_mutagenesis(model, [s], batch_size=64)
    mutant = s[:10] + ("A" if s[10] != "A" else "C") + s[11:]
    b = "ACGT".index(mutant[10])
    diff = model.predict([mutant], logits=True) - model.predict([s], logits=True)
    np.testing.assert_allclose(ism[0, b, 10], diff[0], rtol=1e-4, atol=1e-5)


def test_match_motifs_finds_itself_on_either_strand(database):
    rc = _pwm(MOTIF)[::-1, ::-1]
    res = match_motifs({"q": rc, "q2": _pwm("GG" + MOTIF[:6])}, database, top=2)
    first = res[res["query"] == "q"].iloc[0]
    assert first["target_id"] == "planted" and first["strand"] == "-"
    second = res[res["query"] == "q2"].iloc[0]
    assert second["target_id"] == "planted" and second["offset"] == 2


def test_pwm_helpers(toy):
    model, _, _, _ = toy
    w = filter_weights_to_pwms(model)
    assert w["filter_0"].pwm.shape == (9, 4)
    ic = information_content(np.array([[1, 0, 0, 0], [0.25] * 4]))
    np.testing.assert_allclose(ic, [2, 0])
    t, start = trim_pwm(np.vstack([[0.25] * 4, _pwm("ACG"), [0.25] * 4]))
    assert t.shape == (3, 4) and start == 1
