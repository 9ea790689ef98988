"""Data-parallel training with :mod:`torch.distributed` (launched by ``torchrun``).

gnngeno does not ship its own distributed engine: every process is started by ``torchrun``,
which sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``;
:func:`init_distributed` reads them and joins the process group (``gloo`` on CPU, ``nccl`` on
GPU); the model is wrapped in :class:`~torch.nn.parallel.DistributedDataParallel` with
:func:`wrap_ddp`, which averages gradients over processes after every backward pass; each
process reads its own shard of the cells (:func:`shard_indices`); logged values are averaged
over processes (:func:`reduce_dict`) so that every process takes the same early-stopping
decision; process 0 alone writes files (:func:`is_main_process`); :func:`cleanup` waits at a
barrier before destroying the process group (gloo may abort at exit otherwise).

Launch, one machine with 2 processes::

    torchrun --standalone --nproc_per_node=2 my_script.py

several machines (run on each, ``--node_rank`` 0, 1, ...)::

    torchrun --nnodes=2 --node_rank=0 --nproc_per_node=8 \\
        --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 my_script.py

Inside the script::

    from gnngeno.train import distributed, is_main_process
    with distributed():                 # no-op in a plain ``python my_script.py`` run
        model = gg.models.GraphImputer(adata, seed=0)
        model.train(distributed=True)   # DDP over the processes torchrun started
        if is_main_process():
            model.save("imputer")

Equivalence with one process: with ``P`` processes each taking ``batch_size / P`` cells of the
same shuffled order (interleaved, as :class:`torch.utils.data.DistributedSampler` does), the
averaged gradient of a step is the gradient of the one-process step on ``batch_size`` cells,
so the runs agree up to floating-point rounding and the per-process random masks/dropout.
"""

from __future__ import annotations

import contextlib
import datetime
import inspect
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._logging import logger
from .._settings import settings

_ENV_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands in a (possibly one-process) run.

    Attributes
    ----------
    rank
        Global rank of this process (0 in a single-process run).
    world_size
        Number of processes (1 in a single-process run).
    local_rank
        Rank on this machine (selects the GPU: ``cuda:local_rank``).
    device
        The :class:`torch.device` this process computes on.
    backend
        ``"gloo"``, ``"nccl"``, or ``None`` when no process group is in use.
    initialized_here
        Whether :func:`init_distributed` created the process group (and :func:`cleanup`
        should destroy it).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: str | None = None
    initialized_here: bool = False

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


# --------------------------------------------------------------------------- state queries
def is_distributed() -> bool:
    """Whether a process group with more than one process is active."""
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def get_rank() -> int:
    """Global rank (0 without a process group)."""
    import torch.distributed as dist

    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def get_world_size() -> int:
    """Number of processes (1 without a process group)."""
    import torch.distributed as dist

    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_main_process() -> bool:
    """``True`` on rank 0 or without a process group: the process that writes outputs."""
    return get_rank() == 0


def launched_by_torchrun() -> bool:
    """Whether torchrun's environment variables (``RANK``, ``WORLD_SIZE``, ...) are set."""
    return all(v in os.environ for v in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))


def _device_for(device: str | torch.device | None, local_rank: int) -> torch.device:
    dev = settings.torch_device(None if device is None else str(device))
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", local_rank % max(torch.cuda.device_count(), 1))
    return dev


# --------------------------------------------------------------------------- setup/teardown
def init_distributed(backend: str | None = None, *, device: str | torch.device | None = None,
                     timeout_s: float = 1800.0) -> DistributedContext:
    """Join the process group that ``torchrun`` set up, or run as a single process.

    Parameters
    ----------
    backend
        ``"gloo"`` or ``"nccl"``; default ``"nccl"`` when this process computes on a CUDA GPU,
        ``"gloo"`` otherwise (CPU, or GPU tensors with gloo is not supported by DDP).
    device
        ``"auto"``, ``"cpu"``, ``"cuda"``... (default ``settings.device``). With CUDA and no
        index, process ``local_rank`` takes GPU ``local_rank``.
    timeout_s
        Timeout of collective operations.

    Returns
    -------
    DistributedContext
        Rank, world size, device and backend. Without torchrun's environment variables (a
        plain ``python`` run) or with ``WORLD_SIZE=1`` nothing is initialised and the context
        says ``world_size=1``. Calling it again when a group exists returns that group's
        context.
    """
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if dist.is_available() and dist.is_initialized():
        dev = _device_for(device, local_rank)
        return DistributedContext(dist.get_rank(), dist.get_world_size(), local_rank, dev,
                                  dist.get_backend(), False)
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    dev = _device_for(device, local_rank)
    if world_size <= 1 or not launched_by_torchrun():
        if "WORLD_SIZE" in os.environ and world_size > 1:
            missing = [v for v in _ENV_VARS if v not in os.environ]
            logger.warning(f"WORLD_SIZE={world_size} but {missing} are not set; running as a "
                           "single process. Launch with torchrun.")
        return DistributedContext(device=dev)
    if not dist.is_available():
        raise RuntimeError("this torch build has no torch.distributed; install a standard torch "
                           "wheel or run without --distributed.")
    if backend is None:
        backend = "nccl" if dev.type == "cuda" else "gloo"
    if backend == "nccl" and dev.type != "cuda":
        raise ValueError("backend='nccl' needs CUDA devices; use backend='gloo' on CPU.")
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    kwargs: dict[str, Any] = {"backend": backend,
                              "timeout": datetime.timedelta(seconds=timeout_s)}
    if backend == "nccl" and "device_id" in inspect.signature(dist.init_process_group).parameters:
        kwargs["device_id"] = dev  # binds the communicator to this GPU (torch >= 2.3)
    dist.init_process_group(**kwargs)
    ctx = DistributedContext(dist.get_rank(), dist.get_world_size(), local_rank, dev, backend,
                             True)
    logger.info(f"distributed: rank {ctx.rank}/{ctx.world_size} on {dev} ({backend})")
    return ctx


