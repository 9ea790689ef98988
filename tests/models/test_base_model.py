"""BaseModel: save/load round trip, gene-order check, atomic saving."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import torch

from gnngeno import InputError
from gnngeno.models import BaseModel


class _Toy(BaseModel):
    def __init__(self, adata, hidden: int = 3):
        super().__init__(adata)
        self.module = torch.nn.Linear(adata.n_vars, hidden)
        self._init_params = {"hidden": hidden}


def _adata(genes):
    return ad.AnnData(X=np.ones((2, len(genes)), dtype=np.float32),
                      var=pd.DataFrame(index=genes))


def test_save_load_roundtrip(tmp_path):
    a = _adata(["g1", "g2", "g3"])
    m = _Toy(a, hidden=4)
    m.is_trained_ = True
    m.save(tmp_path / "m")
    m2 = _Toy.load(tmp_path / "m", a)
    assert m2.module.out_features == 4 and m2.is_trained_  # rebuilt with the saved options
    assert repr(m2) == "_Toy(3 genes, hidden=4; trained=True)"
    assert torch.equal(m.module.weight, m2.module.weight)
    with pytest.raises(FileExistsError):
        m.save(tmp_path / "m")
    m.save(tmp_path / "m", overwrite=True)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_load_refuses_other_genes(tmp_path):
    m = _Toy(_adata(["g1", "g2", "g3"]))
    m.save(tmp_path / "m")
    with pytest.raises(InputError, match="missing"):
        _Toy.load(tmp_path / "m", _adata(["g1", "g2", "x"]))
    with pytest.raises(InputError, match="another order"):
        _Toy.load(tmp_path / "m", _adata(["g3", "g2", "g1"]))
    with pytest.raises(InputError, match="needs the AnnData"):
        _Toy.load(tmp_path / "m")
    with pytest.raises(FileNotFoundError):
        _Toy.load(tmp_path / "nothing", _adata(["g1"]))


class _DeviceToy(_Toy):
    def __init__(self, adata, hidden: int = 3, device=None):
        from gnngeno import settings

        settings.torch_device(device)  # raises when a CUDA device is asked for without a GPU
        super().__init__(adata, hidden)
        self._init_params = {"hidden": hidden, "device": device}


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks loading without a GPU")
def test_model_saved_on_gpu_loads_without_one(tmp_path):
    a = _adata(["g1", "g2"])
    m = _DeviceToy(a, hidden=2)
    m.save(tmp_path / "m")
    payload = torch.load(tmp_path / "m" / "model.pt", weights_only=False)
    payload["init_params"]["device"] = "cuda"  # as saved by a GPU run
    torch.save(payload, tmp_path / "m" / "model.pt")
    with pytest.raises(Exception, match="(?i)cuda"):
        _DeviceToy(a, hidden=2, device="cuda")
    loaded = _DeviceToy.load(tmp_path / "m", a)
    assert "device=None" in repr(loaded)  # rebuilt on settings.device
    torch.testing.assert_close(loaded.module.weight, m.module.weight)
