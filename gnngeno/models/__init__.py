"""User-facing model classes: built on an AnnData, ``.train()``, ``.get_*()``, ``save``/``load``."""

from ._base import BaseModel

__all__ = ["BaseModel"]