def barrier() -> None:
    """Wait for every process (no-op without a process group)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        if dist.get_backend() == "nccl":
            dist.barrier(device_ids=[torch.cuda.current_device()])
        else:
            dist.barrier()


def cleanup() -> None:
    """Barrier, then destroy the process group (no-op without one).

    The barrier first matters with gloo: a process that destroys the group while another is
    still communicating makes the other abort.
    """
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        barrier()
        dist.destroy_process_group()


@contextlib.contextmanager
def distributed(backend: str | None = None, *, device: str | torch.device | None = None,
                timeout_s: float = 1800.0) -> Iterator[DistributedContext]:
    """Context manager: :func:`init_distributed` on entry, :func:`cleanup` on exit.

    Only a process group created on entry is destroyed on exit (an enclosing one is kept).
    Works unchanged in a plain single-process run (``world_size=1``).

    Examples
    --------
    >>> from gnngeno.train import distributed
    >>> with distributed(device="cpu") as ctx:
    ...     ctx.world_size
    1
    """
    ctx = init_distributed(backend, device=device, timeout_s=timeout_s)
    try:
        yield ctx
    finally:
        if ctx.initialized_here:
            cleanup()


# --------------------------------------------------------------------------- model wrapping
class _MethodForward(torch.nn.Module):
    """Make ``module.<method>(...)`` the ``forward`` of a wrapper, so that DDP sees the call
    (DDP synchronises gradients only for computations that went through its ``forward``)."""

    def __init__(self, module: torch.nn.Module, method: str) -> None:
        super().__init__()
        self.module = module
        self.method = method

    def forward(self, *args, **kwargs):
        return getattr(self.module, self.method)(*args, **kwargs)


def wrap_ddp(module: torch.nn.Module, *, method: str = "forward",
             device: torch.device | str | None = None, find_unused_parameters: bool = False,
             broadcast_buffers: bool = True):
    """Wrap ``module`` in :class:`~torch.nn.parallel.DistributedDataParallel` when a process
    group is active; return it unchanged otherwise.

    Parameters
    ----------
    module
        The model, already on its device. Its parameters are broadcast from rank 0 on wrapping,
        so every process starts from the same weights.
    method
        The method that computes the training loss or output, e.g. ``"loss"`` for modules
        whose training entry point is not ``forward``; the returned callable runs it under
        DDP. ``"forward"`` wraps the module itself.
    device
        The module's device (``None``: that of its first parameter).
    find_unused_parameters
        Pass ``True`` when some parameters get no gradient in a step (e.g. an unused decoder
        head).
    broadcast_buffers
        Broadcast buffers (e.g. batch-norm running statistics) from rank 0 at every forward.

    Returns
    -------
    A callable module: ``ddp(*args)`` runs ``module.<method>(*args)`` with gradient
    averaging. Keep using the original ``module`` for ``state_dict``, the optimizer and other
    methods; they share the parameters.
    """
    target = module if method == "forward" else _MethodForward(module, method)
    if not is_distributed():
        return target
    from torch.nn.parallel import DistributedDataParallel as DDP

    if device is None:
        p = next(module.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")
    device = torch.device(device)
    ids = [device] if device.type == "cuda" else None
    kwargs: dict[str, Any] = {}
    if not broadcast_buffers:  # the default syncs them; newer torch renamed the option
        name = ("forward_sync_buffers" if "forward_sync_buffers"
                in inspect.signature(DDP.__init__).parameters else "broadcast_buffers")
        kwargs[name] = False
    return DDP(target, device_ids=ids, output_device=device if ids else None,
               find_unused_parameters=find_unused_parameters, **kwargs)


def sync_module(module: torch.nn.Module, src: int = 0) -> None:
    """Broadcast ``module``'s parameters and buffers from rank ``src`` (no-op without a group)."""
    import torch.distributed as dist

    if not is_distributed():
        return
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src)


