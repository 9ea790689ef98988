"""AnnData and graphs to model inputs: GRN graphs and features, link splits and negatives,
mini-batches of cells on a cell graph (random, cluster, neighbourhoods), sequences."""

from ._grn_graph import (  # noqa: F401
    coexpression_edges,
    correlation,
    degree_features,
    expression_features,
    message_graph,
    predicted_log_degree,
)
from ._grn_negatives import (  # noqa: F401
    degree_matched_negatives,
    degree_matched_pairs,
    pair_keys,
    uniform_negatives,
)
from ._grn_splits import (  # noqa: F401
    GRN_SPLITS,
    NEGATIVE_SCHEMES,
    cross_reference_split,
    split_grn,
    split_leaks,
    training_negatives,
)
from ._link_split import (  # noqa: F401
    SPLIT_METHODS,
    LinkSplit,
    sample_negatives,
    sample_ranking_pairs,
    split_edges,
    split_from_pairs,
)
from ._minibatch import (  # noqa: F401
    PARTITION_METHODS,
    cell_batches,
    graph_parts,
    induced_subgraph,
    khop_nodes,
    neighbourhood,
    partition_cells,
    sample_neighbourhood,
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
