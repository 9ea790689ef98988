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
    candidate_pairs,
    density,
    early_precision,
    early_precision_ratio,
    evaluate_grn,
    grn_metrics,
)
from ._imputation import clustering_agreement, imputation_metrics  # noqa: F401
