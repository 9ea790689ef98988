"""Embedded datasets: data that installed packages ship, and a simulator with a known network."""

from ._builtin import krumsiek11, krumsiek11_network, pbmc68k_reduced
from ._simulate import simulate

__all__ = ["krumsiek11", "krumsiek11_network", "pbmc68k_reduced", "simulate"]
