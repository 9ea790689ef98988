"""GRNPredictor on simulated data: recovery of the planted network, exact repeats, save/load."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from gnngeno import InputError
from gnngeno.data import sample_ranking_pairs
from gnngeno.datasets import simulate
from gnngeno.metrics import evaluate_grn
from gnngeno.models import GRNPredictor


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def data():
    return simulate(n_cells=300, n_genes=120, n_tfs=12, seed=0)


@pytest.fixture(scope="module")
def trained(data):
    adata, net = data
    return GRNPredictor(adata, seed=0, n_hidden=32, n_latent=16).train(net, max_epochs=60)


def test_recovers_heldout_planted_edges_well_above_chance(trained):
    m = trained.evaluate("test")
    assert m["n_pos"] > 20
    assert m["auroc"] > 0.7
    assert m["auprc_ratio"] > 2.0


def test_edge_table_covers_every_candidate(trained, data):
    adata, net = data
    edges = trained.get_edges()
    assert list(edges.columns) == ["source", "target", "score"]
    assert len(edges) == 12 * 119
    assert edges["score"].is_monotonic_decreasing
    assert edges["score"].between(0, 1).all()
    assert evaluate_grn(edges, net)["auroc"] > 0.7
    # logits in float64 (float32 tied about 1 % of a 400 000-pair candidate set), the same
    # values as the float32 module to its precision
    pairs = np.stack([np.repeat(trained.tf_index, 119)[:50], np.arange(50)])
    logits = trained._logits(pairs)
    assert logits.dtype == np.float64
    from gnngeno.models._grn_features import degree_prior

    blend = trained.degree_blend_ * degree_prior(trained.train_pos_, trained.n_genes, pairs)
    trained.module.eval()
    with torch.no_grad():
        x, ei, deg = trained._graph().inputs("cpu")
        p = torch.as_tensor(pairs)
        f32 = trained.module.decoder(trained.module.encode(x, ei), p,
                                     trained._graph().pair_features(p, torch.as_tensor(deg)))
    assert f32.dtype == torch.float32
    np.testing.assert_allclose(logits, f32.numpy() + blend, rtol=1e-4, atol=1e-5)


def test_scores_keep_the_logits_order_where_probabilities_saturate(data):
    """A model that leans on the degree blend has logits in the hundreds (seen on a 19-gene
    curated network and on dense ChIP-seq references): its probabilities are exactly 1 for
    many pairs, but the scores and the edge table keep the logits' order."""
    adata, net = data
    m = GRNPredictor(adata, seed=0, n_hidden=16, n_latent=8).train(net, max_epochs=5)
    m.degree_blend_ = 500.0  # as if chosen on validation: logits of order 1e3
    src = np.repeat(m.tf_index, m.n_genes)
    tgt = np.tile(np.arange(m.n_genes), len(m.tf_index))
    off = src != tgt
    logits = m.decision_function(np.stack([src, tgt]))[off]
    assert np.unique(logits).size == logits.size
    assert (m.predict(np.stack([src, tgt]))[off] == 1.0).sum() > 100  # saturated, tied
    scores = m.get_scores().ravel()[off]
    assert np.unique(scores).size == scores.size
    np.testing.assert_array_equal(np.argsort(scores, kind="stable"),
                                  np.argsort(logits, kind="stable"))
    edges = m.get_edges()
    assert edges["score"].is_unique and edges["score"].between(0, 1).all()
    names = pd.DataFrame({"source": np.asarray(m.var_names)[src[off]],
                          "target": np.asarray(m.var_names)[tgt[off]]})
    np.testing.assert_array_equal(m.decision_function(names), logits)


@pytest.mark.parametrize("conv", ["gcn", "gat"])
def test_seeded_runs_repeat_exactly(data, conv):
    adata, net = data
    a = GRNPredictor(adata, conv=conv, seed=3, n_hidden=16, n_latent=8).train(net, max_epochs=8)
    b = GRNPredictor(adata, conv=conv, seed=3, n_hidden=16, n_latent=8).train(net, max_epochs=8)
    np.testing.assert_array_equal(a.get_scores(), b.get_scores())
    c = GRNPredictor(adata, conv=conv, seed=4, n_hidden=16, n_latent=8).train(net, max_epochs=8)
    assert not np.array_equal(a.get_scores(), c.get_scores())


