"""Readers and writers: expression matrices, gene networks, TF lists, GRN benchmark folders,
sequences and motifs, and ``.h5ad`` files read and written in row blocks.

Every expression reader returns a cells x genes :class:`~anndata.AnnData` with unique gene
names, raw counts kept in ``layers['counts']`` when the values are counts, and
``uns['gnngeno_source']`` recording the file and format read.
"""

from ._backed import ChunkWriter, iter_chunks, load_sparse, write_elems
from ._expression import (
    read_10x_h5,
    read_10x_mtx,
    read_dense_h5,
    read_expression,
    read_h5ad,
    read_table,
)
from ._grn_benchmark import (
    GRNBenchmark,
    audit_grn_splits,
    is_undirected,
    read_grn_benchmark,
    repair_grn_splits,
)
from ._motifs import Motif, read_meme, write_meme
from ._network import read_beeline_network, read_network, read_tfs
from ._sequence import read_deepbind, read_fasta, read_sequence_table, read_sequences, write_fasta

# Sequences and motifs: add one import line above and the names below.
__all__ = [
    # expression
    "read_10x_h5",
    "read_10x_mtx",
    "read_dense_h5",
    "read_expression",
    "read_h5ad",
    "read_table",
    # networks and benchmarks
    "GRNBenchmark",
    "audit_grn_splits",
    "is_undirected",
    "repair_grn_splits",
    "read_beeline_network",
    "read_grn_benchmark",
    "read_network",
    "read_tfs",
    # sequences and motifs
    "read_fasta", "write_fasta", "read_deepbind", "read_sequence_table", "read_sequences",
    "Motif", "read_meme", "write_meme",
    # out of core (backed .h5ad)
    "ChunkWriter", "iter_chunks", "load_sparse", "write_elems",
]
