"""Early stopping on a monitored validation value."""

from __future__ import annotations

import math


class EarlyStopping:
    """Stop when a monitored value has not improved for ``patience`` epochs.

    Parameters
    ----------
    patience
        Epochs without improvement before stopping (``None`` or 0: never stop early).
    mode
        ``"min"`` for losses, ``"max"`` for scores such as AUPRC.
    min_delta
        Smallest change that counts as an improvement.
    warmup
        Values of the first ``warmup`` steps neither improve nor count against ``patience``
        (they still enter the moving average).
    smoothing
        Weight on the past of an exponential moving average of the values (0: raw values);
        improvement is judged on the average, available as :attr:`smoothed`.

    Examples
    --------
    >>> stopper = EarlyStopping(patience=2, mode="min")
    >>> [stopper.step(v) for v in [1.0, 0.5, 0.6, 0.7]]
    [True, True, False, False]
    >>> stopper.should_stop
    True
    """

    def __init__(self, patience: int | None = 10, mode: str = "min", min_delta: float = 0.0,
                 *, warmup: int = 0, smoothing: float = 0.0):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}.")
        if patience is not None and patience < 0:
            raise ValueError(f"patience must be >= 0 or None, got {patience}.")
        if warmup < 0 or not 0 <= smoothing < 1:
            raise ValueError(f"warmup must be >= 0 and smoothing in [0, 1), got {warmup} and "
                             f"{smoothing}.")
        self.warmup = int(warmup)
        self.smoothing = float(smoothing)
        self.smoothed: float | None = None
        self.patience = patience
        self.mode = mode
        self.min_delta = float(min_delta)
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = -1
        self.bad_epochs = 0
        self._epoch = -1

    def step(self, value: float) -> bool:
        """Record ``value``; return whether it is a new best."""
        self._epoch += 1
        value = float(value)
        if self.smoothing:
            s, past = self.smoothing, self.smoothed
            value = self.smoothed = value if past is None else s * past + (1 - s) * value
        if self._epoch < self.warmup:
            return False
        if math.isnan(value):
            improved = False
        elif self.mode == "min":
            improved = value < self.best - self.min_delta
        else:
            improved = value > self.best + self.min_delta
        if improved:
            self.best = value
            self.best_epoch = self._epoch
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        return improved

    @property
    def should_stop(self) -> bool:
        """Whether ``patience`` epochs passed without improvement."""
        return bool(self.patience) and self.bad_epochs >= self.patience

    def state_dict(self) -> dict:
        return dict(self.__dict__)

    def load_state_dict(self, state: dict) -> None:
        self.__dict__.update(state)
