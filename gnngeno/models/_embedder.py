"""Embedder: low-dimensional embeddings of cells (or genes) from autoencoders and graph
autoencoders."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from .. import _keys as keys
from .._logging import logger
from .._settings import resolve_seed, seed_everything, settings
from .._validate import (
    InputError,
    InputWarning,
    check_adata,
    check_choice,
    check_counts,
    is_integer_valued,
)
from ..nn._autoencoders import TARGET_SUM, Autoencoder, VariationalAutoencoder
from ..nn._graph_autoencoders import CONVS, GraphAutoencoder
from ..nn._likelihoods import LIKELIHOODS
from ..nn._utils import weight_penalty
from ..pp._mask import log1p_normalized
from ..train import fit
from ._base import BaseModel

KINDS = ("vae", "ae", "gae", "vgae")
DEFAULT_HOPS = 2
"""Propagation steps of the graph kinds' ``"sgc"`` encoder when ``hops`` is not given (SGC's
K = 2; on the simulated suite of ``benchmarks/embed_select.py`` 1, 2 and 4 hops were within
0.03 KMeans ARI of each other and 8 hops was worse)."""
GRAPHS = ("cell", "gene")
DEFAULT_INPUT_NOISE = {"ae": 1.0, "vae": 0.0}
"""Standard deviation of the Gaussian corruption of the encoder's input when ``input_noise`` is
not given (``benchmarks/embed_select.py``, KMeans ARI on the simulated suite / on pbmc68k):
the plain autoencoder gained as a denoising one (0.711 / 0.464 without noise, 0.736 / 0.462
with 0.5, 0.730 / 0.494 with 1.0); the VAE, whose latent is already sampled, did not (0.786 /
0.505 without, 0.781 / 0.492 with 0.5, 0.801 / 0.488 with 1.0)."""


def _dense32(X) -> np.ndarray:
    return (X.toarray() if sp.issparse(X) else np.asarray(X)).astype(np.float32, copy=False)


def _rows(x: sp.csr_matrix, idx) -> torch.Tensor:
    """Rows ``idx`` (indices or a slice) of a SciPy CSR cells x genes matrix, densified for
    this batch only (the matrix itself stays sparse)."""
    return torch.from_numpy(x[idx if isinstance(idx, slice) else np.asarray(idx)].toarray())


DEFAULT_BATCH_SIZE = 128
"""Cells (or nodes) per mini-batch when ``batch_size`` is not given (scVI's default). For the
``"sgc"`` graph kinds it was chosen over full-graph steps on the simulated suite of
``benchmarks/embed_select.py``: gae KMeans ARI 0.712 with 128-node batches, 0.709 with 512
(1.7x the CPU time), 0.681 with 300 full-graph steps (lr 1e-2), whose validation loss was higher
on all four datasets."""
MAX_NODES_PER_STEP = 8192
MAX_EDGES_PER_STEP = 2**18
"""A full-graph step of the graph kinds scores at most this many sampled nodes (feature term)
and training edges (edge term), so its loss memory stays bounded on large graphs; smaller
graphs score all of them."""


def default_max_epochs(n_obs: int, *, full_graph: bool = False) -> int:
    """Default epochs: scVI's rule ``min(400, 400 * 20000 / n_cells)`` (at least 20) for
    mini-batch training; 300 steps for full-graph training (graph kinds with GCN/GAT)."""
    if full_graph:
        return 300
    return int(max(20, min(400, round(400 * 20_000 / max(n_obs, 1)))))


class Embedder(BaseModel):
    """Low-dimensional embeddings of cells (or genes) learned by autoencoders.

    ``kind`` chooses the model:

    - ``"vae"`` (default): variational autoencoder with a bottleneck (scVI-like), negative
      binomial likelihood on raw counts with size factors; trained on mini-batches of cells.
    - ``"ae"``: the same without the variational part (a plain bottleneck autoencoder).
    - ``"gae"`` / ``"vgae"``: (variational) graph autoencoder (PyG ``GAE``/``VGAE``) on the
      cell kNN graph (``graph="cell"``, default) or on the gene co-expression graph
      (``graph="gene"``). The encoder (``conv``) is SGC-style (``"sgc"``: the node features are
      propagated ``hops`` times over the GCN-normalised graph, ``Â^hops X``, then an MLP), or
      two GCN or GAT layers. On the cell graph it reconstructs both the edges and each cell's
      counts (``feature_likelihood``), which keeps the expression signal. The SGC encoder
      trains on mini-batches of nodes and edges (any graph size), GCN/GAT on full-graph steps.

    ``hops > 0`` with ``"vae"``/``"ae"`` smooths the encoder's input (log-normalised values)
    over the cell kNN graph, ``Â^hops log1p(x)``, while the decoder still models each cell's own
    counts; the smoothed matrix is dense (cells x genes, float32).

    Parameters
    ----------
    adata
        Cells x genes AnnData. Its gene order is stored; :meth:`get_latent` and :meth:`load`
        refuse other genes.
    kind
        ``"vae"``, ``"ae"``, ``"gae"`` or ``"vgae"``.
    layer
        Layer holding the expression (``None``: ``adata.X``). Count likelihoods need raw counts.
    likelihood
        For ``"vae"``/``"ae"``: ``"nb"``, ``"zinb"``, ``"gaussian"`` or ``"auto"`` (``"nb"``
        on whole-number counts, ``"gaussian"`` otherwise). The Gaussian one models
        log-normalised values: counts are library-normalised to 1e4 and ``log1p``-ed first,
        other values are used as given.
    graph
        ``"cell"`` or ``"gene"`` for the graph kinds (ignored by ``"vae"``/``"ae"``).
    n_latent
        Size of the bottleneck (the embedding). The default 20 was chosen on simulated data
        with planted cell types (``benchmarks/embed_select.py``): the smallest size within
        0.01 KMeans ARI of the best of 10, 20, 30 and 50.
    n_hidden, n_layers
        Width and number of hidden layers (graph kinds: one hidden graph layer).
    activation
        Hidden activation (``"relu"``, ``"elu"``, ``"leaky_relu"``, ...).
    dropout
        Dropout on the encoder's hidden layers.
    input_noise
        ``"vae"``/``"ae"``: standard deviation of Gaussian noise added to the encoder's input
        (log-normalised values) during training, a denoising autoencoder; 0: none. Default
        (``None``): ``DEFAULT_INPUT_NOISE``, 1.0 for ``"ae"`` and 0 for ``"vae"`` (chosen on
        the selection suite of ``benchmarks/embed_select.py``).
    batch_norm
        Batch normalisation in the autoencoders' hidden layers and in the ``"sgc"`` graph
        encoder's MLP.
    conv, heads
        Graph kinds' encoder (``"sgc"``, ``"gcn"`` or ``"gat"``) and GAT heads.
    hops
        Propagation steps over the cell kNN graph (``Â = D^-1/2 (A + I) D^-1/2``): of the
        ``"sgc"`` encoder, or, for ``"vae"``/``"ae"``, smoothing of the encoder's input
        (0: none). Default (``None``): ``DEFAULT_HOPS`` for the graph kinds, 0 for
        ``"vae"``/``"ae"``.
    feature_likelihood
        Graph kinds: node-feature term, ``None`` (edges only, the classic GAE), ``"nb"``,
        ``"zinb"``, ``"gaussian"`` or ``"auto"`` (cell graph: ``"nb"`` on counts, else
        ``"gaussian"``; gene graph: ``None``).
    feature_weight
        Weight of the node-feature term against the edge term.
    n_neighbors, n_pcs
        Cell graph: the node features are the first ``n_pcs`` principal components of the
        log-normalised values (loadings fitted on the training data and reused on new data) and
        the kNN graph with ``n_neighbors`` is built on them (:func:`gnngeno.gr.cell_graph`).
        Gene graph: ``n_neighbors`` partners per gene (:func:`gnngeno.gr.gene_graph`); node
        features are each gene's standardised log-normalised profile over the cells.
    graph_key
        Use a graph already in ``adata`` (``.obsp[f"{graph_key}_connectivities"]`` or
        ``.obsp[graph_key]`` for cells, ``.varp[graph_key]`` for genes) instead of building one.
    l1, l2
        Lasso / ridge (both: elastic net) penalty on the weight matrices.
    seed
        Random seed (default ``settings.seed``): weights, splits, mini-batches, sampling.
    device
        ``"cpu"``, ``"cuda"``, ... (default ``settings.device``).

    Notes
    -----
    Memory. Sparse counts stay sparse (CSR) for ``"vae"``/``"ae"`` and for the cell-graph
    kinds: mini-batches are densified one at a time, and the graph kinds' node features are
    the PCA of the log-normalised counts computed without densifying or centring them
    (:func:`gnngeno.io.chunked_pca`). With the ``"sgc"`` encoder the graph kinds train on
    mini-batches of rows of the propagated features, so memory is linear in cells: 1 million
    cells x 2 000 genes trained in 6.9 GiB (``benchmarks/scale.py``). The GCN/GAT encoders
    hold ``cells x n_hidden`` activations of the whole graph. ``graph="gene"`` keeps each
    gene's profile over the cells dense (genes x cells).

    Examples
    --------
    >>> import gnngeno as gg
    >>> adata, _ = gg.datasets.simulate(n_cells=200, n_genes=50, n_tfs=5, seed=0)
    >>> model = gg.models.Embedder(adata, kind="vae", n_latent=5)
    >>> _ = model.train(max_epochs=2)
    >>> model.get_latent().shape
    (200, 5)
    """

    def __init__(self, adata, kind: str = "vae", *, layer: str | None = None,
                 likelihood: str = "auto", graph: str = "cell", n_latent: int = 20,
                 n_hidden: int = 128, n_layers: int = 1, activation: str = "relu",
                 dropout: float = 0.1, input_noise: float | None = None, batch_norm: bool = True,
                 conv: str = "sgc",
                 heads: int = 4, hops: int | None = None, feature_likelihood: str | None = "auto",
                 feature_weight: float = 1.0, n_neighbors: int = 15, n_pcs: int = 50,
                 graph_key: str | None = None, l1: float = 0.0, l2: float = 0.0,
                 seed: int | None = None, device: str | None = None) -> None:
        check_choice(kind, KINDS, "kind")
        check_choice(graph, GRAPHS, "graph")
        check_choice(conv, CONVS, "conv")
        if likelihood != "auto":
            check_choice(likelihood, LIKELIHOODS, "likelihood")
        if feature_likelihood not in (None, "auto"):
            check_choice(feature_likelihood, LIKELIHOODS, "feature_likelihood")
        if l1 < 0 or l2 < 0:
            raise InputError(f"l1 and l2 must be >= 0, got l1={l1}, l2={l2}.")
        X = check_adata(adata, layer=layer, min_cells=3, min_genes=2)
        super().__init__(adata)
        self.seed = resolve_seed(seed)
        self.kind, self.layer, self.graph = kind, layer, graph
        self.is_graph = kind in ("gae", "vgae")
        if input_noise is None:
            input_noise = DEFAULT_INPUT_NOISE.get(kind, 0.0)
        if not input_noise >= 0:
            raise InputError(f"input_noise must be >= 0 (0: no noise), got {input_noise}.")
        if input_noise > 0 and self.is_graph:
            raise InputError(f"input_noise corrupts the input of kind='vae'/'ae'; kind={kind!r} "
                             "has no such input. Drop input_noise or use kind='vae'/'ae'.")
        if hops is not None and int(hops) < 0:
            raise InputError(f"hops must be >= 0 (0: no smoothing over the cell graph), "
                             f"got {hops}.")
        self.hops = int(hops) if hops is not None else (DEFAULT_HOPS if self.is_graph else 0)
        self.device = settings.torch_device(device)
        self._init_params = dict(
            kind=kind, layer=layer, likelihood=likelihood, graph=graph, n_latent=n_latent,
            n_hidden=n_hidden, n_layers=n_layers, activation=activation, dropout=dropout,
            input_noise=input_noise, batch_norm=batch_norm, conv=conv, heads=heads, hops=hops,
            feature_likelihood=feature_likelihood,
            feature_weight=feature_weight, n_neighbors=n_neighbors, n_pcs=n_pcs,
            graph_key=graph_key, l1=l1, l2=l2, seed=seed,
            device=None if device is None else str(device))
        self.l1, self.l2 = float(l1), float(l2)
        self.is_counts = is_integer_valued(X)
        if likelihood == "auto":
            likelihood = "nb" if self.is_counts else "gaussian"
        self.likelihood = likelihood if not self.is_graph else None
        if self.is_graph:
            if feature_likelihood == "auto":
                feature_likelihood = (None if graph == "gene"
                                      else "nb" if self.is_counts else "gaussian")
            if graph == "gene" and feature_likelihood in ("nb", "zinb"):
                raise InputError("gene-graph node features are log-normalised profiles; use "
                                 "feature_likelihood='gaussian' or None.")
            self.feature_likelihood = feature_likelihood
        else:
            self.feature_likelihood = None
        needs_counts = (self.likelihood in ("nb", "zinb")
                        or self.feature_likelihood in ("nb", "zinb"))
        if needs_counts:
            what = f"adata.layers[{layer!r}]" if layer else "adata.X"
            check_counts(X, what)

        seed_everything(self.seed)
        self._pca_fit: tuple[np.ndarray, np.ndarray] | None = None
        self._prepare(adata)
        if not self.is_graph:
            cls = VariationalAutoencoder if kind == "vae" else Autoencoder
            self.module = cls(adata.n_vars, n_latent=n_latent, n_hidden=n_hidden,
                              n_layers=n_layers, likelihood=self.likelihood,
                              activation=activation, dropout=dropout, batch_norm=batch_norm,
                              input_noise=input_noise)
        else:
            n_in = self._x.shape[1]
            self.module = GraphAutoencoder(
                n_in, n_latent=n_latent, n_hidden=n_hidden, conv=conv,
                variational=kind == "vgae", activation=activation, dropout=dropout,
                heads=heads, hops=self.hops, batch_norm=batch_norm,
                feature_likelihood=self.feature_likelihood,
                n_features_out=self._target.shape[1] if self._target is not None else None,
                feature_weight=feature_weight)
        self.module.to(self.device)

    # ------------------------------------------------------------------ data
    def _tensors(self, adata) -> dict[str, Any]:
        """What the module reads, from ``adata`` (genes already checked): tensors, and
        cells x genes matrices kept as SciPy CSR when sparse (densified batch by batch)."""
        M = adata.layers[self.layer] if self.layer else adata.X
        out: dict[str, Any] = {}

        def lognorm(X):
            return log1p_normalized(X, target_sum=TARGET_SUM)

        if not self.is_graph:
            # the cells x genes matrix is kept as CSR; mini-batches are densified one at a time
            Xs = sp.csr_matrix(M, dtype=np.float32)
            if self.likelihood == "gaussian" and self.is_counts:
                Xs = lognorm(Xs)
            out["x"] = Xs
            out["size_factor"] = (torch.from_numpy(np.asarray(Xs.sum(1), np.float32).ravel())
                                  if self.likelihood != "gaussian" else None)
            if self.hops > 0:
                enc = Xs if self.likelihood == "gaussian" else lognorm(Xs)
                out.update(self._smoothed_input(adata, _dense32(enc)))
            return out
        if self.graph == "cell":
            # counts stay sparse: node features are their PCA, targets are densified per batch
            counts = sp.csr_matrix(M, dtype=np.float32)
            out["x"] = torch.from_numpy(self._pca(lognorm(counts) if self.is_counts
                                                   else counts))
            if self.feature_likelihood in ("nb", "zinb"):
                out["target"] = counts
                out["size_factor"] = torch.from_numpy(np.asarray(counts.sum(1),
                                                                 np.float32).ravel())
            out["edge_index"], out["edge_weight"] = self._graph_edges(adata, out["x"].numpy())
            return out
        # genes are nodes: each gene's standardised profile over cells (dense genes x cells)
        X = _dense32(M)
        prof = (lognorm(X) if self.is_counts else X).T.copy()
        prof -= prof.mean(1, keepdims=True)
        prof /= prof.std(1, keepdims=True) + 1e-6
        out["x"] = torch.from_numpy(prof)
        out["edge_index"], out["edge_weight"] = self._graph_edges(adata, out["x"].numpy())
        return out

    def _smoothed_input(self, adata, enc: np.ndarray) -> dict[str, Any]:
        """Autoencoders with ``hops > 0``: the encoder's usual input ``enc`` (cells x genes,
        log-normalised) smoothed over the cell kNN graph, ``Â^hops enc`` (GCN-normalised
        adjacency with self-loops; the graph is built on the PCA of ``enc``)."""
        from ..nn._graph_autoencoders import gcn_adjacency, propagate_features

        ei, ew = self._graph_edges(adata, self._pca(enc))
        adj = gcn_adjacency(ei, ew, enc.shape[0])
        smoothed = propagate_features(adj, torch.from_numpy(enc), self.hops)
        return {"encoder_input": smoothed.contiguous(), "edge_index": ei, "edge_weight": ew}

    def _pca(self, lognorm) -> np.ndarray:
        """Cell-graph node features: PCA (``n_pcs``) of the log-normalised values (dense or
        sparse; a sparse matrix is never densified or centred), with the loadings fitted on the
        training data by :func:`gnngeno.io.chunked_pca` and reused on new data."""
        if self._pca_fit is None:
            import anndata as ad

            from ..io._backed import chunked_pca

            n = int(min(self._init_params["n_pcs"], lognorm.shape[0] - 1, lognorm.shape[1] - 1))
            if n < 1:
                raise InputError("too few cells or genes for the PCA node features.")
            _, info = chunked_pca(ad.AnnData(X=lognorm), n_comps=n, normalize=False,
                                  seed=self.seed)
            self._pca_fit = (info["mean"], info["components"])
        mean, comps = self._pca_fit
        return (np.asarray(lognorm @ comps.T) - mean @ comps.T).astype(np.float32)

    def _graph_edges(self, adata, rep: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        import anndata as ad

        from .. import gr

        p = self._init_params
        key = p["graph_key"]
        A = None
        if self.graph == "cell" or not self.is_graph:
            if key is not None:
                for k in (keys.connectivities_key(key), key):
                    if k in adata.obsp:
                        A = adata.obsp[k]
                        break
                if A is None:
                    raise InputError(f"graph_key={key!r}: neither .obsp[{keys.connectivities_key(key)!r}] "
                                     f"nor .obsp[{key!r}] exists (present: {list(adata.obsp)}). "
                                     "Build it with gnngeno.gr.cell_graph or pass graph_key=None.")
            else:
                tmp = ad.AnnData(X=adata.layers[self.layer] if self.layer else adata.X,
                                 obsm={"X_pca": rep})
                tmp.obs_names, tmp.var_names = adata.obs_names, adata.var_names
                gr.cell_graph(tmp, n_neighbors=p["n_neighbors"], use_rep="X_pca",
                              seed=self.seed, transformer="sklearn" if adata.n_obs <= 5000 else None)
                A = tmp.obsp[keys.connectivities_key(keys.CELL_GRAPH_KEY)]
        else:
            if key is not None:
                if key not in adata.varp:
                    raise InputError(f"graph_key={key!r} is not in .varp (present: "
                                     f"{list(adata.varp)}). Build it with gnngeno.gr.gene_graph "
                                     "or pass graph_key=None.")
                A = adata.varp[key]
            else:
                tmp = ad.AnnData(X=adata.layers[self.layer] if self.layer else adata.X)
                tmp.obs_names, tmp.var_names = adata.obs_names, adata.var_names
                gr.gene_graph(tmp, k=p["n_neighbors"])
                A = tmp.varp[keys.GENE_GRAPH_KEY]
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
        w = w / w.max()
        return ei, w

    def _prepare(self, adata) -> None:
        t = self._tensors(adata)
        self._x = t["x"]
        self._target = t.get("target")
        self._size_factor = t.get("size_factor")
        self._edge_index = t.get("edge_index")
        self._edge_weight = t.get("edge_weight")
        self._encoder_input = t.get("encoder_input")

    @property
    def _edge_weights_used(self) -> bool:
        """Whether the encoder reads edge weights (GCN normalisation, SGC propagation)."""
        return self._init_params["conv"] in ("gcn", "sgc")

    @property
    def n_obs_(self) -> int:
        return int(self._x.shape[0])

    # ------------------------------------------------------------------ training
    def train(self, max_epochs: int | None = None, *, lr: float | None = None,
              batch_size: int | None = None, weight_decay: float = 0.0,
              validation_fraction: float = 0.1, early_stopping: bool = True,
              patience: int = 30, kl_warmup: int | None = None,
              checkpoint_path: str | None = None, resume: bool = False,
              distributed: bool = False):
        """Train the model.

        Parameters
        ----------
        max_epochs
            Epochs (default :func:`default_max_epochs`: scVI's rule for mini-batch training,
            300 for full-graph training, where an epoch is one step).
        lr
            Adam learning rate (default 1e-3, 1e-2 for full-graph training of the graph kinds).
        batch_size
            Cells per mini-batch of the autoencoders, or nodes per mini-batch of the graph
            kinds with the ``"sgc"`` encoder (default ``DEFAULT_BATCH_SIZE``, 128; large data
            trains faster per epoch with a few thousand). Their propagation ``Â^hops X`` is
            computed once over the whole training graph, so a batch reads rows of it (exact,
            no neighbourhood sampling); an epoch passes over the training nodes (feature term)
            and the training edges (edge term: each undirected pair once, against a non-edge
            from one of its ends to a uniformly drawn node) once, in the same number of
            batches. The ``"gcn"``/``"gat"`` encoders pass messages over the whole graph: they
            take full-graph steps (``batch_size`` must be ``None``), each scoring at most
            ``MAX_NODES_PER_STEP`` sampled nodes and ``MAX_EDGES_PER_STEP`` sampled edges.
        weight_decay
            Adam weight decay (in addition to ``l1``/``l2`` of the constructor).
        validation_fraction
            Fraction of cells (autoencoders) or of nodes and edges (graph kinds) held out to
            monitor the validation loss; 0 trains on everything for ``max_epochs``.
        early_stopping
            Stop when the validation loss has not improved for ``patience`` epochs and restore
            the best parameters.
        patience
            Epochs without improvement before stopping.
        kl_warmup
            Epochs over which the KL weight of ``"vae"``/``"vgae"`` rises linearly from 0 to 1
            (default: a quarter of ``max_epochs``). The validation loss always uses weight 1.
        checkpoint_path, resume
            Resumable checkpoint file (see :func:`gnngeno.train.fit`).
        distributed
            Data-parallel training over the processes started by ``torchrun`` (DDP; gloo on
            CPU, nccl on GPU): autoencoders split every mini-batch between the processes,
            graph kinds split the reconstructed edges and nodes; gradients and logged losses
            are averaged, so every process takes the same early-stopping decision. Joins the
            process group when torchrun started this process and none exists yet (see
            :func:`gnngeno.train.init_distributed`); without torchrun it trains in one process.

        Returns
        -------
        self (the history is in :attr:`history`).
        """
        n = self.n_obs_
        if batch_size is not None and batch_size < 2:
            raise InputError(f"batch_size must be >= 2, got {batch_size}.")
        full_graph = self.is_graph and self._init_params["conv"] != "sgc"
        if full_graph and batch_size is not None:
            raise InputError(f"mini-batch training of the graph kinds needs conv='sgc' (this "
                             f"model has conv={self._init_params['conv']!r}, which passes "
                             "messages over the whole graph); pass batch_size=None for "
                             "full-graph steps, or build the Embedder with conv='sgc'.")
        if not full_graph and batch_size is None:
            batch_size = DEFAULT_BATCH_SIZE
        max_epochs = int(max_epochs or default_max_epochs(n, full_graph=full_graph))
        if not 0.0 <= validation_fraction < 1.0:
            raise InputError(f"validation_fraction must be in [0, 1), got {validation_fraction}.")
        lr = float(lr if lr is not None else (1e-2 if full_graph else 1e-3))
        kl_warmup = max(1, max_epochs // 4) if kl_warmup is None else int(kl_warmup)
        seed_everything(self.seed)
        gen = torch.Generator().manual_seed(self.seed)
        dev = self.device
        module = self.module
        opt = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
        from ..train import _distributed as D

        if distributed and D.launched_by_torchrun() and not D.is_distributed():
            D.init_distributed(device=str(dev))
        dist_on = bool(distributed) and D.is_distributed()
        rank, world = (D.get_rank(), D.get_world_size()) if dist_on else (0, 1)
        if dist_on and dev.type == "cuda":
            dev = torch.device("cuda", torch.cuda.current_device())
            module.to(dev)
        # DDP averages gradients of what runs through its forward: here the module's loss
        run_loss = D.wrap_ddp(module, method="loss") if dist_on else module.loss

        def reduce(d: dict[str, float], weight: float = 1.0) -> dict[str, float]:
            return D.reduce_dict(d, weight) if dist_on else d

        def kl_weight(epoch: int) -> float:
            return 1.0 if kl_warmup <= 0 else min(1.0, (epoch + 1) / kl_warmup)

        def penalty() -> torch.Tensor:
            return weight_penalty(module.parameters(), l1=self.l1, l2=self.l2).to(dev)

        n_val = int(round(validation_fraction * n))
        perm = torch.randperm(n, generator=gen)
        val_idx, train_idx = perm[:n_val], perm[n_val:]
        if len(train_idx) < 2:
            raise InputError("too few cells left for training; lower validation_fraction.")

        if not self.is_graph:
            x, sf, enc = self._x, self._size_factor, self._encoder_input

            def batch(idx):
                return (_rows(x, idx).to(dev), None if sf is None else sf[idx].to(dev),
                        None if enc is None else enc[idx].to(dev))

            def train_epoch(epoch: int) -> dict[str, float]:
                module.train()
                order = train_idx[torch.randperm(len(train_idx), generator=gen)]
                tot, recon, count = 0.0, 0.0, 0
                for start in range(0, len(order), batch_size):
                    idx = order[start:start + batch_size]
                    if len(idx) < 2 * world:  # batch norm needs two cells (per process)
                        continue
                    idx = idx[rank::world]  # this process's share of the batch
                    xb, sb, eb = batch(idx)
                    out = run_loss(xb, sb, kl_weight=kl_weight(epoch), encoder_input=eb)
                    loss = out["loss"] + penalty()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    tot += out["loss"].item() * len(idx)
                    recon += out["reconstruction"].item() * len(idx)
                    count += len(idx)
                return reduce({"loss": tot / count, "reconstruction": recon / count}, count)

            def validate() -> dict[str, float]:
                tot, count = 0.0, 0
                for start in range(0, len(val_idx), 1024):
                    idx = val_idx[start:start + 1024]
                    xb, sb, eb = batch(idx)
                    tot += module.loss(xb, sb, kl_weight=1.0,
                                       encoder_input=eb)["loss"].item() * len(idx)
                    count += len(idx)
                return {"val_loss": tot / count}
        else:
            train_epoch, validate = self._graph_training(
                opt, run_loss, reduce, kl_weight, penalty, train_idx, val_idx,
                validation_fraction, batch_size, gen, dev, rank, world)
        use_val = n_val > 0
        self.history_ = fit(
            module, opt, train_epoch, max_epochs=max_epochs,
            validate=validate if use_val else None, monitor="val_loss", mode="min",
            patience=patience if early_stopping else None, restore_best=early_stopping,
            checkpoint_path=checkpoint_path, resume=resume,
            metadata={"var_names": self.var_names, "params": self._init_params},
            desc=f"Embedder({self.kind})", generator=gen)
        self.is_trained_ = True
        self.train_params_ = dict(max_epochs=max_epochs, lr=lr, batch_size=batch_size,
                                  weight_decay=weight_decay,
                                  validation_fraction=validation_fraction,
                                  early_stopping=early_stopping, patience=patience,
                                  kl_warmup=kl_warmup, n_processes=world)
        logger.info(f"Embedder({self.kind}) trained {len(self.history_)} epochs "
                    f"(best {self.history_.best_epoch})")
        return self

    def _graph_training(self, opt, run_loss, reduce, kl_weight, penalty, train_idx, val_idx,
                        validation_fraction, batch_size, gen, dev, rank, world):
        """``(train_epoch, validate)`` of the graph kinds: full-graph steps
        (``batch_size=None``) or mini-batches of rows of the ``"sgc"`` propagation.

        Nodes (feature term) and undirected edges (edge term) are split into training and
        validation parts; the encoder passes messages on the training edges only. Validation
        scores the held-out edges against a fixed, seeded set of non-edges (one per edge, to a
        uniformly drawn node), so its value moves only with the model."""
        module, n = self.module, self.n_obs_
        x = self._x.to(dev)
        ei, ew = self._edge_index, self._edge_weight
        upper = ei[0] < ei[1]  # split undirected pairs (i < j), keep both directions
        pairs, wts = ei[:, upper], ew[upper]
        n_val_e = int(round(validation_fraction * pairs.shape[1]))
        eperm = torch.randperm(pairs.shape[1], generator=gen)
        val_pos = pairs[:, eperm[:n_val_e]]
        val_neg = torch.stack([val_pos[0], torch.randint(0, n, (n_val_e,), generator=gen)])
        tr_pairs, tr_w = pairs[:, eperm[n_val_e:]], wts[eperm[n_val_e:]]
        tr_ei = torch.cat([tr_pairs, tr_pairs.flip(0)], 1)
        tr_ew = torch.cat([tr_w, tr_w]).to(dev)
        w_arg = tr_ew if self._edge_weights_used else None
        fw = module.feature_weight

        def feature_rows(nodes: torch.Tensor):
            """Targets of the feature term (counts densified here, or the node features
            themselves for the Gaussian one) and size factors of ``nodes``."""
            if module.feature_decoder is None:
                return None, None
            if self._target is None:
                return x[nodes.to(dev)], None
            sf = None if self._size_factor is None else self._size_factor[nodes].to(dev)
            return _rows(self._target, nodes).to(dev), sf

        def at_most(t: torch.Tensor, cap: int) -> torch.Tensor:
            if t.shape[-1] <= cap:
                return t
            return t[..., torch.randperm(t.shape[-1], generator=gen)[:cap]]

        if batch_size is None:  # full-graph steps
            tr_ei_dev = tr_ei.to(dev)

            def train_epoch(epoch: int) -> dict[str, float]:
                module.train()
                # distributed: every process encodes the whole graph and scores its share of
                # the (sampled) training nodes and edges; the draws are the same everywhere
                nodes = at_most(train_idx, MAX_NODES_PER_STEP)[rank::world]
                pos = at_most(tr_ei, MAX_EDGES_PER_STEP)[:, rank::world]
                tgt, sf = feature_rows(nodes)
                out = run_loss(x, tr_ei_dev, pos.to(dev),
                               edge_weight=w_arg, target=tgt, size_factor=sf,
                               nodes=nodes.to(dev), kl_weight=kl_weight(epoch))
                loss = out["loss"] + penalty()
                opt.zero_grad()
                loss.backward()
                opt.step()
                return reduce({k: v.item() for k, v in out.items()})

            def latent_of():  # one full-graph pass, then rows of it
                z = module.encode(x, tr_ei_dev, w_arg)
                return lambda rows: z[rows]
        else:  # mini-batches of rows of the propagated input (sgc)
            with torch.no_grad():
                smoothed = module.gae.encoder.smooth(x, tr_ei.to(dev), w_arg)
            # the inner-product decoder is symmetric: each undirected pair is scored once per
            # epoch, from a randomly chosen end (the source of its non-edge)
            n_tr, n_pairs = len(train_idx), tr_pairs.shape[1]
            n_batches = max(1, math.ceil(n_tr / batch_size))
            e_per = math.ceil(n_pairs / n_batches)

            def train_epoch(epoch: int) -> dict[str, float]:
                module.train()
                nodes_order = train_idx[torch.randperm(n_tr, generator=gen)]
                edge_order = torch.randperm(n_pairs, generator=gen)
                flip = torch.randint(0, 2, (n_pairs,), generator=gen).bool()
                oriented = torch.where(flip, tr_pairs.flip(0), tr_pairs)
                sums = dict.fromkeys(("loss", "edges", "features", "kl"), 0.0)
                count = 0
                for b in range(n_batches):
                    nodes = nodes_order[b * batch_size:(b + 1) * batch_size]
                    if len(nodes) < 2 * world:  # batch norm needs two rows (per process)
                        continue
                    edges = edge_order[b * e_per:(b + 1) * e_per]
                    neg_dst = torch.randint(0, n, (len(edges),), generator=gen)[rank::world]
                    # this process's share (every process draws the same permutations)
                    nodes, pos = nodes[rank::world], oriented[:, edges[rank::world]]
                    nb, n_pos = len(nodes), pos.shape[1]
                    rows = torch.cat([nodes, pos[0], pos[1], neg_dst]).to(dev)
                    ar = torch.arange(n_pos, device=dev)
                    tgt, sf = feature_rows(nodes)
                    out = run_loss(smoothed[rows], None, torch.stack([nb + ar, nb + n_pos + ar]),
                                   neg_edge_index=torch.stack([nb + ar, nb + 2 * n_pos + ar]),
                                   target=tgt, size_factor=sf,
                                   nodes=torch.arange(nb, device=dev), num_nodes=n,
                                   kl_weight=kl_weight(epoch))
                    loss = out["loss"] + penalty()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    for k in sums:
                        sums[k] += out[k].item() * nb
                    count += nb
                return reduce({k: v / max(count, 1) for k, v in sums.items()}, count)

            def latent_of():
                return lambda rows: module.encode(smoothed[rows], None)

        def validate() -> dict[str, float]:
            """Held-out edges and nodes, scored in chunks of latent rows (eval mode)."""
            if len(val_idx) == 0 and n_val_e == 0:
                return {"val_loss": float("nan")}
            edges = feats = kl = 0.0
            latent_rows = latent_of()
            chunk = 65_536
            for s in range(0, n_val_e, chunk):
                pos, neg = val_pos[:, s:s + chunk], val_neg[:, s:s + chunk]
                rows = torch.cat([pos[0], pos[1], neg[1]]).to(dev)
                m = pos.shape[1]
                ar = torch.arange(m, device=dev)
                z = latent_rows(rows)
                edges += float(module.edge_loss(z, torch.stack([ar, m + ar]),
                                                torch.stack([ar, 2 * m + ar]))) * m
            for s in range(0, len(val_idx), 8192):
                nodes = val_idx[s:s + 8192]
                z = latent_rows(nodes.to(dev))
                if module.feature_decoder is not None:
                    feats += float(module.feature_loss(z, *feature_rows(nodes))) * len(nodes)
                if module.variational:
                    kl += float(module.gae.kl_loss()) * len(nodes)
            edges /= max(n_val_e, 1)
            feats /= max(len(val_idx), 1)
            kl /= max(len(val_idx), 1) * n
            return {"val_loss": edges + fw * feats + kl}

        return train_epoch, validate

    # ------------------------------------------------------------------ results
    @property
    def axis(self) -> str:
        """``"obs"`` when the embedding is of cells, ``"var"`` when it is of genes."""
        return "var" if self.is_graph and self.graph == "gene" else "obs"

    @torch.no_grad()
    def get_latent(self, adata=None, *, batch_size: int = 1024) -> np.ndarray:
        """The embedding: (cells, n_latent), or (genes, n_latent) for ``graph="gene"``.

        Parameters
        ----------
        adata
            Data to embed (default: the training data). Must have the training genes in the
            same order. Graph kinds rebuild the graph on it (or read ``graph_key``).
        batch_size
            Cells (or nodes) per forward pass of the autoencoders and of the ``"sgc"``
            encoder's layers (after its whole-graph propagation).
        """
        self._check_trained()
        if adata is None:
            x, sf, ei, ew = self._x, self._size_factor, self._edge_index, self._edge_weight
            enc = self._encoder_input
        else:
            self._check_genes(adata)
            if self.needs_counts_():
                check_counts(adata.layers[self.layer] if self.layer else adata.X)
            t = self._tensors(adata)
            x, sf = t["x"], t.get("size_factor")
            ei, ew = t.get("edge_index"), t.get("edge_weight")
            enc = t.get("encoder_input")
            if self.is_graph and self.graph == "gene" and x.shape[1] != self._x.shape[1]:
                raise InputError(f"a gene-graph Embedder reads genes' profiles over the "
                                 f"{self._x.shape[1]} training cells; this AnnData has "
                                 f"{x.shape[1]} cells. Train a new model on it.")
        module, dev = self.module, self.device
        if not self.is_graph:
            parts = []
            for start in range(0, x.shape[0], batch_size):
                xb = _rows(x, slice(start, start + batch_size)).to(dev)
                sb = None if sf is None else sf[start:start + batch_size].to(dev)
                eb = None if enc is None else enc[start:start + batch_size].to(dev)
                parts.append(module.get_latent(xb, sb, encoder_input=eb).cpu())
            z = torch.cat(parts)
        else:
            z = module.get_latent(x.to(dev), ei.to(dev),
                                  ew.to(dev) if self._edge_weights_used else None,
                                  batch_size=batch_size).cpu()
        return z.numpy().astype(np.float32)

    def needs_counts_(self) -> bool:
        return (self.likelihood in ("nb", "zinb")) or (self.feature_likelihood in ("nb", "zinb"))

    # ------------------------------------------------------------------ save/load
    def _extra_state(self) -> dict[str, Any]:
        return {"is_counts": self.is_counts, "pca": self._pca_fit,
                "train_params": getattr(self, "train_params_", None)}

    def _set_extra_state(self, state: dict[str, Any]) -> None:
        if state.get("is_counts") is not None and state["is_counts"] != self.is_counts:
            warnings.warn("the AnnData given to load() and the training data differ in kind "
                          "(counts vs. normalised values).", InputWarning, stacklevel=3)
        if state.get("pca") is not None:
            self._pca_fit = state["pca"]
        if state.get("train_params"):
            self.train_params_ = state["train_params"]


__all__ = ["Embedder", "KINDS", "GRAPHS", "default_max_epochs"]