# --------------------------------------------------------------------------- data sharding
def shard_indices(indices: int | np.ndarray, *, rank: int | None = None,
                  world_size: int | None = None, shuffle: bool = True, seed: int = 0,
                  epoch: int = 0, pad: bool = True) -> np.ndarray:
    """This process's share of ``indices``, as :class:`torch.utils.data.DistributedSampler`.

    Every process draws the same permutation (from ``seed + epoch``), pads it by repeating its
    start until its length is a multiple of ``world_size`` (so every process takes the same
    number of steps, which DDP requires) and takes every ``world_size``-th element from
    position ``rank``. Consecutive blocks of ``b`` of the result on every process, together,
    are the consecutive blocks of ``b * world_size`` of the permutation.

    Parameters
    ----------
    indices
        Items to share (or ``n`` for ``arange(n)``).
    rank, world_size
        Default: the active process group's (0 and 1 without one).
    shuffle
        Permute before sharding (``False``: keep the order).
    seed, epoch
        Permutation seed; pass the epoch number to reshuffle every epoch.
    pad
        Repeat items to equalise the shares (``False``: shares may differ by one).

    Returns
    -------
    np.ndarray of int64 indices.

    Examples
    --------
    >>> shard_indices(5, rank=1, world_size=2, shuffle=False).tolist()
    [1, 3, 0]
    """
    idx = np.arange(indices) if np.isscalar(indices) else np.asarray(indices)
    rank = get_rank() if rank is None else int(rank)
    world_size = get_world_size() if world_size is None else int(world_size)
    if not 0 <= rank < world_size:
        raise ValueError(f"rank={rank} must lie in [0, world_size={world_size}).")
    if shuffle:
        g = torch.Generator().manual_seed(int(seed) + int(epoch))
        idx = idx[torch.randperm(len(idx), generator=g).numpy()]
    if pad and len(idx) % world_size and len(idx):
        extra = world_size - len(idx) % world_size
        idx = np.concatenate([idx, np.resize(idx, extra)])
    return idx[rank::world_size].astype(np.int64, copy=False)


# --------------------------------------------------------------------------- collectives
def all_reduce_sum(values: np.ndarray | torch.Tensor | float) -> np.ndarray:
    """Element-wise sum over processes (float64; identity without a process group)."""
    import torch.distributed as dist

    arr = np.atleast_1d(np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor)
                                   else values, dtype=np.float64))
    if not is_distributed():
        return arr
    t = torch.from_numpy(arr.copy())
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.cpu().numpy()


def reduce_dict(values: Mapping[str, float], weight: float = 1.0) -> dict[str, float]:
    """Weighted mean of scalar values over processes.

    Parameters
    ----------
    values
        ``{"loss": ..., ...}`` computed by this process (same keys on every process).
    weight
        This process's weight, e.g. its number of cells or masked entries (0 is allowed).

    Returns
    -------
    ``{key: sum_p(weight_p * value_p) / sum_p(weight_p)}``, the same on every process (the
    input itself without a process group). NaN values stay NaN.
    """
    keys = sorted(values)
    if not is_distributed():
        return {k: float(values[k]) for k in keys}
    vec = np.array([float(values[k]) * weight for k in keys] + [float(weight)])
    tot = all_reduce_sum(vec)
    w = tot[-1]
    return {k: float(tot[i] / w) if w > 0 else float("nan") for i, k in enumerate(keys)}


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """``obj`` from rank ``src`` on every process (identity without a process group)."""
    import torch.distributed as dist

    if not is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def gather_arrays(rows: np.ndarray, values: np.ndarray, n: int) -> np.ndarray | None:
    """Assemble per-process results into one array on rank 0.

    Parameters
    ----------
    rows
        Positions (in ``range(n)``) that this process computed.
    values
        Their values, ``(len(rows), ...)``.
    n
        Total number of rows.

    Returns
    -------
    On rank 0 the ``(n, ...)`` array (rows computed by several processes, e.g. padding, keep
    one of the values); ``None`` on other ranks. Without a process group: ``values`` placed
    at ``rows``.
    """
    import torch.distributed as dist

    values = np.asarray(values)
    if not is_distributed():
        out = np.zeros((n,) + values.shape[1:], dtype=values.dtype)
        out[rows] = values
        return out
    parts: list[Any] = [None] * get_world_size() if is_main_process() else None  # type: ignore[assignment]
    dist.gather_object((np.asarray(rows), values), parts, dst=0)
    if not is_main_process():
        return None
    out = np.zeros((n,) + values.shape[1:], dtype=values.dtype)
    for r, v in parts:
        out[r] = v
    return out


__all__ = [
    "DistributedContext", "all_reduce_sum", "barrier", "broadcast_object", "cleanup",
    "distributed", "gather_arrays", "get_rank", "get_world_size", "init_distributed",
    "is_distributed", "is_main_process", "launched_by_torchrun", "reduce_dict", "shard_indices",
    "sync_module", "wrap_ddp",
]
