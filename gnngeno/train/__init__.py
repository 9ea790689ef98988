"""The training loop shared by all models, and data-parallel training under ``torchrun``."""

from ._distributed import (
    DistributedContext,
    all_reduce_sum,
    barrier,
    broadcast_object,
    cleanup,
    distributed,
    gather_arrays,
    get_rank,
    get_world_size,
    init_distributed,
    is_distributed,
    is_main_process,
    launched_by_torchrun,
    reduce_dict,
    shard_indices,
    sync_module,
    wrap_ddp,
)
from ._early_stopping import EarlyStopping
from ._loop import TrainingHistory, fit, save_atomic
from ._plan import Batch, PlanContext, TrainingData, TrainingPlan

__all__ = [
    "Batch", "EarlyStopping", "PlanContext", "TrainingData", "TrainingHistory", "TrainingPlan",
    "fit", "save_atomic",
    # distributed
    "DistributedContext", "all_reduce_sum", "barrier", "broadcast_object", "cleanup",
    "distributed", "gather_arrays", "get_rank", "get_world_size", "init_distributed",
    "is_distributed", "is_main_process", "launched_by_torchrun", "reduce_dict", "shard_indices",
    "sync_module", "wrap_ddp",
]
