"""Training runs compared between one process and ``torchrun --nproc_per_node=2``; run by
``tests/train/test_distributed.py`` once in-process (one process) and once under
``python -m torch.distributed.run --standalone --nproc_per_node=2 ddp_script.py OUT.json``.

- ``gcn``: a small mini-batch GCN trained with gnngeno's helpers directly
  (:class:`~gnngeno.data.NeighborhoodLoader`, :func:`~gnngeno.train.wrap_ddp`,
  :func:`~gnngeno.train.reduce_dict`, :func:`~gnngeno.train.fit`): with each process taking
  half of every batch it must reproduce the one-process run up to rounding;
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


def train_gcn(*, epochs: int = 6, batch_size: int = 48, seed: int = 0) -> dict:
    from gnngeno._settings import seed_everything
    from gnngeno.data import NeighborhoodLoader, predict_in_chunks
    from gnngeno.train import fit, get_world_size, reduce_dict, wrap_ddp

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
    loader = NeighborhoodLoader(An, batch_size=batch_size, n_hops=1, cells=train_cells, seed=seed)

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
        err = ((pred - X) ** 2)[val_cells][hidden[val_cells]]
        return reduce_dict({"val_loss": float(err.mean())})

    history = fit(model, opt, train_epoch, max_epochs=epochs, validate=validate, patience=None)
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
