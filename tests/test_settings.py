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


def test_lazy_submodules_and_names():
    assert callable(gg.tl.infer_grn) and callable(gg.tl.impute) and callable(gg.tl.embed)
    assert issubclass(gg.InputError, ValueError)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        gg.nope  # noqa: B018
    assert {"tl", "models", "settings"} <= set(dir(gg))


def test_n_threads_applies_to_torch_and_validates(monkeypatch):
    before = torch.get_num_threads()
    try:
        gg.settings.n_threads = 2
        assert gg.settings.n_threads == 2 and torch.get_num_threads() == 2
        gg.settings.n_threads = 1
        assert torch.get_num_threads() == 1
        gg.settings.n_threads = None  # leave torch alone
        torch.set_num_threads(2)
        gg.settings.apply_threads()
        assert gg.settings.n_threads is None and torch.get_num_threads() == 2
        monkeypatch.setenv("OMP_NUM_THREADS", "3")
        gg.settings.n_threads = "auto"
        assert gg.settings.n_threads == 3 and torch.get_num_threads() == 3
        monkeypatch.delenv("OMP_NUM_THREADS")
        assert 1 <= gg.settings.n_threads <= 8
        for bad in (0, -2, 1.5, "four", True):
            with pytest.raises(ValueError, match="settings.n_threads"):
                gg.settings.n_threads = bad
        with pytest.warns(DeprecationWarning, match="n_threads"):
            gg.settings.n_jobs = 1
        assert gg.settings.n_threads == 1
    finally:
        gg.settings.n_threads = "auto"
        torch.set_num_threads(before)


def test_training_uses_n_threads():
    before = torch.get_num_threads()
    try:
        gg.settings.n_threads = 1
        torch.set_num_threads(2)  # e.g. changed by another library since
        m = gg.models.SequenceModel(n_filters=2, filter_size=3, n_hidden=0, seed=0)
        seqs, y, _ = gg.data.simulate_sequences(20, 12, motif="ACGT", seed=0)
        m.train(seqs, y, max_epochs=1, batch_size=8)
        assert torch.get_num_threads() == 1
    finally:
        gg.settings.n_threads = "auto"
        torch.set_num_threads(before)


def test_progress_only_on_a_terminal(monkeypatch):
    import io

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("GNNGENO_NO_PROGRESS", raising=False)
    gg.settings.progress = None
    try:
        monkeypatch.setattr("sys.stderr", io.StringIO())
        assert gg.settings.progress is False  # a log file: no carriage-return updates
        monkeypatch.setattr("sys.stderr", Tty())
        assert gg.settings.progress is True
        monkeypatch.setenv("GNNGENO_NO_PROGRESS", "1")
        assert gg.settings.progress is False
        gg.settings.progress = True  # asked for explicitly
        assert gg.settings.progress is True
        with pytest.raises(ValueError, match="settings.progress"):
            gg.settings.progress = "yes"
    finally:
        gg.settings.progress = None


def test_training_writes_no_progress_bar_to_a_log_file(monkeypatch):
    import io

    seqs, y, _ = gg.data.simulate_sequences(20, 12, motif="ACGT", seed=0)
    monkeypatch.delenv("GNNGENO_NO_PROGRESS", raising=False)
    logs = {}
    try:
        for progress in (None, True):
            gg.settings.progress = progress
            log = io.StringIO()
            monkeypatch.setattr("sys.stderr", log)
            m = gg.models.SequenceModel(n_filters=2, filter_size=3, n_hidden=0, seed=0)
            m.train(seqs, y, max_epochs=2, batch_size=8)
            logs[progress] = log.getvalue()
    finally:
        gg.settings.progress = None
    assert logs[None] == ""  # stderr is a file: no carriage-return updates
    assert "\r" in logs[True]  # the test can fail: bars do show when asked for
