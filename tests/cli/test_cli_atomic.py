"""No loss: outputs are never half-written, interrupted training resumes from its last
checkpoint, and checkpoints record the package version, the parameters and the gene order."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

import gnngeno as gg
from gnngeno.cli import main
from gnngeno.datasets import simulate
from gnngeno.train import save_atomic


@pytest.fixture(autouse=True)
def _one_thread_cpu():
    n, device = torch.get_num_threads(), gg.settings.device
    torch.set_num_threads(1)
    gg.settings.device = "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
    torch.set_num_threads(n)
    gg.settings.device = device


def _leftovers(folder: Path, name: str) -> list[str]:
    """Temporary files or folders that a write of ``name`` could have left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}"))


# ------------------------------------------------------------------------------ CLI outputs
@functools.lru_cache(maxsize=1)
def _small():
    return simulate(n_cells=30, n_genes=12, n_tfs=3, seed=0)


def _ring(n: int) -> sp.csr_matrix:
    ring = sp.csr_matrix((np.ones(n, np.float32), (np.arange(n), (np.arange(n) + 1) % n)),
                         shape=(n, n))
    return (ring + ring.T).tocsr()


def _expr_csv(folder: Path) -> Path:
    adata, _ = _small()
    path = folder / "expr.csv"
    pd.DataFrame(adata.layers["counts"].toarray().T, index=adata.var_names,
                 columns=adata.obs_names).to_csv(path)
    return path


def _input_h5ad(folder: Path) -> Path:
    """The small counts with a ring cell graph in .obsp, which ``gnngeno impute`` reuses (no
    kNN search: keeps the tests fast)."""
    adata, _ = _small()
    a = adata.copy()
    a.obsp["connectivities"] = _ring(a.n_obs)
    path = folder / "in.h5ad"
    a.write_h5ad(path)
    return path


def _argv(command: str, src: Path, out: Path) -> list[str]:
    return {"embed": ["embed", str(src), str(out), "--kind", "ae", "--max-epochs", "1",
                      "--n-latent", "2"],
            "impute": ["impute", str(src), str(out), "--max-epochs", "1"]}[command]


def _fail_h5ad_write(monkeypatch, error: BaseException):
    """Make ``AnnData.write_h5ad`` write half a file and then raise ``error``."""
    real = ad.AnnData.write_h5ad

    def half(self, filename, *args, **kwargs):
        if not Path(filename).name.startswith("."):  # the input file written by the test
            return real(self, filename, *args, **kwargs)
        Path(filename).write_bytes(b"\x89HDF\r\n half")
        raise error

    monkeypatch.setattr(ad.AnnData, "write_h5ad", half)


