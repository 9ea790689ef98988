"""TrainingPlan's weight penalties: where the lasso applies, and that it is logged apart."""

from __future__ import annotations

import torch

from gnngeno.train import Batch, TrainingPlan


class _TwoHeads(torch.nn.Module):
    """Two independent linear fits, so that a penalty on one leaves the other untouched."""

    def __init__(self) -> None:
        super().__init__()
        self.a = torch.nn.Linear(4, 2, bias=False)
        self.b = torch.nn.Linear(4, 2, bias=False)

    def loss(self, x, ya, yb):
        return {"loss": ((self.a(x) - ya) ** 2).mean() + ((self.b(x) - yb) ** 2).mean()}


class _Data:
    has_validation = False

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(64, 4, generator=g)
        w = torch.randn(4, 2, generator=g)
        self.kwargs = {"x": self.x, "ya": self.x @ w, "yb": self.x @ (2 * w)}

    def batches(self, epoch):
        yield Batch(self.kwargs, n=64)


def _train(l1=0.0, only_a=False):
    torch.manual_seed(0)
    m = _TwoHeads()
    plan = TrainingPlan(m, max_epochs=40, lr=0.05, device="cpu", l1=l1,
                        l1_parameters=[m.a.weight] if only_a else None)
    return m, plan.run(_Data()).to_frame()


def test_l1_parameters_limit_the_lasso_to_those_weights():
    plain, _ = _train()
    everywhere, _ = _train(l1=0.2)
    only_a, hist = _train(l1=0.2, only_a=True)

    def size(m, head):
        return getattr(m, head).weight.detach().abs().sum().item()

    assert size(only_a, "a") < 0.9 * size(plain, "a")  # the lasso shrinks a
    assert torch.equal(only_a.b.weight, plain.b.weight)  # and leaves b alone
    assert size(everywhere, "b") < 0.9 * size(plain, "b")  # unless it covers b too
    assert (hist["penalty"] > 0).all()  # logged apart from the loss
    assert (hist["loss"] != hist["penalty"]).all()


def test_param_groups_set_each_groups_own_options():
    torch.manual_seed(0)
    m = _TwoHeads()
    frozen = m.b.weight.detach().clone()
    groups = [{"params": [m.a.weight]}, {"params": [m.b.weight], "lr": 0.0}]
    plan = TrainingPlan(m, max_epochs=10, lr=0.05, device="cpu", param_groups=groups)
    before_a = m.a.weight.detach().clone()
    plan.run(_Data())
    assert torch.equal(m.b.weight, frozen)  # its group's learning rate is 0
    assert not torch.equal(m.a.weight, before_a)  # the other group takes the plan's lr
    assert plan.optimizer_.param_groups[0]["lr"] == 0.05
