"""gnngeno.data"""

from ._grn_graph import (  # noqa: F401
    coexpression_edges,
    correlation,
    degree_features,
    expression_features,
    message_graph,
)
from ._link_split import (  # noqa: F401
    SPLIT_METHODS,
    LinkSplit,
    sample_negatives,
    split_edges,
    split_from_pairs,
)
from ._minibatch import (  # noqa: F401
    PARTITION_METHODS,
    ClusterLoader,
    NeighborhoodLoader,
    SubgraphBatch,
    induced_subgraph,
    iter_slices,
    khop_nodes,
    partition_cells,
    predict_in_chunks,
    propagate,
    sparse_linear,
    stream_batches,
    to_torch_csr,
)
from ._sequence import (  # noqa: F401
    SequenceDataset,
    add_shuffled_negatives,
    augment,
    decode_one_hot,
    dinucleotide_shuffle,
    one_hot_encode,
    reverse_complement,
    simulate_sequences,
    split_indices,
)
