"""Baselines for GRN inference, to print beside every model: co-expression, degree-only and a
tree-ensemble regression in the GENIE3/GRNBoost2 style."""

from ._grn import (  # noqa: F401
    GRN_BASELINES,
    correlation_scores,
    degree_scores,
    grn_baseline,
    tree_scores,
)

__all__ = ["GRN_BASELINES", "correlation_scores", "degree_scores", "grn_baseline", "tree_scores"]

from ._sequence import (  # noqa: E402, F401
    SequenceLogisticRegression,
    gc_content,
    gc_logistic_regression,
    kmer_counts,
    kmer_logistic_regression,
    kmer_names,
)

__all__ += ["SequenceLogisticRegression", "gc_content", "gc_logistic_regression", "kmer_counts",
            "kmer_logistic_regression", "kmer_names"]
