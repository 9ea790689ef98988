"""What every user-facing model shares: gene order, save/load, training history."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._validate import InputError, check_same_genes
from .._version import __version__
from ..train import TrainingHistory

MODEL_FILE = "model.pt"


class BaseModel:
    """Base class of gnngeno's models.

    A subclass sets, in its ``__init__``:

    - ``self.module``: the pure-torch :class:`torch.nn.Module`;
    - ``self._init_params``: the keyword arguments needed to rebuild it (JSON-like values);
    - ``self.var_names`` (via ``super().__init__(adata)``): the gene order it was built on, or
      ``None`` for models that take no AnnData (e.g. sequence models).

    and may override :meth:`_extra_state` / :meth:`_set_extra_state` for anything else that
    :meth:`save` must keep (fitted scalers, split pairs, ...), and set ``_params_before``:
    for a constructor parameter added after models were saved, the value that reproduces
    what those models were (:meth:`load` uses it where a saved model lacks the parameter).
    """

    module: torch.nn.Module
    _init_params: dict[str, Any]
    _params_before: dict[str, Any] = {}

    def __init__(self, adata=None) -> None:
        self.var_names: list[str] | None = (
            None if adata is None else [str(g) for g in adata.var_names]
        )
        self.is_trained_: bool = False
        self.history_: TrainingHistory = TrainingHistory()

    # ------------------------------------------------------------------ checks
    def _check_trained(self) -> None:
        if not self.is_trained_:
            raise RuntimeError(f"{type(self).__name__} is not trained yet; call .train() first.")

    def _check_genes(self, adata) -> None:
        """Refuse an AnnData whose genes differ from the training genes."""
        if self.var_names is not None:
            check_same_genes(self.var_names, [str(g) for g in adata.var_names],
                             what=type(self).__name__)

    # ------------------------------------------------------------------ save/load
    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _set_extra_state(self, state: dict[str, Any]) -> None:
        pass

    def save(self, dir_path: str | os.PathLike, *, overwrite: bool = False) -> None:
        """Save the model to folder ``dir_path`` (file ``model.pt``), atomically.

        Stores the module's parameters, the constructor parameters, the gene order, the training
        history and the gnngeno version.

        Parameters
        ----------
        dir_path
            Folder to create.
        overwrite
            Replace an existing folder; otherwise an existing one raises ``FileExistsError``.
        """
        dir_path = Path(dir_path)
        if dir_path.exists() and not overwrite:
            raise FileExistsError(f"{dir_path} exists; pass overwrite=True to replace it.")
        payload = {
            "class": type(self).__name__,
            "version": __version__,
            "init_params": self._init_params,
            "var_names": self.var_names,
            "state_dict": {k: v.detach().cpu() for k, v in self.module.state_dict().items()},
            "history": self.history_.to_dict(),
            "is_trained": self.is_trained_,
            "extra": self._extra_state(),
        }
        dir_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dir_path.name}.", dir=dir_path.parent))
        try:
            torch.save(payload, tmp / MODEL_FILE)
            if dir_path.exists():
                shutil.rmtree(dir_path)
            os.replace(tmp, dir_path)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    @staticmethod
    def _read_payload(dir_path: str | os.PathLike, cls_name: str) -> dict[str, Any]:
        path = Path(dir_path) / MODEL_FILE
        if not path.exists():
            raise FileNotFoundError(f"no saved model at {path}; pass the folder given to .save().")
        payload = torch.load(path, map_location="cpu", weights_only=False)
        if payload.get("class") != cls_name:
            raise InputError(f"{path} holds a {payload.get('class')}, not a {cls_name}; load it "
                             f"with gnngeno.models.{payload.get('class')}.load(...).")
        return payload

    @classmethod
    def load(cls, dir_path: str | os.PathLike, adata=None):
        """Load a model saved with :meth:`save`.

        Parameters
        ----------
        dir_path
            Folder given to :meth:`save`.
        adata
            For models built on an AnnData: the data to attach. Its genes must be the training
            genes in the same order; otherwise an error lists the missing and unexpected genes.

        A model saved with ``device="cuda..."`` loads on a machine without a GPU on
        ``settings.device`` (the weights are always read onto the CPU first).
        """
        payload = cls._read_payload(dir_path, cls.__name__)
        params = {**cls._params_before, **payload["init_params"]}
        dev = str(params.get("device") or "")
        if dev.startswith("cuda") and not torch.cuda.is_available():
            params["device"] = None  # trained on a GPU, loaded without one: settings.device
        if payload["var_names"] is not None:
            if adata is None:
                raise InputError(f"{cls.__name__}.load needs the AnnData to attach "
                                 f"({len(payload['var_names'])} genes): "
                                 f"{cls.__name__}.load(path, adata).")
            check_same_genes(payload["var_names"], [str(g) for g in adata.var_names],
                             what=f"the {cls.__name__} saved at {dir_path}")
            model = cls(adata, **params)
        else:
            model = cls(**params)
        model._set_extra_state(payload["extra"])
        model.module.load_state_dict(payload["state_dict"])
        model.history_ = TrainingHistory.from_dict(payload["history"])
        model.is_trained_ = payload["is_trained"]
        model.saved_version_ = payload["version"]
        return model

    @property
    def history(self):
        """Training history as a DataFrame (one row per epoch)."""
        return self.history_.to_frame()

    def __repr__(self) -> str:
        genes = "" if self.var_names is None else f"{len(self.var_names)} genes, "
        params = ", ".join(f"{k}={v!r}" for k, v in self._init_params.items()
                           if not isinstance(v, list | np.ndarray | dict))
        return f"{type(self).__name__}({genes}{params}; trained={self.is_trained_})"