@pytest.mark.parametrize("command", ["embed", "impute"])
@pytest.mark.parametrize("previous", [True, False], ids=["over_previous", "new_folder"])
def test_cli_h5ad_output_is_never_half_written(tmp_path, monkeypatch, capsys, command,
                                               previous):
    src = _input_h5ad(tmp_path)
    out = tmp_path / "result.h5ad" if previous else tmp_path / "sub" / "result.h5ad"
    if previous:
        out.write_bytes(b"previous result")
    _fail_h5ad_write(monkeypatch, OSError("No space left on device"))
    capsys.readouterr()
    assert main(_argv(command, src, out)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert all(line.startswith("gnngeno: ") for line in err), err  # warnings, then the error
    errors = [line for line in err if line.startswith("gnngeno: error: ")]
    assert len(errors) == 1 and "No space left on device" in errors[0]
    if previous:
        assert out.read_bytes() == b"previous result"
    else:
        assert not out.exists()
    assert _leftovers(out.parent, out.name) == []


def test_cli_interrupted_write_leaves_no_partial_file(tmp_path, monkeypatch, capsys):
    src = _input_h5ad(tmp_path)
    out = tmp_path / "result.h5ad"
    _fail_h5ad_write(monkeypatch, KeyboardInterrupt())
    assert main(_argv("impute", src, out)) == 130  # the shell's code for Ctrl-C
    err = capsys.readouterr().err
    assert "Traceback" not in err and "gnngeno: interrupted" in err
    assert not out.exists() and _leftovers(tmp_path, out.name) == []


def test_cli_output_replaces_previous_with_normal_permissions(tmp_path):
    import os

    src = _input_h5ad(tmp_path)
    out = tmp_path / "result.h5ad"
    out.write_bytes(b"previous result")
    assert main(_argv("impute", src, out)) == 0
    assert ad.read_h5ad(out).layers["gnngeno_imputed"].shape == (30, 12)
    assert _leftovers(tmp_path, out.name) == []
    umask = os.umask(0)
    os.umask(umask)
    assert (out.stat().st_mode & 0o777) == (0o666 & ~umask)


def test_cli_grn_table_is_never_half_written(tmp_path, monkeypatch, capsys):
    adata, net = _small()
    expr = _expr_csv(tmp_path)
    (tmp_path / "tfs.txt").write_text("TF000\nTF001\nTF002\n")
    net.to_csv(tmp_path / "prior.tsv", sep="\t", index=False)
    out = tmp_path / "edges.tsv"
    real_to_csv = pd.DataFrame.to_csv

    def half(self, path=None, *args, **kwargs):
        if path is not None and Path(path).name.startswith(".edges.tsv"):
            Path(path).write_text("source\ttarget\tscore\nTF000\tG00")
            raise OSError("disk quota exceeded")
        return real_to_csv(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", half)
    code = main(["grn", "--expression", str(expr), "--tfs", str(tmp_path / "tfs.txt"),
                 "--prior", str(tmp_path / "prior.tsv"), "--out", str(out), "--max-epochs", "1"])
    assert code == 1
    assert "disk quota exceeded" in capsys.readouterr().err
    assert not out.exists() and _leftovers(tmp_path, out.name) == []


def test_model_save_failure_keeps_previous_model_and_no_temp(tmp_path, monkeypatch):
    m = gg.models.SequenceModel(n_filters=2, filter_size=3, hidden=0, seed=0)
    folder = tmp_path / "model"
    m.save(folder)
    before = (folder / "model.pt").read_bytes()

    def half_save(obj, f, *args, **kwargs):
        Path(f).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", half_save)
    with pytest.raises(OSError, match="disk full"):
        m.save(folder, overwrite=True)
    with pytest.raises(OSError, match="disk full"):
        m.save(tmp_path / "new_model")
    assert (folder / "model.pt").read_bytes() == before
    assert not (tmp_path / "new_model").exists()
    assert _leftovers(tmp_path, "model") == [] and _leftovers(tmp_path, "new_model") == []


def test_checkpoint_write_failure_keeps_previous_checkpoint(tmp_path, monkeypatch):
    ckpt = tmp_path / "ckpt.pt"
    save_atomic({"epoch": 1}, ckpt)
    real_save = torch.save

    def half_save(obj, f, *args, **kwargs):
        Path(f).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", half_save)
    with pytest.raises(OSError):
        save_atomic({"epoch": 2}, ckpt)
    monkeypatch.setattr(torch, "save", real_save)
    assert torch.load(ckpt, weights_only=False) == {"epoch": 1}
    assert _leftovers(tmp_path, ckpt.name) == []


# ------------------------------------------------------------------------------ resume
class Interrupt(KeyboardInterrupt):
    pass


def _interrupt_at(monkeypatch, module_name: str, epoch: int) -> None:
    """Make the training loop used by ``module_name`` (the training plan of every model) die
    (Ctrl-C) when ``epoch`` starts."""
    import importlib

    mod = importlib.import_module(module_name)
    real_fit = mod.fit

    def fit(module, optimizer, train_epoch, **kwargs):
        def dying(e):
            if e == epoch:
                raise Interrupt
            return train_epoch(e)

        return real_fit(module, optimizer, dying, **kwargs)

    monkeypatch.setattr(mod, "fit", fit)


def _ring_adata():
    adata, net = _small()
    adata = adata.copy()
    adata.obsp["ring_connectivities"] = _ring(adata.n_obs)
    return adata, net


def _grn(adata, net, **train):
    m = gg.models.GRNPredictor(adata, n_hidden=8, n_latent=4, n_pcs=4, seed=3)
    m.train(net, max_epochs=4, patience=None, **train)
    return m, [m.get_scores()]


def _imputer(adata, net, **train):
    m = gg.models.GraphImputer(adata, graph_key="ring", n_hidden=8, n_latent=4, seed=3)
    m.train(max_epochs=4, batch_size=16, patience=None, **train)
    return m, [m.get_imputed()]


def _embedder(adata, net, **train):
    m = gg.models.Embedder(adata, kind="vae", layer="counts", n_latent=2, n_hidden=8, seed=3)
    m.train(max_epochs=4, batch_size=16, early_stopping=False, **train)
    return m, [m.get_latent()]


def _sequence(adata, net, **train):
    seqs, y, _ = gg.data.simulate_sequences(30, 20, motif="TGACG", seed=0)
    m = gg.models.SequenceModel(n_filters=4, filter_size=5, hidden=4, seed=3)
    m.train(seqs, y, max_epochs=4, batch_size=8, patience=None, **train)
    return m, [m.predict(seqs)]


MODELS = {
    "GRNPredictor": ("gnngeno.train._plan", _grn),
    "GraphImputer": ("gnngeno.train._plan", _imputer),
    "Embedder": ("gnngeno.train._plan", _embedder),
    "SequenceModel": ("gnngeno.train._plan", _sequence),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_interrupted_training_resumes_from_checkpoint(name, tmp_path, monkeypatch):
    module_name, run = MODELS[name]
    adata, net = _ring_adata()
    _, straight = run(adata, net)

    ckpt = tmp_path / f"{name}.ckpt"
    with monkeypatch.context() as mp:
        _interrupt_at(mp, module_name, epoch=2)
        with pytest.raises(Interrupt):
            run(adata, net, checkpoint_path=str(ckpt))
    assert ckpt.exists(), "no checkpoint survived the interruption"
    saved = torch.load(ckpt, map_location="cpu", weights_only=False)
    assert saved["epoch"] == 1  # the last finished epoch

    model, resumed = run(adata, net, checkpoint_path=str(ckpt), resume=True)
    assert len(model.history_) == 4
    assert [r["epoch"] for r in model.history_.records] == [0, 1, 2, 3]
    for a, b in zip(straight, resumed, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6,
                                   err_msg=f"{name}: resumed training differs from a straight run")


@pytest.mark.parametrize("name", list(MODELS))
def test_checkpoint_records_version_parameters_and_genes(name, tmp_path):
    _, run = MODELS[name]
    adata, net = _ring_adata()
    ckpt = tmp_path / "c.pt"
    model, _ = run(adata, net, checkpoint_path=str(ckpt))
    saved = torch.load(ckpt, map_location="cpu", weights_only=False)
    assert saved["version"] == gg.__version__
    meta = saved["metadata"]
    assert isinstance(meta.get("params"), dict) and meta["params"], (
        f"{name}: the checkpoint does not record the model parameters (metadata: {list(meta)})")
    assert meta["params"].get("seed") == 3
    if model.var_names is not None:
        assert list(meta["var_names"]) == list(adata.var_names)


def test_resume_refuses_a_checkpoint_of_other_genes(tmp_path):
    adata, net = _ring_adata()
    ckpt = tmp_path / "c.pt"
    _embedder(adata, net, checkpoint_path=str(ckpt))
    other = adata[:, ::-1].copy()
    with pytest.raises(ValueError, match="other genes.*delete it or pass resume=False"):
        _embedder(other, net, checkpoint_path=str(ckpt), resume=True)
