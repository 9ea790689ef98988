"""Training runs compared between one process and ``torchrun --nproc_per_node=2``; run by
``tests/train/test_distributed.py`` once in-process (one process) and once under
``python -m torch.distributed.run --standalone --nproc_per_node=2 ddp_script.py OUT.json``.

- ``gcn``: a small mini-batch GCN on :class:`~gnngeno.train.TrainingPlan` with its own data
  (:func:`~gnngeno.data.cell_batches`, :func:`~gnngeno.data.neighbourhood`): with each
  process taking half of every batch it must reproduce the one-process run up to rounding;
- ``models``: GraphImputer, Embedder and GRNPredictor with ``distributed=True``.
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
        from gnngeno.nn import propagate

        return self.lin_out(torch.relu(propagate(adj, self.lin_in(x))))

    def loss(self, x, adj, y, n_targets: int):
        """Squared error on the first ``n_targets`` nodes (the targets; the rest is halo)."""
        return {"loss": ((self(x, adj)[:n_targets] - y) ** 2).mean()}


class GCNData:
    """Every step's batch of target cells is drawn alike in all processes; each process trains
    on its share (every ``world_size``-th target) with the targets' one-hop neighbourhood."""

    has_validation = True

    def __init__(self, module, X, An, hidden, *, batch_size: int, seed: int, rank: int,
                 world_size: int) -> None:
        n = X.shape[0]
        self.module, self.X, self.An, self.hidden = module, X, An, hidden
        self.x_in = torch.from_numpy(np.where(hidden, 0.0, X).astype(np.float32))
        self.y = torch.from_numpy(X)
        self.val_cells = np.arange(n)[np.arange(n) % 10 == 0]
        self.train_cells = np.setdiff1d(np.arange(n), self.val_cells)
        self.batch_size, self.rank, self.world_size = batch_size, rank, world_size
        self.generator = torch.Generator().manual_seed(seed)

    def batches(self, epoch: int):
        from gnngeno.data import cell_batches, neighbourhood
        from gnngeno.nn import to_torch_csr
        from gnngeno.train import Batch

        for b in cell_batches(len(self.train_cells), self.batch_size, generator=self.generator):
            targets = self.train_cells[b]
            own = targets[self.rank::self.world_size]
            nodes, sub = neighbourhood(self.An, own, 1)
            yield Batch({"x": self.x_in[nodes], "adj": to_torch_csr(sub), "y": self.y[own],
                         "n_targets": len(own)}, n=len(own), n_total=len(targets))

    def validate(self) -> dict:
        from gnngeno.nn import to_torch_csr

        self.module.eval()
        with torch.no_grad():
            pred = self.module(self.x_in, to_torch_csr(self.An)).numpy()
        err = ((pred - self.X) ** 2)[self.val_cells][self.hidden[self.val_cells]]
        return {"val_loss": float(err.mean())}


def train_gcn(*, epochs: int = 6, batch_size: int = 48, seed: int = 0) -> dict:
    from gnngeno.train import TrainingPlan, get_world_size

    X, An, hidden = make_problem(seed=seed)
    torch.manual_seed(seed)
    model = TinyGCN(X.shape[1])
    plan = TrainingPlan(model, max_epochs=epochs, lr=0.02, patience=None, device="cpu",
                        distributed=True, desc="gcn")
    ctx = plan.setup()
    data = GCNData(model, X, An, hidden, batch_size=batch_size, seed=seed, rank=ctx.rank,
                   world_size=ctx.world_size)
    history = plan.run(data)
    return {"world_size": get_world_size(), "val_loss": history.records[-1]["val_loss"],
            "losses": [r["loss"] for r in history.records],
            "params": {k: v.detach().numpy().ravel().tolist()
                       for k, v in model.state_dict().items()}}


def train_models() -> dict:
    from sklearn.neighbors import kneighbors_graph

    import gnngeno as gg

    adata, net = gg.datasets.simulate(n_cells=160, n_genes=30, n_tfs=4, seed=0)
    # a plain kNN graph (scanpy's UMAP weights would compile numba code in every process)
    X = adata.X.toarray() if sp.issparse(adata.X) else np.asarray(adata.X)
    adata.obsp["knn_connectivities"] = kneighbors_graph(np.log1p(X), 8).tocsr()
    imp = gg.models.GraphImputer(adata, layer=None, graph_key="knn", n_hidden=16, n_latent=8,
                                 dropout=0.0, seed=0)
    imp.train(max_epochs=3, batch_size=64, patience=None, device="cpu", distributed=True)
    emb = gg.models.Embedder(adata, kind="ae", n_latent=4, n_hidden=16, dropout=0.0,
                             batch_norm=False, seed=0, device="cpu")
    emb.train(max_epochs=3, batch_size=64, early_stopping=False, distributed=True)
    # graph autoencoder on mini-batches of the SGC propagation (nodes and edges split)
    gae = gg.models.Embedder(adata, kind="gae", n_latent=4, n_hidden=16, dropout=0.0,
                             batch_norm=False, graph_key="knn", seed=0, device="cpu")
    gae.train(max_epochs=3, batch_size=64, early_stopping=False, distributed=True)
    grn = gg.models.GRNPredictor(adata, dropout=0.0, hidden_dim=16, out_dim=8, seed=0)
    grn.train(net, max_epochs=4, patience=None, device="cpu", distributed=True)
    return {"imputer_val_loss": imp.history["val_loss"].tolist(),
            "imputer_loss": imp.history["loss"].tolist(),
            "imputed_head": imp.get_imputed()[:5].ravel().tolist(),
            "embedder_val_loss": emb.history["val_loss"].tolist(),
            "gae_val_loss": gae.history["val_loss"].tolist(),
            "grn_loss": grn.history["loss"].tolist()}


def main(out: str | None = None, *, models: bool = True) -> dict:
    from gnngeno.train import distributed, is_main_process

    torch.set_num_threads(1)
    with distributed(device="cpu") as ctx:
        result = {"world_size": ctx.world_size, "gcn": train_gcn()}
        if models:
            result["models"] = train_models()
        if out is not None and is_main_process():
            with open(out, "w") as fh:
                json.dump(result, fh)
    return result


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None, models="--no-models" not in sys.argv)
