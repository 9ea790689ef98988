"""The shared training loop: early stopping, best-state restore, checkpoints and resume."""

from __future__ import annotations

import torch

from gnngeno.train import EarlyStopping, fit


def _problem(seed=0):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 3, generator=g)
    y = X @ torch.tensor([1.0, -2.0, 0.5]) + 0.1 * torch.randn(64, generator=g)
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)

    def train_epoch(epoch):
        model.train()
        opt.zero_grad()
        loss = ((model(X[:48]).squeeze(1) - y[:48]) ** 2).mean()
        loss.backward()
        opt.step()
        return {"loss": loss.item()}

    def validate():
        return {"val_loss": ((model(X[48:]).squeeze(1) - y[48:]) ** 2).mean().item()}

    return model, opt, train_epoch, validate


def test_early_stopping_counts_bad_epochs():
    s = EarlyStopping(patience=2, mode="max")
    assert [s.step(v) for v in [0.1, 0.3, 0.2, 0.25]] == [True, True, False, False]
    assert s.should_stop and s.best == 0.3 and s.best_epoch == 1


def test_fit_learns_and_restores_best():
    model, opt, train_epoch, validate = _problem()
    hist = fit(model, opt, train_epoch, max_epochs=60, validate=validate, patience=5)
    frame = hist.to_frame()
    assert frame["loss"].iloc[-1] < frame["loss"].iloc[0] / 5
    assert validate()["val_loss"] == min(r["val_loss"] for r in hist.records)


def test_fit_resume_gives_the_same_result(tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    model, opt, train_epoch, validate = _problem()
    full = fit(model, opt, train_epoch, max_epochs=20, validate=validate, patience=None)
    w_full = model.weight.detach().clone()

    model, opt, train_epoch, validate = _problem()
    fit(model, opt, train_epoch, max_epochs=8, validate=validate, patience=None,
        checkpoint_path=ckpt, restore_best=False, metadata={"var_names": ["a", "b", "c"]})
    assert ckpt.exists()
    saved = torch.load(ckpt, weights_only=False)
    assert saved["epoch"] == 7 and saved["metadata"]["var_names"] == ["a", "b", "c"]
    assert "version" in saved
    # a "new process": fresh objects, resumed from the checkpoint
    model, opt, train_epoch, validate = _problem(seed=99)
    resumed = fit(model, opt, train_epoch, max_epochs=20, validate=validate, patience=None,
                  checkpoint_path=ckpt, resume=True, metadata={"var_names": ["a", "b", "c"]})
    assert len(resumed) == 20
    assert [r["loss"] for r in resumed.records] == [r["loss"] for r in full.records]
    assert torch.equal(model.weight, w_full)


def test_resume_refuses_other_genes(tmp_path):
    import pytest

    ckpt = tmp_path / "ckpt.pt"
    model, opt, train_epoch, validate = _problem()
    fit(model, opt, train_epoch, max_epochs=2, checkpoint_path=ckpt, metadata={"var_names": ["a"]})
    with pytest.raises(ValueError, match="other genes"):
        fit(model, opt, train_epoch, max_epochs=4, checkpoint_path=ckpt, resume=True,
            metadata={"var_names": ["b"]})
