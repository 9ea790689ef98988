"""What the :class:`~gnngeno.models.Embedder`'s module reads, built from an AnnData.

The autoencoders read the cells x genes matrix (kept as SciPy CSR and densified one mini-batch
at a time), its size factors and, with ``hops > 0``, the log-normalised values smoothed over the
cell kNN graph. The graph kinds read node features (cell graph: PCA of the log-normalised
values; gene graph: each gene's standardised profile over the cells), the graph's edges and the
targets of their feature term.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from .. import _keys as keys
from .._validate import InputError, check_choice
from ..nn import CONVS, LIKELIHOODS, gcn_adjacency, propagate_features
from ..nn._autoencoders import TARGET_SUM
from ..pp._mask import log1p_normalized

SKLEARN_KNN_MAX_CELLS = 5000
"""Up to this many cells the kNN graph is searched exactly with scikit-learn."""


def dense32(X) -> np.ndarray:
    """``X`` (dense or sparse) as a dense float32 array."""
    return (X.toarray() if sp.issparse(X) else np.asarray(X)).astype(np.float32, copy=False)


def dense_rows(x: sp.csr_matrix, idx) -> torch.Tensor:
    """Rows ``idx`` (indices or a slice) of a SciPy CSR cells x genes matrix, densified for
    this batch only (the matrix itself stays sparse)."""
    return torch.from_numpy(x[idx if isinstance(idx, slice) else np.asarray(idx)].toarray())


def _lognorm(X):
    return log1p_normalized(X, target_sum=TARGET_SUM)


KINDS = ("vae", "ae", "gae", "vgae")
GRAPHS = ("cell", "gene")
DEFAULT_HOPS = 2
"""Propagation steps of the graph kinds' ``"sgc"`` encoder when ``hops`` is not given (SGC's
K = 2)."""
DEFAULT_INPUT_NOISE = {"ae": 1.0, "vae": 0.0}
"""Standard deviation of the Gaussian corruption of the encoder's input when ``input_noise`` is
not given: the plain autoencoder is a denoising one, the VAE (whose latent is already sampled)
is not."""


def check_architecture(*, kind: str, graph: str, conv: str, likelihood: str,
                       feature_likelihood: str | None, input_noise: float | None,
                       hops: int | None) -> tuple[float, int]:
    """Check the Embedder's architecture options; return ``input_noise`` and ``hops`` with
    their defaults filled in."""
    check_choice(kind, KINDS, "kind")
    check_choice(graph, GRAPHS, "graph")
    check_choice(conv, CONVS, "conv")
    if likelihood != "auto":
        check_choice(likelihood, LIKELIHOODS, "likelihood")
    if feature_likelihood not in (None, "auto"):
        check_choice(feature_likelihood, LIKELIHOODS, "feature_likelihood")
    is_graph = kind in ("gae", "vgae")
    if input_noise is None:
        input_noise = DEFAULT_INPUT_NOISE.get(kind, 0.0)
    if not input_noise >= 0:
        raise InputError(f"input_noise must be >= 0 (0: no noise), got {input_noise}.")
    if input_noise > 0 and is_graph:
        raise InputError(f"input_noise corrupts the input of kind='vae'/'ae'; kind={kind!r} "
                         "has no such input. Drop input_noise or use kind='vae'/'ae'.")
    if hops is not None and int(hops) < 0:
        raise InputError(f"hops must be >= 0 (0: no smoothing over the cell graph), got {hops}.")
    return input_noise, int(hops) if hops is not None else (DEFAULT_HOPS if is_graph else 0)


def resolve_likelihoods(likelihood: str, feature_likelihood: str | None, *, is_graph: bool,
                        graph: str, is_counts: bool) -> tuple[str | None, str | None]:
    """``(likelihood, feature_likelihood)`` with ``"auto"`` resolved on the data: the
    autoencoders' likelihood (``None`` for the graph kinds) and the graph kinds' node-feature
    likelihood (``None`` for the autoencoders, or for edges only)."""
    if not is_graph:
        return ("nb" if is_counts else "gaussian") if likelihood == "auto" else likelihood, None
    if feature_likelihood == "auto":
        feature_likelihood = None if graph == "gene" else "nb" if is_counts else "gaussian"
    if graph == "gene" and feature_likelihood in ("nb", "zinb"):
        raise InputError("gene-graph node features are log-normalised profiles; use "
                         "feature_likelihood='gaussian' or None.")
    return None, feature_likelihood


@dataclass
class EmbedderInputs:
    """The module's inputs for one AnnData.

    Attributes
    ----------
    x
        Autoencoders: the cells x genes matrix (SciPy CSR, float32). Graph kinds: the node
        features (tensor, nodes x features).
    size_factor
        Total counts per cell (count likelihoods), or ``None``.
    target
        Cell-graph kinds with a count feature likelihood: the counts to reconstruct (SciPy
        CSR), or ``None`` (the node features themselves are the target).
    edge_index, edge_weight
        The graph (both directions of every undirected pair; weights scaled to a maximum of
        1), or ``None`` for the autoencoders without smoothing.
    encoder_input
        Autoencoders with ``hops > 0``: ``Â^hops log1p(x)`` (cells x genes, dense), or ``None``.
    """

    x: Any
    size_factor: torch.Tensor | None = None
    target: sp.csr_matrix | None = None
    edge_index: torch.Tensor | None = None
    edge_weight: torch.Tensor | None = None
    encoder_input: torch.Tensor | None = None

    @property
    def n_obs(self) -> int:
        return int(self.x.shape[0])


@dataclass
class InputBuilder:
    """Builds :class:`EmbedderInputs` from AnnData for one Embedder configuration.

    The PCA loadings of the cell-graph node features are fitted on the first AnnData (the
    training data) and reused on later ones (``pca_fit``, saved with the model).
    """

    kind: str
    graph: str
    layer: str | None
    hops: int
    likelihood: str | None
    feature_likelihood: str | None
    is_counts: bool
    n_pcs: int
    n_neighbors: int
    graph_key: str | None
    seed: int
    pca_fit: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def is_graph(self) -> bool:
        return self.kind in ("gae", "vgae")

    def _matrix(self, adata):
        return adata.layers[self.layer] if self.layer else adata.X

    def __call__(self, adata) -> EmbedderInputs:
        """The module's inputs from ``adata`` (genes already checked)."""
        M = self._matrix(adata)
        if not self.is_graph:
            # the cells x genes matrix is kept as CSR; mini-batches are densified one at a time
            Xs = sp.csr_matrix(M, dtype=np.float32)
            if self.likelihood == "gaussian" and self.is_counts:
                Xs = _lognorm(Xs)
            out = EmbedderInputs(
                x=Xs, size_factor=(torch.from_numpy(np.asarray(Xs.sum(1), np.float32).ravel())
                                   if self.likelihood != "gaussian" else None))
            if self.hops > 0:
                enc = Xs if self.likelihood == "gaussian" else _lognorm(Xs)
                self._smooth_input(adata, dense32(enc), out)
            return out
        if self.graph == "cell":
            # counts stay sparse: node features are their PCA, targets are densified per batch
            counts = sp.csr_matrix(M, dtype=np.float32)
            out = EmbedderInputs(x=torch.from_numpy(
                self.pca(_lognorm(counts) if self.is_counts else counts)))
            if self.feature_likelihood in ("nb", "zinb"):
                out.target = counts
                out.size_factor = torch.from_numpy(np.asarray(counts.sum(1), np.float32).ravel())
            out.edge_index, out.edge_weight = self.graph_edges(adata, out.x.numpy())
            return out
        # genes are nodes: each gene's standardised profile over cells (dense genes x cells)
        X = dense32(M)
        prof = (_lognorm(X) if self.is_counts else X).T.copy()
        prof -= prof.mean(1, keepdims=True)
        prof /= prof.std(1, keepdims=True) + 1e-6
        out = EmbedderInputs(x=torch.from_numpy(prof))
        out.edge_index, out.edge_weight = self.graph_edges(adata, prof)
        return out

    def _smooth_input(self, adata, enc: np.ndarray, out: EmbedderInputs) -> None:
        """Autoencoders with ``hops > 0``: the encoder's usual input ``enc`` (cells x genes,
        log-normalised) smoothed over the cell kNN graph, ``Â^hops enc`` (GCN-normalised
        adjacency with self-loops; the graph is built on the PCA of ``enc``)."""
        ei, ew = self.graph_edges(adata, self.pca(enc))
        adj = gcn_adjacency(ei, ew, enc.shape[0])
        out.encoder_input = propagate_features(adj, torch.from_numpy(enc), self.hops).contiguous()
        out.edge_index, out.edge_weight = ei, ew

    def pca(self, lognorm) -> np.ndarray:
        """Cell-graph node features: PCA (``n_pcs``) of the log-normalised values (dense or
        sparse; a sparse matrix is never densified or centred), with the loadings fitted on the
        training data by :func:`gnngeno.pp.chunked_pca` and reused on new data."""
        if self.pca_fit is None:
            import anndata as ad

            from ..pp import chunked_pca

            n = int(min(self.n_pcs, lognorm.shape[0] - 1, lognorm.shape[1] - 1))
            if n < 1:
                raise InputError("too few cells or genes for the PCA node features.")
            _, info = chunked_pca(ad.AnnData(X=lognorm), n_comps=n, normalize=False,
                                  seed=self.seed)
            self.pca_fit = (info["mean"], info["components"])
        mean, comps = self.pca_fit
        return (np.asarray(lognorm @ comps.T) - mean @ comps.T).astype(np.float32)

    def graph_edges(self, adata, rep: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Edges (both directions of each undirected pair) and weights (maximum 1) of the cell
        graph (:func:`gnngeno.gr.get_cell_graph`, on the representation ``rep``) or of the gene
        graph (:func:`gnngeno.gr.gene_graph`), or of the graph stored under ``graph_key``."""
        import anndata as ad

        from .. import gr

        key = self.graph_key
        if self.graph == "cell" or not self.is_graph:
            if key is not None:
                A = gr.get_cell_graph(adata, graph_key=key)
            else:
                tmp = ad.AnnData(X=self._matrix(adata), obsm={"X_pca": rep})
                tmp.obs_names, tmp.var_names = adata.obs_names, adata.var_names
                A = gr.get_cell_graph(
                    tmp, use_rep="X_pca", n_neighbors=self.n_neighbors, seed=self.seed,
                    transformer="sklearn" if adata.n_obs <= SKLEARN_KNN_MAX_CELLS else None)
        elif key is not None:
            if key not in adata.varp:
                raise InputError(f"graph_key={key!r} is not in .varp (present: "
                                 f"{list(adata.varp)}). Build it with gnngeno.gr.gene_graph "
                                 "or pass graph_key=None.")
            A = adata.varp[key]
        else:
            tmp = ad.AnnData(X=self._matrix(adata))
            tmp.obs_names, tmp.var_names = adata.obs_names, adata.var_names
            gr.gene_graph(tmp, k=self.n_neighbors)
            A = tmp.varp[keys.GENE_GRAPH_KEY]
        return self._edge_list(A)

    def _edge_list(self, A) -> tuple[torch.Tensor, torch.Tensor]:
        A = sp.coo_matrix(A)
        A = sp.coo_matrix(abs(A) + abs(A).T)  # symmetric, non-negative weights
        A.setdiag(0)
        A.eliminate_zeros()
        A = A.tocoo()
        if A.nnz == 0:
            raise InputError(f"the {self.graph} graph has no edges; build a denser graph "
                             "(more neighbours).")
        ei = torch.as_tensor(np.vstack([A.row, A.col]), dtype=torch.long)
        w = torch.as_tensor(A.data, dtype=torch.float32)
        return ei, w / w.max()


__all__ = ["DEFAULT_HOPS", "DEFAULT_INPUT_NOISE", "EmbedderInputs", "GRAPHS", "InputBuilder",
           "KINDS", "check_architecture", "dense32", "dense_rows", "resolve_likelihoods"]
