"""Distributed helpers: sharding, metric reduction, and a 2-process torchrun run that must
match the single-process run."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from gnngeno.train import (
    DistributedContext,
    distributed,
    gather_arrays,
    init_distributed,
    is_distributed,
    is_main_process,
    reduce_dict,
    shard_indices,
    wrap_ddp,
)

HERE = Path(__file__).parent
SCRIPT = HERE / "ddp_gcn_script.py"


def test_single_process_context_is_a_no_op(monkeypatch):
    for v in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(v, raising=False)
    with distributed(device="cpu") as ctx:
        assert isinstance(ctx, DistributedContext)
        assert (ctx.rank, ctx.world_size, ctx.backend, ctx.is_main) == (0, 1, None, True)
        assert not is_distributed() and is_main_process()
        m = torch.nn.Linear(2, 2)
        assert wrap_ddp(m) is m
        assert reduce_dict({"a": 2.0, "b": 1.0}, weight=3) == {"a": 2.0, "b": 1.0}
        np.testing.assert_array_equal(gather_arrays(np.array([2, 0]), np.array([5, 7]), 3),
                                      [7, 0, 5])


def test_world_size_without_torchrun_warns_and_runs_alone(monkeypatch, caplog):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.delenv("RANK", raising=False)
    ctx = init_distributed(device="cpu")
    assert ctx.world_size == 1 and not ctx.initialized_here


def test_shard_indices_like_distributed_sampler():
    shards = [shard_indices(10, rank=r, world_size=3, seed=4, epoch=2) for r in range(3)]
    assert {len(s) for s in shards} == {4}  # padded to 12
    assert set(np.concatenate(shards)) == set(range(10))
    # consecutive blocks of b per rank, together, are blocks of 3b of the permutation
    full = shard_indices(10, rank=0, world_size=1, seed=4, epoch=2)
    assert set(full[:6]) == set(np.concatenate([s[:2] for s in shards]))
    assert not np.array_equal(full, shard_indices(10, rank=0, world_size=1, seed=4, epoch=3))
    assert shard_indices(np.array([7, 8, 9]), rank=0, world_size=2, shuffle=False).tolist() == [7, 9]
    with pytest.raises(ValueError, match="rank"):
        shard_indices(5, rank=2, world_size=2)


def _load_script():
    spec = importlib.util.spec_from_file_location("ddp_gcn_script", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _torchrun(nproc: int, out: Path, script: Path = SCRIPT, timeout: int = 240) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", GNNGENO_NO_PROGRESS="1")
    for v in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(v, None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={nproc}", str(script), str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"torchrun failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def test_two_process_torchrun_matches_single_process(tmp_path):
    """DDP over 2 gloo processes, each with half of every batch, reproduces the one-process
    training: same final validation loss (within 1 %) and parameters (within rounding)."""
    single = _load_script().train(None)
    assert single["world_size"] == 1
    out = tmp_path / "ddp.json"
    _torchrun(2, out)
    multi = json.loads(out.read_text())
    assert multi["world_size"] == 2
    assert single["losses"][-1] < single["losses"][0]  # it trained
    assert abs(multi["val_loss"] - single["val_loss"]) <= 0.01 * single["val_loss"]
    np.testing.assert_allclose(multi["losses"], single["losses"], rtol=1e-3)
    for k, v in single["params"].items():
        np.testing.assert_allclose(multi["params"][k], v, rtol=1e-3, atol=1e-4)
