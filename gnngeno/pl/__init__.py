"""Plots (matplotlib; scanpy's where it fits).

Every function returns the :class:`~matplotlib.axes.Axes` it drew (a list for several
panels), takes ``save=`` (a file path; format from its suffix) and ``show=`` (default: show
unless saved or drawn into axes the caller passed), like scanpy's plotting functions.

=============================  ==============================================================
``roc_pr``                     ROC and precision-recall curves, baselines beside the model
``network``                    top edges of an inferred network (TFs marked, width by score)
``history``                    training losses and validation metrics per epoch
``embedding``                  cell or gene embeddings coloured by a key (optionally via UMAP)
``imputed_vs_observed``        imputed against held-out observed values, r and identity line
``logo``                       sequence logo of a PWM, motif or first-layer filter
``motif_match``                a filter's logo above the database motif it matched, aligned
``attribution``                attribution map over one sequence (letters scaled by score)
``benchmark``                  a benchmark table: methods x datasets, one point per seed, means
=============================  ==============================================================
"""

from ._benchmark import benchmark  # noqa: F401
from ._curves import roc_pr  # noqa: F401
from ._embedding import embedding  # noqa: F401
from ._history import history  # noqa: F401
from ._imputation import imputed_vs_observed  # noqa: F401
from ._network import network  # noqa: F401
from ._sequence import attribution, logo, motif_match  # noqa: F401  (sequence logos, attribution maps)
