"""Preprocessing: count detection, normalisation, masking for imputation checks, TF marks and
PCA of matrices read in chunks."""

from .._validate import is_counts
from ._mask import HiddenEntries, log_normalize, mask_nonzero
from ._pca import chunked_pca
from ._tfs import mark_tfs, tf_catalogue

__all__ = ["HiddenEntries", "chunked_pca", "is_counts", "log_normalize", "mask_nonzero", "mark_tfs",
           "tf_catalogue"]
