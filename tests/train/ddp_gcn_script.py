"""Train a small mini-batch GCN with gnngeno's distributed helpers; run by
``tests/train/test_distributed.py`` once in-process and once under
``torchrun --standalone --nproc_per_node=2``.

Usage: python -m torch.distributed.run --standalone --nproc_per_node=2 ddp_gcn_script.py OUT.json
"""

from __future__ import annotations

import json
import sys

import numpy as np
import scipy.sparse as sp
import torch


def make_problem(n: int = 240, g: int = 12, seed: int = 0):
    """Clustered features, a kNN graph (GCN-normalised) and fixed held-out entries."""
    from sklearn.neighbors import kneighbors_graph

    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 2, (4, g))
    X = (centers[rng.integers(0, 4, n)] + rng.normal(0, 0.5, (n, g))).astype(np.float32)
    A = kneighbors_graph(X, 6, include_self=False)
    A = ((A + A.T) > 0).astype(np.float32) + sp.identity(n, dtype=np.float32)
    d = 1 / np.sqrt(np.asarray(A.sum(1)).ravel())
    An = sp.csr_matrix(sp.diags(d) @ A @ sp.diags(d), dtype=np.float32)
    hidden = rng.random((n, g)) < 0.2  # entries hidden from the input, scored in validation
    return X, An, hidden


class TinyGCN(torch.nn.Module):
    def __init__(self, g: int, h: int = 16) -> None:
        super().__init__()
        self.lin_in = torch.nn.Linear(g, h)
        self.lin_out = torch.nn.Linear(h, g)

    def forward(self, x, adj):
        from gnngeno.data import propagate

        return self.lin_out(torch.relu(propagate(adj, self.lin_in(x))))


def train(out: str | None = None, *, epochs: int = 6, batch_size: int = 48, seed: int = 0):
    from gnngeno._settings import seed_everything
    from gnngeno.data import NeighborhoodLoader, predict_in_chunks
    from gnngeno.train import distributed, fit, is_main_process, reduce_dict, wrap_ddp

    torch.set_num_threads(1)
    with distributed(device="cpu") as ctx:
        X, An, hidden = make_problem(seed=seed)
        n, g = X.shape
        x_in = torch.from_numpy(np.where(hidden, 0.0, X).astype(np.float32))
        y = torch.from_numpy(X)
        val_cells = np.arange(n)[np.arange(n) % 10 == 0]
        train_cells = np.setdiff1d(np.arange(n), val_cells)
        seed_everything(seed)
        model = TinyGCN(g)
        ddp = wrap_ddp(model)
        opt = torch.optim.Adam(model.parameters(), lr=0.02)
        loader = NeighborhoodLoader(An, batch_size=batch_size, n_hops=1, cells=train_cells,
                                    seed=seed)

        def train_epoch(epoch):
            model.train()
            loader.set_epoch(epoch)
            tot, cnt = 0.0, 0
            for b in loader:
                pred = ddp(x_in[b.nodes], b.adj_tensor())[: b.n_targets]
                loss = ((pred - y[b.targets]) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                tot += float(loss.detach()) * b.n_targets
                cnt += b.n_targets
            return reduce_dict({"loss": tot / cnt}, weight=cnt)

        def validate():
            pred = predict_in_chunks(lambda b: model(x_in[b.nodes], b.adj_tensor())[: b.n_targets],
                                     An, chunk_size=100, progress_desc=None)
            err = (pred - X) ** 2
            m = hidden[val_cells]
            return reduce_dict({"val_loss": float(err[val_cells][m].mean())})

        history = fit(model, opt, train_epoch, max_epochs=epochs, validate=validate,
                      patience=None)
        result = {
            "world_size": ctx.world_size,
            "val_loss": history.records[-1]["val_loss"],
            "losses": [r["loss"] for r in history.records],
            "params": {k: v.detach().numpy().ravel().tolist()
                       for k, v in model.state_dict().items()},
        }
        if out is not None and is_main_process():
            with open(out, "w") as fh:
                json.dump(result, fh)
    return result


if __name__ == "__main__":
    train(sys.argv[1] if len(sys.argv) > 1 else None)
