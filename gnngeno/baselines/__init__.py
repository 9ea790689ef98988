"""Baselines for GRN inference, to print beside every model: co-expression, degree-only and a
tree-ensemble regression in the GENIE3/GRNBoost2 style."""

from ._grn import (  # noqa: F401
    GRN_BASELINES, correlation_scores, degree_scores, grn_baseline, tree_scores,
)

__all__ = ["GRN_BASELINES", "correlation_scores", "degree_scores", "grn_baseline", "tree_scores"]