def test_old_option_names_warn_and_build_the_same_model(data):
    adata, net = data
    with pytest.warns(DeprecationWarning, match="hidden_dim= is deprecated"):
        old = GRNPredictor(adata, encoder="gat", num_layers=1, hidden_dim=8, out_dim=4,
                           n_components=6, seed=1)
    new = GRNPredictor(adata, conv="gat", n_layers=1, n_hidden=8, n_latent=4, n_pcs=6, seed=1)
    assert "conv='gat'" in repr(old) and "n_hidden=8" in repr(old)
    old.train(net, max_epochs=3)
    new.train(net, max_epochs=3)
    np.testing.assert_array_equal(old.get_scores(), new.get_scores())
    with pytest.raises(TypeError, match="both"):
        GRNPredictor(adata, encoder="gat", conv="gcn")


def test_save_load_round_trip_and_gene_check(trained, data, tmp_path):
    adata, _ = data
    trained.save(tmp_path / "m")
    loaded = GRNPredictor.load(tmp_path / "m", adata)
    np.testing.assert_allclose(loaded.get_scores(), trained.get_scores(), rtol=1e-6)
    assert loaded.is_trained_ and len(loaded.history_) == len(trained.history_)
    with pytest.raises(InputError, match="missing"):
        GRNPredictor.load(tmp_path / "m", adata[:, :100].copy())
    with pytest.raises(InputError, match="another order"):
        GRNPredictor.load(tmp_path / "m", adata[:, ::-1].copy())


def test_loads_a_model_saved_before_the_decoder_read_pair_features(data, tmp_path):
    adata, net = data
    old = GRNPredictor(adata, seed=0, n_hidden=16, n_latent=8, pair_features=None)
    old.train(net, max_epochs=3)
    old.save(tmp_path / "old")
    payload = torch.load(tmp_path / "old" / "model.pt", weights_only=False)
    del payload["init_params"]["pair_features"]  # as written by gnngeno before the option
    torch.save(payload, tmp_path / "old" / "model.pt")
    loaded = GRNPredictor.load(tmp_path / "old", adata)
    assert loaded._opts["pair_features"] == ()
    np.testing.assert_allclose(loaded.get_scores(), old.get_scores(), rtol=1e-6)


@pytest.mark.parametrize("split", ["tf", "target"])
def test_heldout_splits(data, split):
    adata, net = data
    m = GRNPredictor(adata, seed=0, n_hidden=16, n_latent=8).train(net, split=split, max_epochs=30)
    res = m.evaluate("test")
    assert np.isfinite(res["auroc"])
    if split == "tf":  # the auto options drop transductive terms for unseen TFs
        assert m.module.decoder.source_bias is None
        test_tfs = np.unique(m.split_.test_pairs[0])
        assert not np.isin(m.train_pos_[0], test_tfs).any()


def test_without_prior_is_self_supervised():
    adata, net = simulate(n_cells=500, n_genes=300, n_tfs=30, seed=0)
    m = GRNPredictor(adata, seed=0).train(None, max_epochs=100)
    assert m.mode_ == "self-supervised"
    assert m.module.decoder.source_bias is None  # auto: no transductive terms without a prior
    # expression alone: above chance
    assert evaluate_grn(m.get_edges(), net)["auroc"] > 0.6


def test_options_and_penalty_run(data):
    adata, net = data
    m = GRNPredictor(adata, conv="gatv2", decoder="mlp", n_layers=3, activation="elu",
                     seed=0, n_hidden=16, n_latent=8, heads=2)
    m.train(net, max_epochs=3, l1=1e-4, l2=1e-4)
    assert (m.history["penalty"] > 0).all()


def test_input_errors(data):
    adata, net = data
    bare = adata.copy()
    del bare.var["is_tf"]
    assert GRNPredictor(bare).tfs == list(bare.var_names)  # no TF list: every gene
    with pytest.raises(InputError, match="pair_features"):
        GRNPredictor(adata, pair_features=["pearson", "mutual"])
    with pytest.raises(InputError, match="conv"):
        GRNPredictor(adata, conv="sage")
    with pytest.raises(InputError, match="divisible"):
        GRNPredictor(adata, conv="gat", n_hidden=10, heads=4)
    with pytest.raises(InputError, match="n_layers"):
        GRNPredictor(adata, n_layers=0)
    with pytest.raises(RuntimeError, match="not trained"):
        GRNPredictor(adata).get_edges()


