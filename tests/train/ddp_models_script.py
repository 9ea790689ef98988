"""Train gnngeno's models with ``distributed=True``; run by ``tests/train/test_distributed.py``
once in-process (one process) and once under ``torchrun --standalone --nproc_per_node=2``.

Usage: python -m torch.distributed.run --standalone --nproc_per_node=2 ddp_models_script.py OUT.json
"""

from __future__ import annotations

import json
import sys


def train(out: str | None = None) -> dict:
    import torch

    import gnngeno as gg
    from gnngeno.train import distributed, is_main_process

    torch.set_num_threads(1)
    result: dict = {}
    with distributed(device="cpu") as ctx:
        adata, net = gg.datasets.simulate(n_cells=240, n_genes=40, n_tfs=4, seed=0)
        imp = gg.models.GraphImputer(adata, layer=None, n_neighbors=8, n_hidden=32,
                                     n_latent=8, dropout=0.0, transformer="sklearn", seed=0)
        imp.train(max_epochs=4, batch_size=64, patience=None, device="cpu", distributed=True)
        emb = gg.models.Embedder(adata, kind="ae", n_latent=4, n_hidden=32, dropout=0.0,
                                 batch_norm=False, seed=0, device="cpu")
        emb.train(max_epochs=4, batch_size=64, early_stopping=False, distributed=True)
        grn = gg.models.GRNPredictor(adata, dropout=0.0, seed=0)
        grn.train(net, max_epochs=5, patience=None, device="cpu", distributed=True)
        result = {
            "world_size": ctx.world_size,
            "imputer": imp.history["val_loss"].tolist(),
            "imputer_loss": imp.history["loss"].tolist(),
            "embedder": emb.history["val_loss"].tolist(),
            "imputed_head": imp.get_imputed()[:5].ravel().tolist(),
            "grn_loss": grn.history["loss"].tolist(),
        }
        if out is not None and is_main_process():
            with open(out, "w") as fh:
                json.dump(result, fh)
    return result


if __name__ == "__main__":
    train(sys.argv[1] if len(sys.argv) > 1 else None)
