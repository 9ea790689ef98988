"""Baselines for GRN inference, to print beside every model: co-expression, degree-only, an
extra-trees regression in the GENIE3 style and gradient boosting in the GRNBoost2 style."""

from ._grn import (  # noqa: F401
    GRN_BASELINES,
    boosting_scores,
    correlation_scores,
    degree_scores,
    expression_degree_scores,
    grn_baseline,
    rank_genes,
    tree_scores,
)

__all__ = ["GRN_BASELINES", "boosting_scores", "correlation_scores", "degree_scores",
           "expression_degree_scores", "grn_baseline", "rank_genes", "tree_scores"]

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
