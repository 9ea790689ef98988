"""GPU paths: ``device="auto"`` picks CUDA, the models train on CUDA and write finite results
into AnnData that agree with the CPU run, a resumed GPU run repeats the uninterrupted one, and
``distributed=True`` under torchrun uses nccl.

Skipped where torch sees no CUDA GPU (CI). nccl refuses two processes on one GPU, so the nccl
test runs ``torchrun --nproc_per_node=1``; gnngeno treats a one-process run as not distributed
(no process group, no DDP), so this file, run as that torchrun script, creates the nccl group
itself and makes :func:`gnngeno.train.is_distributed` answer ``True`` for it: the models then
take their distributed path (DDP wrapping, nccl all-reduce of gradients and logged values,
gather and broadcast through nccl), which must reproduce the plain GPU run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="needs a CUDA GPU (torch.cuda.is_available() is False); run it on a GPU machine")

TORCHRUN_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
                 "MASTER_PORT", "GROUP_RANK", "TORCHELASTIC_RUN_ID")


def _data():
    """Small simulated counts with a plain kNN cell graph in ``.obsp["knn_connectivities"]``."""
    import scipy.sparse as sp
    from sklearn.neighbors import kneighbors_graph

    import gnngeno as gg

    adata, net = gg.datasets.simulate(n_cells=160, n_genes=30, n_tfs=4, seed=0)
    X = adata.X.toarray() if sp.issparse(adata.X) else np.asarray(adata.X)
    adata.obsp["knn_connectivities"] = kneighbors_graph(np.log1p(X), 8).tocsr()
    return adata, net


def _on(module: torch.nn.Module) -> str:
    return next(module.parameters()).device.type


def train_models(device: str, *, distributed: bool = False) -> dict:
    """GraphImputer, Embedder ("vae", "gae") and GRNPredictor, small and seeded, on ``device``;
    returns their histories, outputs and where their parameters were after training."""
    import gnngeno as gg

    adata, net = _data()
    res: dict = {}
    imp = gg.models.GraphImputer(adata, layer="counts", graph_key="knn", n_hidden=16,
                                 n_latent=8, dropout=0.0, seed=0)
    imp.train(max_epochs=3, batch_size=64, patience=None, device=device, distributed=distributed)
    res["imputer_on"] = _on(imp.module)
    res["imputer_val_loss"] = imp.history["val_loss"].tolist()
    res["imputer_loss"] = imp.history["loss"].tolist()
    res["imputed"] = imp.get_imputed(device=device).tolist()
    for kind in ("vae", "gae"):
        emb = gg.models.Embedder(adata, kind, layer="counts", graph_key="knn", n_latent=4,
                                 n_hidden=16, dropout=0.0, batch_norm=False, seed=0,
                                 device=device)
        emb.train(max_epochs=3, batch_size=64, early_stopping=False, distributed=distributed)
        res[f"{kind}_on"] = _on(emb.module)
        res[f"{kind}_val_loss"] = emb.history["val_loss"].tolist()
        res[f"{kind}_loss"] = emb.history["loss"].tolist()
        res[f"{kind}_latent"] = emb.get_latent().tolist()
    grn = gg.models.GRNPredictor(adata, dropout=0.0, hidden_dim=16, out_dim=8, seed=0)
    grn.train(net, max_epochs=4, patience=None, device=device, distributed=distributed)
    res["grn_loss"] = grn.history["loss"].tolist()
    res["grn_scores"] = grn.get_scores().tolist()
    return res


@pytest.fixture(scope="module")
def cpu_run():
    return train_models("cpu")


@pytest.fixture(scope="module")
def gpu_run():
    return train_models("cuda")


def test_auto_device_is_cuda(monkeypatch):
    from gnngeno import settings
    from gnngeno.train import init_distributed

    assert settings.torch_device("auto").type == "cuda"
    monkeypatch.setattr(settings, "_device", "auto")
    assert settings.torch_device().type == "cuda"  # the default setting
    for v in TORCHRUN_VARS:
        monkeypatch.delenv(v, raising=False)
    ctx = init_distributed()  # plain run: no group, but the GPU of local rank 0
    assert ctx.world_size == 1 and ctx.backend is None
    assert ctx.device == torch.device("cuda", 0)


def test_models_train_on_cuda(gpu_run):
    """Every model computes on the GPU (the GRNPredictor moves itself back to the CPU after
    training, by design) and learns: finite outputs, losses that go down."""
    r = gpu_run
    assert (r["imputer_on"], r["vae_on"], r["gae_on"]) == ("cuda", "cuda", "cuda")
    for k in ("imputed", "vae_latent", "gae_latent", "grn_scores"):
        assert np.isfinite(r[k]).all(), k
    assert np.asarray(r["imputed"]).shape == (160, 30)
    assert np.asarray(r["vae_latent"]).shape == (160, 4)
    assert r["imputer_val_loss"][-1] < r["imputer_val_loss"][0]
    assert r["gae_loss"][-1] < r["gae_loss"][0]
    assert r["grn_loss"][-1] < r["grn_loss"][0]


def test_cuda_matches_cpu(cpu_run, gpu_run):
    """The same seeded training on GPU and CPU: all random draws that decide the data (masks,
    batches, negatives) are taken on the CPU, so only rounding differs, except the VAE's
    sampling noise, drawn on the device (its losses agree loosely)."""
    c, g = cpu_run, gpu_run
    for k in ("imputer_val_loss", "imputer_loss", "gae_val_loss", "gae_loss", "grn_loss"):
        print(k, "max rel diff", np.max(np.abs(np.subtract(g[k], c[k])) / np.abs(c[k])))
        np.testing.assert_allclose(g[k], c[k], rtol=5e-3, err_msg=k)
    print("imputed max abs diff", np.max(np.abs(np.subtract(g["imputed"], c["imputed"]))))
    np.testing.assert_allclose(g["imputed"], c["imputed"], rtol=0.01, atol=0.01)
    np.testing.assert_allclose(g["gae_latent"], c["gae_latent"], rtol=0.05, atol=0.05)
    np.testing.assert_allclose(g["grn_scores"], c["grn_scores"], rtol=0.01, atol=0.01)
    print("vae val_loss", c["vae_val_loss"], g["vae_val_loss"])
    np.testing.assert_allclose(g["vae_val_loss"], c["vae_val_loss"], rtol=0.01)


def test_tl_writes_gpu_results_into_anndata():
    """The one-liners with device="cuda" write numpy float32 results into AnnData."""
    import gnngeno as gg

    adata, net = _data()
    gg.tl.impute(adata, graph_key="knn", max_epochs=2, batch_size=64, device="cuda",
                 model_kwargs={"n_hidden": 16, "n_latent": 8})
    imp = adata.layers["gnngeno_imputed"]
    assert isinstance(imp, np.ndarray) and imp.dtype == np.float32 and np.isfinite(imp).all()
    for kind in ("vae", "gae"):
        gg.tl.embed(adata, kind=kind, layer="counts", graph_key="knn", n_latent=4, n_hidden=16,
                    max_epochs=2, device="cuda", key_added=f"X_{kind}")
        z = adata.obsm[f"X_{kind}"]
        assert isinstance(z, np.ndarray) and z.shape == (160, 4) and np.isfinite(z).all()
    gg.tl.infer_grn(adata, prior=net, max_epochs=3, patience=None,
                    model_kwargs={"hidden_dim": 16, "out_dim": 8},
                    train_kwargs={"device": "cuda"})
    S = adata.varp["gnngeno_grn"]
    assert np.isfinite(S.data).all() and S.nnz > 0


def resume_vs_full(device: str, ckpt: Path) -> tuple[list, list]:
    """Losses of a seeded VAE trained 4 epochs at once, and 2 epochs then resumed to 4."""
    from gnngeno.models import Embedder

    adata, _ = _data()

    def run(epochs: int, resume: bool) -> list:
        m = Embedder(adata, "vae", layer="counts", n_latent=4, n_hidden=16, dropout=0.0,
                     batch_norm=False, seed=0, device=device)
        m.train(max_epochs=epochs, batch_size=64, early_stopping=False, kl_warmup=2,
                checkpoint_path=str(ckpt), resume=resume)
        return m.history["loss"].tolist()

    full = run(4, False)
    run(2, False)
    return full, run(4, True)


def test_resume_on_cuda_continues_the_gpu_random_stream(tmp_path):
    """The VAE draws its noise on the GPU: a resumed run repeats the uninterrupted one only if
    the checkpoint restores the CUDA random state too (else epochs 3-4 reuse the noise of
    epochs 1-2)."""
    full, resumed = resume_vs_full("cuda", tmp_path / "ckpt.pt")
    print("resume max rel diff", np.max(np.abs(np.subtract(resumed, full)) / np.abs(full)))
    np.testing.assert_allclose(resumed, full, rtol=1e-4)


def test_nccl_torchrun_matches_plain_gpu_run(gpu_run, tmp_path):
    """``torchrun --nproc_per_node=1`` running this file: nccl process group, the models'
    distributed path (DDP on the GPU), same results as the plain GPU run."""
    out = tmp_path / "nccl.json"
    env = dict(os.environ, OMP_NUM_THREADS="1", GNNGENO_NO_PROGRESS="1")
    for v in TORCHRUN_VARS:
        env.pop(v, None)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[2])] + [p for p in [env.get("PYTHONPATH")] if p])
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1",
           __file__, str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"torchrun failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    d = json.loads(out.read_text())
    assert d["plain_ctx"] == [1, None]  # one process: gnngeno alone creates no group
    assert d["backend"] == "nccl" and d["world_size"] == 1
    assert d["ddp_type"] == "DistributedDataParallel"
    assert d["reduce"] == {"a": 2.0, "b": 1.0}
    assert d["gather"] == [7.0, 5.0] and d["bcast"] == {"x": [1, 2]}
    m, g = d["models"], gpu_run
    assert (m["imputer_on"], m["vae_on"], m["gae_on"]) == ("cuda", "cuda", "cuda")
    for k in ("imputer_val_loss", "imputer_loss", "vae_val_loss", "gae_val_loss", "grn_loss"):
        print(k, "max rel diff", np.max(np.abs(np.subtract(m[k], g[k])) / np.abs(g[k])))
        np.testing.assert_allclose(m[k], g[k], rtol=1e-3, err_msg=k)
    np.testing.assert_allclose(m["imputed"], g["imputed"], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(m["grn_scores"], g["grn_scores"], rtol=1e-3, atol=1e-3)


def _nccl_main(out: str) -> None:
    """Under ``torchrun --nproc_per_node=1``: nccl group, collectives, distributed training."""
    import torch.distributed as dist

    import gnngeno.train as T

    torch.set_num_threads(1)
    plain = T.init_distributed(device="cuda")  # world size 1: no group
    res: dict = {"plain_ctx": [plain.world_size, plain.backend]}
    dev = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    torch.cuda.set_device(dev)
    dist.init_process_group("nccl", device_id=dev)
    # the one deliberate reach inside gnngeno: a one-process group counts as distributed
    # here, so that the models take their DDP path on a single GPU (no public switch exists)
    from gnngeno.train import _distributed

    _distributed.is_distributed = lambda: dist.is_available() and dist.is_initialized()
    ctx = T.init_distributed(device="cuda")  # the existing group
    res.update(backend=ctx.backend, world_size=ctx.world_size)
    res["ddp_type"] = type(T.wrap_ddp(torch.nn.Linear(2, 2).to(dev))).__name__
    res["reduce"] = T.reduce_dict({"a": 2.0, "b": 1.0}, weight=3)
    res["gather"] = T.gather_arrays(np.array([1, 0]), np.array([5.0, 7.0]), 2).tolist()
    res["bcast"] = T.broadcast_object({"x": [1, 2]})
    res["models"] = train_models("cuda", distributed=True)
    T.barrier()
    if T.is_main_process():
        Path(out).write_text(json.dumps(res))
    T.cleanup()


if __name__ == "__main__":
    _nccl_main(sys.argv[1])
