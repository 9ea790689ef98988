"""Settings: seeding repeats random draws; invalid values are refused."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import gnngeno as gg


def test_seed_repeats_python_numpy_torch():
    gg.settings.seed = 123
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    gg.settings.seed = 123
    b = (random.random(), np.random.rand(), torch.rand(1).item())
    assert a == b
    gg.settings.seed = 0


@pytest.mark.parametrize("bad", [-1, 1.5, "7", True])
def test_seed_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="settings.seed"):
        gg.settings.seed = bad


def test_verbosity_and_device():
    gg.settings.verbosity = "info"
    assert gg.settings.verbosity == "info"
    gg.settings.verbosity = 1
    assert gg.settings.verbosity == "warning"
    with pytest.raises(ValueError, match="verbosity"):
        gg.settings.verbosity = "loud"
    with pytest.raises(ValueError, match="device"):
        gg.settings.device = "tpu"
    gg.settings.device = "auto"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert gg.settings.torch_device().type == expected
    assert gg.settings.torch_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA"):
            gg.settings.torch_device("cuda")


def test_cell_graph_leaves_torch_threads_as_set():
    """scanpy's sklearn neighbour search used to leave torch's pool at another size."""
    import anndata as ad

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        rep = np.random.default_rng(0).random((60, 5), dtype=np.float32)
        a = ad.AnnData(X=rep, obsm={"rep": rep})
        gg.gr.cell_graph(a, use_rep="rep", n_neighbors=5, transformer="sklearn")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
