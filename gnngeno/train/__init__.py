"""The training loop shared by all models."""

from ._early_stopping import EarlyStopping
from ._loop import TrainingHistory, fit, save_atomic

__all__ = ["EarlyStopping", "TrainingHistory", "fit", "save_atomic"]
