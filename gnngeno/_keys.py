"""Every AnnData key that gnngeno reads or writes, in one place.

Functions take ``key_added=...`` to rename their outputs; these are the defaults.
"""

from __future__ import annotations

# --- layers ------------------------------------------------------------------------------------
COUNTS_LAYER = "counts"  # raw counts kept by the readers when the input holds counts
IMPUTED_LAYER = "gnngeno_imputed"  # tl.impute output (log1p of counts normalised to 1e4)

# --- .obs / .var -------------------------------------------------------------------------------
LABEL_KEY = "label"  # cell-type labels read from the dense h5 layout
IS_TF_KEY = "is_tf"  # boolean .var column written by pp.mark_tfs

# --- .uns --------------------------------------------------------------------------------------
READER_SOURCE_KEY = "gnngeno_source"  # {"path", "format"} written by every gnngeno.io reader

# --- .obsp (cell graphs) -----------------------------------------------------------------------
CELL_GRAPH_KEY = "gnngeno_cell"  # .obsp["gnngeno_cell_connectivities"/"_distances"], .uns[key]

# --- .varp (gene graphs) -----------------------------------------------------------------------
GENE_GRAPH_KEY = "gnngeno_coexpression"  # .varp[key] sparse genes x genes, .uns[key]["params"]
PRIOR_GRN_KEY = "gnngeno_prior"  # .varp[key] sparse TF->target adjacency (row = source)
GRN_SCORES_KEY = "gnngeno_grn"  # .varp[key] inferred scores, .uns[key]["edges"] ranked table

# --- embeddings --------------------------------------------------------------------------------
CELL_EMBEDDING_KEY = "X_gnngeno"  # .obsm
GENE_EMBEDDING_KEY = "gnngeno_embedding"  # .varm
SEQUENCE_EMBEDDING_KEY = "gnngeno_seq"  # .varm, from tl.encode_sequences

# --- network DataFrame columns -----------------------------------------------------------------
SOURCE = "source"
TARGET = "target"
WEIGHT = "weight"
SCORE = "score"


def connectivities_key(key: str) -> str:
    """``.obsp`` name of the connectivities written under graph key ``key``."""
    return f"{key}_connectivities"


def distances_key(key: str) -> str:
    """``.obsp`` name of the distances written under graph key ``key``."""
    return f"{key}_distances"
