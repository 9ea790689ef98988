"""gnngeno.metrics"""

from ._clustering import (  # noqa: F401, E402
    clustering_scores,
    kmeans_clusters,
    kmeans_scores,
    label_agreement,
    leiden_clusters,
    leiden_scores,
)
from ._grn import (  # noqa: F401
    auprc,
    auprc_ratio,
    auroc,
    auroc_by_degree,
    candidate_pairs,
    density,
    early_precision,
    early_precision_ratio,
    epr_tf_edges,
    evaluate_grn,
    full_space_metrics,
    grn_metrics,
)
from ._imputation import clustering_agreement, imputation_metrics  # noqa: F401