def _genelink_style_split(adata, net, seed=0):
    """A legacy-style split: per-TF positives 2/3 train (1/5 of them validation), 1/3 test;
    one within-TF negative per training/validation positive; test negatives drawn from all
    TF x gene candidates (as in GENELink's Non-Specific/STRING files)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    genes = np.asarray(adata.var_names)
    tfs = sorted(set(net["source"]))
    pos = set(zip(net["source"], net["target"], strict=True))
    parts = {"train": [], "validation": [], "test": []}
    for tf, grp in net.groupby("source"):
        t = rng.permutation(grp["target"].to_numpy())
        n_test = len(t) // 3
        n_val = (len(t) - n_test) // 5
        for name, sel in (("test", t[:n_test]), ("validation", t[n_test:n_test + n_val]),
                          ("train", t[n_test + n_val:])):
            parts[name] += [(tf, g, 1) for g in sel]
            if name != "test":
                non = [g for g in genes if (tf, g) not in pos and g != tf]
                parts[name] += [(tf, g, 0) for g in rng.choice(non, min(len(sel), len(non)),
                                                                   replace=False)]
    n_neg = int(len(parts["test"]) * (len(tfs) * len(genes) / len(pos) - 1))
    while n_neg > 0:
        tf, g = tfs[rng.integers(len(tfs))], genes[rng.integers(len(genes))]
        if (tf, g) not in pos and tf != g:
            parts["test"].append((tf, g, 0))
            n_neg -= 1
    return {k: pd.DataFrame(v, columns=["source", "target", "label"]) for k, v in parts.items()}


@pytest.fixture(scope="module")
def legacy(data):
    adata, net = data
    return _genelink_style_split(adata, net)


def test_legacy_split_validation_candidates_and_ranking_pairs(data, legacy):
    adata, _ = data
    m = GRNPredictor(adata, seed=0, n_hidden=16, n_latent=8).train(split=legacy, max_epochs=40)
    sp = m.split_
    assert sp.method == "legacy" and sp.train_neg.shape[1] > 0
    res = m.evaluate("test")
    assert res["auroc"] > 0.7 and res["auprc_ratio"] > 2.0
    # auto: 10 random candidate negatives per validation positive join the given pairs
    n_pos = int(sp.val_labels.sum())
    pairs, labels = m.val_pairs_, m.val_labels_
    assert pairs.shape[1] == len(labels) == sp.val_pairs.shape[1] + 10 * n_pos
    assert labels.sum() == n_pos
    extra = pairs[:, sp.val_pairs.shape[1]:]
    known = set(map(tuple, sp.train_pos.T)) | set(map(tuple, sp.val_pairs[:, sp.val_labels == 1].T))
    assert not any(tuple(p) in known for p in extra.T)
    again = GRNPredictor(adata, seed=0, n_hidden=16, n_latent=8).train(split=legacy, max_epochs=1)
    np.testing.assert_array_equal(again.val_pairs_, pairs)  # drawn with the model's seed
    none = GRNPredictor(adata, seed=0, n_hidden=16, n_latent=8).train(
        split=legacy, max_epochs=1, validation_candidates=0)
    assert none.val_pairs_.shape == sp.val_pairs.shape
    # ranking pairs: a given negative is matched with a positive of the same TF
    neg, pos = sample_ranking_pairs(sp.train_pos, sp.train_neg, 200)
    assert neg.shape == pos.shape and neg.shape[1] > 150
    np.testing.assert_array_equal(neg[0].numpy(), pos[0].numpy())
    train_pos = set(map(tuple, sp.train_pos.T))
    assert all(tuple(p) in train_pos for p in pos.numpy().T)
    assert not any(tuple(p) in train_pos for p in neg.numpy().T)
    # the ranking term changes training; switched off, the result differs
    off = GRNPredictor(adata, seed=0, n_hidden=16, n_latent=8).train(
        split=legacy, max_epochs=5, ranking_weight=0)
    on = GRNPredictor(adata, seed=0, n_hidden=16, n_latent=8).train(split=legacy, max_epochs=5)
    assert not np.allclose(off.history["loss"], on.history["loss"])


def test_early_stopping_skips_warmup_on_smoothed_auprc(data, legacy):
    adata, net = data
    m = GRNPredictor(adata, seed=0, n_hidden=16, n_latent=8).train(net, max_epochs=40,
                                                                   warmup_epochs=10)
    h = m.history
    assert {"loss", "val_auprc", "val_auroc", "val_auprc_ema"} <= set(h.columns)
    raw, ema = h["val_auprc"].to_numpy(), h["val_auprc_ema"].to_numpy()
    expected = [raw[0]]
    for v in raw[1:]:  # val_smoothing=0.5: weight 0.5 on the past
        expected.append(0.5 * expected[-1] + 0.5 * v)
    np.testing.assert_allclose(ema, expected)
    # the best epoch is the first maximum of the moving average after the warm-up
    assert m.history_.best_epoch == 10 + int(np.argmax(ema[10:]))
    # every option can be switched off; the result still ranks well
    m0 = GRNPredictor(adata, seed=0, n_hidden=16, n_latent=8).train(
        split=legacy, max_epochs=40, supervision_fraction=0, ranking_weight=0,
        validation_candidates=0, warmup_epochs=0, val_smoothing=0)
    assert m0.evaluate("test")["auroc"] > 0.6
    assert "val_auprc_ema" not in m0.history
    assert m0.history_.best_epoch == int(np.argmax(m0.history["val_auprc"].to_numpy()))
    with pytest.raises(InputError, match="ranking_weight"):
        GRNPredictor(adata, seed=0).train(split=legacy, max_epochs=2, ranking_weight=-1)
    with pytest.raises(InputError, match="val_smoothing"):
        GRNPredictor(adata, seed=0).train(net, max_epochs=2, val_smoothing=1.0)


def test_resumed_training_matches_uninterrupted(data, tmp_path):
    adata, net = data
    opts = dict(max_epochs=12, warmup_epochs=2, patience=None)
    full = GRNPredictor(adata, seed=5, n_hidden=8, n_latent=4).train(net, **opts)
    ckpt = tmp_path / "grn.ckpt"
    GRNPredictor(adata, seed=5, n_hidden=8, n_latent=4).train(
        net, **{**opts, "max_epochs": 6}, checkpoint_path=ckpt)
    resumed = GRNPredictor(adata, seed=5, n_hidden=8, n_latent=4).train(
        net, **opts, checkpoint_path=ckpt, resume=True)
    assert len(resumed.history_) == 12
    np.testing.assert_array_equal(resumed.history["val_auprc_ema"], full.history["val_auprc_ema"])
    assert resumed.history_.best_epoch == full.history_.best_epoch
    np.testing.assert_array_equal(resumed.get_scores(), full.get_scores())


def test_cross_fit_scores_every_known_edge_out_of_fold(data):
    from gnngeno.models import cross_fit

    adata, net = data
    small = {"n_hidden": 16, "n_latent": 8, "n_pcs": 8}
    fit = cross_fit(adata, net, tfs=adata.var_names[:12].tolist(), cv_folds=3,
                    model_kwargs=small, train_kwargs={"max_epochs": 20}, seed=0)
    assert fit.scores.shape == fit.in_prior.shape == (12, 120)
    assert fit.in_prior.sum() == len(net)
    assert fit.folds["n_known"].sum() == len(net) and len(fit.folds) == 3
    off = ~np.eye(12, 120, dtype=bool)
    s = fit.scores[off]
    assert np.unique(s).size >= s.size - 3 and (s > 0).all() and (s < 1).all()
    assert fit.metrics["n_folds"] == 3 and fit.metrics["auroc"] > 0.6
    assert fit.model.coexp_edges_ is None  # a directed prior: known edges carry the messages
    # known edges rank above the rest on average, although no model saw the one it scored
    assert fit.scores[fit.in_prior].mean() > fit.scores[off & ~fit.in_prior].mean()
    again = cross_fit(adata, net, tfs=adata.var_names[:12].tolist(), cv_folds=3,
                      model_kwargs=small, train_kwargs={"max_epochs": 20}, seed=0)
    np.testing.assert_array_equal(again.scores, fit.scores)
    # the stacking regression weighs the model's logit and each expression feature
    assert {"w_logit", "w_pearson", "w_spearman", "w_tree", "intercept"} <= set(fit.folds)
    assert {"w_tf_degree", "w_target_degree", "w_tf_remaining",
            "w_target_remaining"} <= set(fit.folds)
    plain = cross_fit(adata, net, tfs=adata.var_names[:12].tolist(), cv_folds=3,
                      model_kwargs={**small, "pair_features": None},
                      train_kwargs={"max_epochs": 20}, seed=0)
    assert "w_pearson" not in plain.folds and plain.folds["w_logit"].notna().all()
    # 9 regulators with known edges: no extra models for regulators without known edges
    assert "auroc_unseen_tf" not in fit.metrics


def test_degree_inputs_count_each_end_s_known_and_remaining_pairs():
    from gnngeno.models._grn_stacking import DEGREE_INPUTS, degree_inputs

    # 6 genes, regulators 0 and 1: regulator 0 has 3 known targets of its 5 candidates
    edges = np.array([[0, 0, 0, 1], [2, 3, 4, 2]])
    cand = np.array([[0, 1, 1], [5, 2, 3]])
    d = degree_inputs(edges, cand, 6, 2)
    assert d.shape == (3, len(DEGREE_INPUTS)) == (3, 4)
    expected = np.log1p([[3, 0, 2, 2], [1, 2, 4, 0], [1, 1, 4, 1]])
    np.testing.assert_allclose(d, expected, rtol=1e-6)
    # a fold's degrees scaled to the whole prior's; the pairs left never go below 0
    d2 = degree_inputs(edges, cand, 6, 2, scale=2.0)
    np.testing.assert_allclose(d2[:, [0, 2]], np.log1p([[6, 0], [2, 3], [2, 3]]), rtol=1e-6)


def test_stacker_falls_back_without_both_classes():
    from gnngeno.models._grn_stacking import Stacker

    z = np.array([0.5, -1.0, 2.0])
    st = Stacker(z, np.zeros((3, 1)), np.zeros(0), np.zeros((0, 1)), n_known=3, n_negative=0,
                 names=["tree"])
    p = st(z, np.zeros((3, 1)))
    assert np.all((p > 0) & (p < 1)) and np.all(np.argsort(p) == np.argsort(z))
    assert st.weights["w_logit"] == 1.0


def test_stacker_keeps_float64_precision_on_float32_inputs():
    # float32 inputs (logits, pair features) used to give float32 probabilities: near 0.5 a
    # logit step of 1e-7 is below their resolution, so distinct pairs tied
    from gnngeno.models._grn_stacking import Stacker

    rng = np.random.default_rng(0)
    z_pos = rng.normal(1, 1, 200).astype(np.float32)
    z_neg = rng.normal(0, 1, 800).astype(np.float32)
    f_pos, f_neg = rng.random((200, 1), np.float32), rng.random((800, 1), np.float32)
    st = Stacker(z_pos, f_pos, z_neg, f_neg, n_known=200, n_negative=800, names=["tree"])
    z = np.float32(0.01) + np.arange(1000, dtype=np.float32) * np.float32(1e-7)
    f = np.full((1000, 1), 0.5, np.float32)
    p = st(z, f)
    assert p.dtype == np.float64 and np.unique(p).size == 1000
    # the same fitted weights: scikit-learn's own (float32) probabilities agree to float32
    np.testing.assert_allclose(p, st.fit.predict_proba(np.column_stack([z, f]))[:, 1], rtol=1e-6)


def test_unseen_degree_inputs_read_a_predicted_degree_for_genes_without_edges():
    from gnngeno.data import predicted_log_degree
    from gnngeno.models._grn_stacking import unseen_degree_inputs

    rng = np.random.default_rng(0)
    n = 200
    features = rng.normal(size=(n, 5))
    true = np.clip(np.round(np.expm1(1.5 + 0.8 * features[:, 0])), 1, None).astype(int)
    lone = np.arange(150, n)  # genes whose every edge is hidden
    src = np.repeat(np.arange(150), true[:150])
    dst = (src + 1 + rng.integers(0, 148, src.size)) % 150
    edges = np.unique(np.concatenate([np.stack([src, dst]), np.stack([dst, src])], axis=1),
                      axis=1)  # symmetric, among the first 150 genes only
    cand = np.stack([np.repeat([150, 151, 3], n), np.tile(np.arange(n), 3)])
    # a directed prior: the target's log1p in-degree alone, 0 for genes without edges
    plain = unseen_degree_inputs(edges, cand, n)
    in_deg = np.bincount(edges[1], minlength=n)
    np.testing.assert_allclose(plain[:, 0], np.log1p(in_deg[cand[1]]), rtol=1e-6)
    # a symmetric prior: genes without any edge read the degree their expression predicts
    sym = unseen_degree_inputs(edges, cand, n, features=features, symmetric=True)
    assert sym.shape == (cand.shape[1], 3)
    target = sym[:n, 0]
    np.testing.assert_allclose(target[:150], np.log1p(in_deg[:150]), rtol=1e-6)
    assert np.corrcoef(target[lone], np.log1p(true[lone]))[0, 1] > 0.8
    np.testing.assert_array_equal(sym[:n, 1], np.arange(n) >= 150)
    # the regulator's degree: predicted for a gene without edges, counted for one with edges
    np.testing.assert_allclose(sym[:n, 2], target[150], rtol=1e-6)
    np.testing.assert_allclose(sym[2 * n:, 2], np.log1p(in_deg[3]), rtol=1e-6)
    fit = np.arange(n) < 150
    np.testing.assert_allclose(target[lone], predicted_log_degree(features, in_deg, fit, lone),
                               rtol=1e-5)
    # a directed prior with features: the same target inputs, no regulator degree
    directed = unseen_degree_inputs(edges, cand, n, features=features)
    assert directed.shape == (cand.shape[1], 2)
    np.testing.assert_array_equal(directed, sym[:, :2])


def test_unseen_target_group_holds_a_fifth_of_the_targets_that_regulate_none():
    from gnngeno.models._grn_stacking import UNSEEN_TF_SHARE, unseen_target_group

    rng = np.random.default_rng(0)
    # regulators 0-9 (also targets of each other), pure targets 10-109
    pos = np.concatenate([np.stack([np.repeat(np.arange(10), 10), np.arange(10, 110)]),
                          np.stack([np.arange(10), (np.arange(10) + 1) % 10])], axis=1)
    group = unseen_target_group(pos, rng)
    assert group.size == int(UNSEEN_TF_SHARE * 100) and (np.diff(group) > 0).all()
    assert np.isin(group, np.arange(10, 110)).all()  # never a regulator
    assert not np.array_equal(group, unseen_target_group(pos, rng))  # a random draw
    assert unseen_target_group(pos[:, pos[1] < 10], rng).size == 0  # no pure target


def test_regulator_partners_share_the_targets_of_co_expressed_regulators():
    from gnngeno.models._grn_stacking import PARTNER_REGULATORS, RegulatorPartners

    # 4 regulators (genes 0-3) of 8 genes; regulator 3 has no known edge
    sim = np.array([[1.0, 0.9, -0.3, 0.8],
                    [0.9, 1.0, 0.1, 0.2],
                    [-0.3, 0.1, 1.0, 0.0],
                    [0.8, 0.2, 0.0, 1.0]])
    edges = np.array([[0, 0, 1, 2, 2], [4, 5, 4, 6, 6]])  # a repeated edge counts once
    cand = np.stack([np.repeat(np.arange(4), 8), np.tile(np.arange(8), 4)])
    share = RegulatorPartners(sim, np.arange(4), 8).target_share(edges, cand).reshape(4, 8)
    assert PARTNER_REGULATORS >= 3  # every regulator with edges is a partner here
    # regulator 3: partners 0, 1, 2 (|r| 0.8, 0.2, 0.0), never itself
    np.testing.assert_allclose(share[3], [0, 0, 0, 0, 1.0, 0.8, 0, 0], rtol=1e-6)
    # regulator 0: partners 1 and 2 (0.9, 0.3), not itself although it has edges
    np.testing.assert_allclose(share[0], [0, 0, 0, 0, 0.75, 0, 0.25, 0], rtol=1e-6)
    # without any regulator with edges there is nothing to share
    empty = np.zeros((2, 0), np.int64)
    assert not RegulatorPartners(sim, np.arange(4), 8).target_share(empty, cand).any()
    # regulators that are not the first genes: rows follow tf_index
    moved = RegulatorPartners(sim, np.array([7, 6, 5, 4]), 8)
    e2 = np.array([[7, 7, 6, 5, 5], [0, 1, 0, 2, 2]])
    c2 = np.stack([np.repeat([7, 6, 5, 4], 8), np.tile(np.arange(8), 4)])
    np.testing.assert_allclose(moved.target_share(e2, c2).reshape(4, 8)[3],
                               [1.0, 0.8, 0, 0, 0, 0, 0, 0], rtol=1e-6)


def test_regulators_without_known_edges_read_expression_relative_to_their_own_mean():
    from gnngeno.models._grn_stacking import UnseenRegime, within_regulator

    rng = np.random.default_rng(0)
    # 3 regulators x 5 genes, 2 features; regulator 1 is co-expressed with every gene
    E = rng.random((15, 2)).astype(np.float32)
    E[5:10] += 3.0
    W = within_regulator(E, 5)
    assert W.dtype == np.float32 and W.shape == E.shape
    np.testing.assert_allclose(W.reshape(3, 5, 2).mean(axis=1), 0, atol=1e-6)
    # a regulator-wide offset is gone, the order of its own targets is not
    shifted = E.copy()
    shifted[5:10] -= 3.0
    np.testing.assert_allclose(within_regulator(shifted, 5), W, atol=1e-5)
    assert (np.argsort(W[5:10, 0]) == np.argsort(E[5:10, 0])).all()
    assert within_regulator(np.zeros((15, 0), np.float32), 5).shape == (15, 0)  # no features
    regime = UnseenRegime(E, ("pearson", "spearman"), rng, n_genes=5)
    np.testing.assert_allclose(regime.inputs(np.zeros((15, 1)), np.arange(5, 10))[:, :2],
                               W[5:10])


def test_unseen_regulator_groups_are_disjoint_and_skipped_on_small_priors():
    from gnngeno.models._grn_stacking import is_symmetric, unseen_tf_groups

    rng = np.random.default_rng(0)
    pos = np.stack([np.repeat(np.arange(40), 3), rng.integers(40, 90, 120)])
    groups = unseen_tf_groups(pos, rng)
    assert [g.size for g in groups] == [8, 8]
    assert np.unique(np.concatenate(groups)).size == 16 and np.isin(groups[0], pos[0]).all()
    three = unseen_tf_groups(pos, rng, n_groups=3)
    assert [g.size for g in three] == [8, 8, 8] and np.unique(np.concatenate(three)).size == 24
    few = pos[:, pos[0] < 14]  # 14 regulators: groups of 2, too few to learn from
    assert unseen_tf_groups(few, rng) == []
    assert not is_symmetric(pos, 90)
    assert is_symmetric(np.concatenate([pos, pos[::-1]], axis=1), 90)


def test_cross_fit_ranks_regulators_without_known_edges_with_a_regression_of_their_own():
    from gnngeno.models import cross_fit

    adata, net = simulate(n_cells=300, n_genes=150, n_tfs=30, seed=0)
    tfs = adata.var_names[:30].tolist()
    counts = net["source"].value_counts()
    held = counts.index[counts.to_numpy() >= 3][:4].tolist()
    prior = net[~net["source"].isin(held)]
    small = {"n_hidden": 16, "n_latent": 8, "n_pcs": 8}
    from gnngeno.models import _grn_crossfit
    from gnngeno.models._grn_stacking import DIRECTED_UNSEEN_INPUTS, PARTNER_INPUT, UnseenRegime

    trained, names = [], []  # the extra models' training edges, the regression's inputs
    split_fn, fitted = _grn_crossfit.fit_split, UnseenRegime.fit

    def split_spy(train_pos, *args, **kwargs):
        if kwargs.get("method") == "unseen regulators":
            trained.append(train_pos)
        return split_fn(train_pos, *args, **kwargs)

    def fit_spy(self, groups):
        names.append(self.names)
        return fitted(self, groups)

    _grn_crossfit.fit_split, UnseenRegime.fit = split_spy, fit_spy
    try:
        fit = cross_fit(adata, prior, tfs=tfs, cv_folds=3, seed=0, model_kwargs=small,
                        train_kwargs={"max_epochs": 20})
    finally:
        _grn_crossfit.fit_split, UnseenRegime.fit = split_fn, fitted
    # two extra models, each without every edge of 20 % of the 23 regulators with known edges,
    # and for this directed prior a third, also without every edge into 20 % of the targets
    # that regulate none (their in-degree is then read from their expression)
    assert fit.metrics["n_unseen_tfs"] == 4 and 0 <= fit.metrics["auroc_unseen_tf"] <= 1
    assert fit.metrics["n_unseen_models"] == 3 and len(trained) == 3
    genes = adata.var_names.tolist()
    pure = np.setdiff1d(prior["target"].map(genes.index), prior["source"].map(genes.index))
    missed = [pure.size - np.isin(pure, t[1]).sum() for t in trained]
    # the first two miss only targets whose every regulator they hid; the third at least 20 %
    hidden = int(0.2 * pure.size)
    assert max(missed[:2]) < hidden <= missed[2]
    assert names and all(n[-3:] == ("target_degree", *DIRECTED_UNSEEN_INPUTS, PARTNER_INPUT)
                         for n in names)
    rows = [tfs.index(t) for t in held]
    assert not fit.in_prior[rows].any() and np.unique(fit.scores[rows]).size > 100
    # the regulators with known edges are ranked as without the extra models
    from gnngeno.models import _grn_stacking

    before = _grn_stacking.MIN_UNSEEN_TFS
    try:
        _grn_stacking.MIN_UNSEEN_TFS = 10 ** 6
        plain = cross_fit(adata, prior, tfs=tfs, cv_folds=3, seed=0, model_kwargs=small,
                          train_kwargs={"max_epochs": 20})
    finally:
        _grn_stacking.MIN_UNSEEN_TFS = before
    seen = [tfs.index(t) for t in prior["source"].unique()]
    np.testing.assert_array_equal(plain.scores[seen], fit.scores[seen])
    assert "auroc_unseen_tf" not in plain.metrics
    assert not np.array_equal(plain.scores[rows], fit.scores[rows])
    # without expression pair features (pair_features="none") the same path runs
    bare = cross_fit(adata, prior, tfs=tfs, cv_folds=3, seed=0,
                     model_kwargs={**small, "pair_features": "none"},
                     train_kwargs={"max_epochs": 5})
    assert "auroc_unseen_tf" in bare.metrics and np.isfinite(bare.scores).all()


def test_cross_fit_on_a_symmetric_prior_ranks_pairs_between_unseen_genes():
    # an undirected prior (every edge in both directions) without any edge of four genes:
    # the regression for regulators without known edges reads their predicted degrees
    from gnngeno.models import cross_fit
    from gnngeno.models._grn_crossfit import UNDIRECTED_COEXPRESSION_K
    from gnngeno.models._grn_stacking import (
        PARTNER_INPUT,
        SYMMETRIC_UNSEEN_INPUTS,
        UnseenRegime,
    )

    adata, net = simulate(n_cells=300, n_genes=150, n_tfs=30, seed=0)
    genes = adata.var_names.tolist()
    both = pd.concat([net[["source", "target"]],
                      net.rename(columns={"source": "target", "target": "source"})[
                          ["source", "target"]]])
    counts = net["source"].value_counts()
    held = counts.index[counts.to_numpy() >= 3][:4].tolist()
    prior = both[~both["source"].isin(held) & ~both["target"].isin(held)].drop_duplicates()
    seen_names = []
    fitted = UnseenRegime.fit

    def spy(self, groups):
        seen_names.append(self.names)
        return fitted(self, groups)

    UnseenRegime.fit = spy
    try:
        fit = cross_fit(adata, prior, tfs=genes, cv_folds=3, seed=0,
                        model_kwargs={"n_hidden": 16, "n_latent": 8, "n_pcs": 8},
                        train_kwargs={"max_epochs": 10})
    finally:
        UnseenRegime.fit = fitted
    assert seen_names and all(n[-3:] == (*SYMMETRIC_UNSEEN_INPUTS, PARTNER_INPUT)
                              for n in seen_names)
    assert 0 <= fit.metrics["auroc_unseen_tf"] <= 1
    # co-expression partners join the message graph, so the held-out genes are not isolated
    coexp = fit.model.coexp_edges_
    assert coexp is not None and coexp.shape[1] >= UNDIRECTED_COEXPRESSION_K * len(genes)
    assert np.isin(genes.index(held[0]), coexp)
    rows = [genes.index(t) for t in held]
    block = fit.scores[np.ix_(rows, rows)][~np.eye(4, dtype=bool)]
    assert np.all(block > 0) and np.unique(fit.scores[rows]).size > 100


def test_every_gene_as_regulator_tiny_network_and_constant_gene():
    import anndata as ad
    import pandas as pd

    from gnngeno.models import cross_fit

    rng = np.random.default_rng(0)
    X = rng.poisson(3, size=(40, 5)).astype(np.float32)
    X[:, 4] = 2.0  # no variance
    adata = ad.AnnData(X)
    adata.var_names = [f"g{i}" for i in range(5)]
    genes = adata.var_names.tolist()
    prior = pd.DataFrame({"source": ["g0", "g1"], "target": ["g2", "g3"]})
    m = GRNPredictor(adata, tfs=genes, seed=0, n_hidden=8, n_latent=4)
    m.train(prior, fractions=(1, 0, 0), max_epochs=5)
    assert len(m.get_edges()) == 5 * 4 and np.isfinite(m.get_scores()).all()
    fit = cross_fit(adata, prior, tfs=genes, model_kwargs={"n_hidden": 8, "n_latent": 4},
                    train_kwargs={"max_epochs": 5}, seed=0)
    assert fit.metrics["n_folds"] == 2 and (fit.folds["epochs"] == 5).all()  # no early stop
    assert np.isfinite(fit.scores).all()


def test_pair_features_reach_the_decoder(data):
    """The decoder reads degrees plus |Pearson|, |Spearman| and tree quantiles of each pair;
    they are cached, saved, and can be switched off; self-supervised training uses none."""
    from gnngeno.models import PAIR_FEATURES, expression_pair_features

    adata, net = data
    m = GRNPredictor(adata, seed=0, n_hidden=16, n_latent=8)
    m.train(net, max_epochs=3)
    k = len(PAIR_FEATURES)
    assert m.module.decoder.n_pair_features == 2 + k
    E = m.pair_features_
    assert E.shape == (len(m.tfs), adata.n_vars, k)
    assert np.abs(E).max() <= 0.5 and np.isfinite(E).all()
    assert (E[np.arange(len(m.tfs)), m.tf_index] == 0).all()  # self-pairs carry nothing
    again = expression_pair_features(adata.X, m.tf_index, PAIR_FEATURES, seed=0)
    assert again is E  # cached: cross-fitted models share one computation
    off = GRNPredictor(adata, seed=0, n_hidden=16, n_latent=8, pair_features=None)
    off.train(net, max_epochs=3)
    assert off.module.decoder.n_pair_features == 2
    ss = GRNPredictor(adata, seed=0, n_hidden=16, n_latent=8).train(max_epochs=3)
    assert ss.mode_ == "self-supervised" and ss.module.decoder.n_pair_features == 0


def test_message_passing_off_is_the_no_graph_ablation(data):
    adata, net = data
    on = GRNPredictor(adata, seed=0, n_hidden=16, n_latent=8).train(net, max_epochs=3)
    off = GRNPredictor(adata, seed=0, n_hidden=16, n_latent=8, message_passing=False)
    off.train(net, max_epochs=3)
    assert on._graph().message_graph().shape[1] > 0
    assert off._graph().message_graph().shape[1] == 0
    assert not np.allclose(on.get_scores(), off.get_scores())
