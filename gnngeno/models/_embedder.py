"""Embedder: low-dimensional embeddings of cells (or genes) from autoencoders and graph
autoencoders."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from .._logging import logger
from .._settings import resolve_seed, seed_everything
from .._validate import InputError, InputWarning, check_adata, check_counts, is_counts
from ..nn._autoencoders import Autoencoder, VariationalAutoencoder
from ..nn._graph_autoencoders import GraphAutoencoder
from ..train import TrainingPlan
from ._base import BaseModel
from ._embedder_data import DEFAULT_BATCH_SIZE, default_max_epochs, training_data
from ._embedder_inputs import (
    GRAPHS,
    KINDS,
    InputBuilder,
    check_architecture,
    dense_rows,
    resolve_likelihoods,
)

MOVED_TO_TRAIN = {"l1": 0.0, "l2": 0.0, "device": None}
"""Options that moved from the constructor to :meth:`Embedder.train` (and their defaults)."""


def _moved_options(moved: dict[str, Any]) -> dict[str, Any]:
    """Constructor options that belong to :meth:`Embedder.train`: accepted with a
    :class:`DeprecationWarning` (silently when they hold their default, as in old saved
    models)."""
    unknown = sorted(set(moved) - set(MOVED_TO_TRAIN))
    if unknown:
        raise TypeError(f"Embedder() got unexpected keyword argument(s) {unknown}.")
    given = {k: v for k, v in moved.items() if v != MOVED_TO_TRAIN[k]}
    if given:
        names = ", ".join(f"{k}=" for k in given)
        warnings.warn(f"Embedder(): {names} moved to Embedder.train() and will be removed from "
                      "the constructor in the next release; pass them to train() instead.",
                      DeprecationWarning, stacklevel=3)
    return given


class Embedder(BaseModel):
    """Low-dimensional embeddings of cells (or genes) learned by autoencoders.

    ``kind`` chooses the model:

    - ``"vae"`` (default): variational autoencoder with a bottleneck (scVI-like, Lopez et al.
      2018), negative binomial likelihood on raw counts with size factors; trained on
      mini-batches of cells.
    - ``"ae"``: the same without the variational part (a denoising bottleneck autoencoder).
    - ``"gae"`` / ``"vgae"``: (variational) graph autoencoder (Kipf & Welling 2016; PyG
      ``GAE``/``VGAE``) on the cell kNN graph (``graph="cell"``, default) or on the gene
      co-expression graph (``graph="gene"``). The encoder (``conv``) is SGC-style (``"sgc"``,
      Wu et al. 2019: the node features are propagated ``hops`` times over the GCN-normalised
      graph, ``Â^hops X``, then an MLP), or two GCN or GAT layers. On the cell graph it
      reconstructs both the edges and each cell's counts (``feature_likelihood``), which keeps
      the expression signal. The SGC encoder trains on mini-batches of nodes and edges (any
      graph size), GCN/GAT on full-graph steps.

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
        Size of the bottleneck (the embedding).
    n_hidden, n_layers
        Width and number of hidden layers (graph kinds: one hidden graph layer).
    activation
        Hidden activation (``"relu"``, ``"elu"``, ``"leaky_relu"``, ...).
    dropout
        Dropout on the encoder's hidden layers.
    input_noise
        ``"vae"``/``"ae"``: standard deviation of Gaussian noise added to the encoder's input
        (log-normalised values) during training, a denoising autoencoder; 0: none. Default
        (``None``): 1.0 for ``"ae"`` and 0 for ``"vae"``.
    batch_norm
        Batch normalisation in the autoencoders' hidden layers and in the ``"sgc"`` graph
        encoder's MLP.
    conv, heads
        Graph kinds' encoder (``"sgc"``, ``"gcn"`` or ``"gat"``) and GAT heads.
    hops
        Propagation steps over the kNN graph (``Â = D^-1/2 (A + I) D^-1/2``): of the ``"sgc"``
        encoder, or, for ``"vae"``/``"ae"``, smoothing of the encoder's input over the cell
        graph (0: none). Default (``None``): 2 for the graph kinds, 0 for ``"vae"``/``"ae"``.
    feature_likelihood
        Graph kinds: node-feature term, ``None`` (edges only, the classic GAE), ``"nb"``,
        ``"zinb"``, ``"gaussian"`` or ``"auto"`` (cell graph: ``"nb"`` on counts, else
        ``"gaussian"``; gene graph: ``None``).
    feature_weight
        Weight of the node-feature term against the edge term.
    n_neighbors, n_pcs
        Cell graph: the node features are the first ``n_pcs`` principal components of the
        log-normalised values (loadings fitted on the training data and reused on new data) and
        the kNN graph with ``n_neighbors`` is built on them (:func:`gnngeno.gr.get_cell_graph`).
        Gene graph: ``n_neighbors`` partners per gene (:func:`gnngeno.gr.gene_graph`); node
        features are each gene's standardised log-normalised profile over the cells.
    graph_key
        Use a graph already in ``adata`` (``.obsp[f"{graph_key}_connectivities"]`` or
        ``.obsp[graph_key]`` for cells, ``.varp[graph_key]`` for genes) instead of building one.
    seed
        Random seed (default ``settings.seed``): weights, splits, mini-batches, sampling.
    **moved
        ``l1``, ``l2`` and ``device`` are options of :meth:`train`; given here they are still
        used (with a :class:`DeprecationWarning`) when :meth:`train` does not set them.

    Notes
    -----
    Memory. Sparse counts stay sparse (CSR) for ``"vae"``/``"ae"`` and for the cell-graph
    kinds: mini-batches are densified one at a time, and the graph kinds' node features are
    the PCA of the log-normalised counts computed without densifying or centring them
    (:func:`gnngeno.pp.chunked_pca`). With the ``"sgc"`` encoder the graph kinds train on
    mini-batches of rows of the propagated features, so memory is linear in cells. The GCN/GAT
    encoders hold ``cells x n_hidden`` activations of the whole graph. ``graph="gene"`` keeps
    each gene's profile over the cells dense (genes x cells).

    How the defaults were chosen, and how the kinds compare with PCA, is recorded in the
    cell-embedding section of ``benchmarks/README.md``.

    Examples
    --------
    >>> import gnngeno as gg
    >>> adata, _ = gg.datasets.simulate(n_cells=200, n_genes=50, n_tfs=5, seed=0)
    >>> model = gg.models.Embedder(adata, kind="vae", n_latent=5)
    >>> _ = model.train(max_epochs=2)
    >>> model.get_latent().shape
    (200, 5)
    """

    max_nodes_per_step: int = 8192
    """A full-graph step (GCN/GAT encoders) scores at most this many sampled training nodes in
    its feature term, so its loss memory stays bounded on large graphs."""
    max_edges_per_step: int = 2**18
    """A full-graph step scores at most this many sampled training edges in its edge term."""
    default_max_epochs = staticmethod(default_max_epochs)

    def __init__(self, adata, kind: str = "vae", *, layer: str | None = None,
                 likelihood: str = "auto", graph: str = "cell", n_latent: int = 20,
                 n_hidden: int = 128, n_layers: int = 1, activation: str = "relu",
                 dropout: float = 0.1, input_noise: float | None = None, batch_norm: bool = True,
                 conv: str = "sgc", heads: int = 4, hops: int | None = None,
                 feature_likelihood: str | None = "auto", feature_weight: float = 1.0,
                 n_neighbors: int = 15, n_pcs: int = 50, graph_key: str | None = None,
                 seed: int | None = None, **moved: Any) -> None:
        self._moved = _moved_options(moved)
        input_noise, self.hops = check_architecture(
            kind=kind, graph=graph, conv=conv, likelihood=likelihood,
            feature_likelihood=feature_likelihood, input_noise=input_noise, hops=hops)
        X = check_adata(adata, layer=layer, min_cells=3, min_genes=2)
        super().__init__(adata)
        self.seed = resolve_seed(seed)
        self.kind, self.layer, self.graph = kind, layer, graph
        self.is_graph = kind in ("gae", "vgae")
        self._init_params = dict(
            kind=kind, layer=layer, likelihood=likelihood, graph=graph, n_latent=n_latent,
            n_hidden=n_hidden, n_layers=n_layers, activation=activation, dropout=dropout,
            input_noise=input_noise, batch_norm=batch_norm, conv=conv, heads=heads, hops=hops,
            feature_likelihood=feature_likelihood, feature_weight=feature_weight,
            n_neighbors=n_neighbors, n_pcs=n_pcs, graph_key=graph_key, seed=seed)
        self.is_counts = is_counts(X)
        self.likelihood, self.feature_likelihood = resolve_likelihoods(
            likelihood, feature_likelihood, is_graph=self.is_graph, graph=graph,
            is_counts=self.is_counts)
        if self.needs_counts_():
            check_counts(X, f"adata.layers[{layer!r}]" if layer else "adata.X")

        seed_everything(self.seed)
        self._builder = InputBuilder(
            kind=kind, graph=graph, layer=layer, hops=self.hops, likelihood=self.likelihood,
            feature_likelihood=self.feature_likelihood, is_counts=self.is_counts,
            n_pcs=n_pcs, n_neighbors=n_neighbors, graph_key=graph_key, seed=self.seed)
        self._inputs = self._builder(adata)
        if not self.is_graph:
            cls = VariationalAutoencoder if kind == "vae" else Autoencoder
            self.module = cls(adata.n_vars, n_latent=n_latent, n_hidden=n_hidden,
                              n_layers=n_layers, likelihood=self.likelihood,
                              activation=activation, dropout=dropout, batch_norm=batch_norm,
                              input_noise=input_noise)
        else:
            target = self._inputs.target
            self.module = GraphAutoencoder(
                self._inputs.x.shape[1], n_latent=n_latent, n_hidden=n_hidden, conv=conv,
                variational=kind == "vgae", activation=activation, dropout=dropout,
                heads=heads, hops=self.hops, batch_norm=batch_norm,
                feature_likelihood=self.feature_likelihood,
                n_features_out=target.shape[1] if target is not None else None,
                feature_weight=feature_weight)

    @property
    def _edge_weights_used(self) -> bool:
        """Whether the encoder reads edge weights (GCN normalisation, SGC propagation)."""
        return self._init_params["conv"] in ("gcn", "sgc")

    @property
    def n_obs_(self) -> int:
        """Nodes of the training data: cells, or genes for ``graph="gene"``."""
        return self._inputs.n_obs

    @property
    def graph_(self) -> sp.csr_matrix | None:
        """The graph the model reads (cells x cells, or genes x genes for ``graph="gene"``):
        symmetric, without self-loops, weights scaled to a maximum of 1; ``None`` for
        ``"vae"``/``"ae"`` without ``hops``."""
        ei, w = self._inputs.edge_index, self._inputs.edge_weight
        if ei is None:
            return None
        n = self.n_obs_
        return sp.csr_matrix((w.numpy(), (ei[0].numpy(), ei[1].numpy())), shape=(n, n))

    # ------------------------------------------------------------------ training
    def train(self, max_epochs: int | None = None, *, lr: float | None = None,
              batch_size: int | None = None, weight_decay: float = 0.0,
              l1: float | None = None, l2: float | None = None,
              validation_fraction: float = 0.1, early_stopping: bool = True,
              patience: int = 30, kl_warmup: int | None = None, device: str | None = None,
              checkpoint_path: str | None = None, resume: bool = False,
              distributed: bool = False):
        """Train the model with :class:`gnngeno.train.TrainingPlan`.

        Parameters
        ----------
        max_epochs
            Epochs (default :func:`default_max_epochs`: scVI's rule for mini-batch training,
            300 for full-graph training, where an epoch is one step).
        lr
            Adam learning rate (default 1e-3, 1e-2 for full-graph training of the graph kinds).
        batch_size
            Cells per mini-batch of the autoencoders, or nodes per mini-batch of the graph
            kinds with the ``"sgc"`` encoder (default 128; large data trains faster per epoch
            with a few thousand), which read rows of ``Â^hops X`` computed once over the
            training graph and pass once over the training edges per epoch. The
            ``"gcn"``/``"gat"`` encoders pass messages over the whole graph: they take
            full-graph steps (``batch_size`` must be ``None``), each scoring at most
            :attr:`max_nodes_per_step` nodes and :attr:`max_edges_per_step` edges.
        weight_decay
            Adam weight decay.
        l1, l2
            Lasso / ridge (both: elastic net) penalty on the weight matrices (default 0).
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
        device
            ``"cpu"``, ``"cuda"``, ... (default ``settings.device``).
        checkpoint_path, resume
            Resumable checkpoint file (see :func:`gnngeno.train.fit`).
        distributed
            Data-parallel training over the processes started by ``torchrun`` (DDP):
            autoencoders split every mini-batch between the processes, graph kinds split the
            reconstructed edges and nodes. Without torchrun it trains in one process.

        Returns
        -------
        self (the history is in :attr:`history`).
        """
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
        if not 0.0 <= validation_fraction < 1.0:
            raise InputError(f"validation_fraction must be in [0, 1), got {validation_fraction}.")
        l1 = float(self._moved.get("l1", 0.0) if l1 is None else l1)
        l2 = float(self._moved.get("l2", 0.0) if l2 is None else l2)
        if l1 < 0 or l2 < 0:
            raise InputError(f"l1 and l2 must be >= 0, got l1={l1}, l2={l2}.")
        max_epochs = int(max_epochs or default_max_epochs(self.n_obs_, full_graph=full_graph))
        lr = float(lr if lr is not None else (1e-2 if full_graph else 1e-3))
        kl_warmup = max(1, max_epochs // 4) if kl_warmup is None else int(kl_warmup)
        seed_everything(self.seed)
        gen = torch.Generator().manual_seed(self.seed)
        plan = TrainingPlan(
            self.module, max_epochs=max_epochs, lr=lr, weight_decay=weight_decay, l1=l1, l2=l2,
            patience=patience if early_stopping else None, restore_best=early_stopping,
            device=self._moved.get("device") if device is None else device,
            distributed=distributed, checkpoint_path=checkpoint_path, resume=resume,
            metadata={"var_names": self.var_names, "params": self._init_params},
            desc=f"Embedder({self.kind})", generator=gen)
        ctx = plan.setup()  # process group and device first, then the data on that device
        data = training_data(
            self.module, self._inputs, is_graph=self.is_graph,
            validation_fraction=validation_fraction,
            batch_size=None if full_graph else batch_size,
            edge_weights_used=self._edge_weights_used, max_nodes=self.max_nodes_per_step,
            max_edges=self.max_edges_per_step, kl_warmup=kl_warmup, generator=gen,
            device=ctx.device, rank=ctx.rank, world_size=ctx.world_size)
        self.history_ = plan.run(data)
        self.is_trained_ = True
        self.train_params_ = dict(max_epochs=max_epochs, lr=lr, batch_size=batch_size,
                                  weight_decay=weight_decay, l1=l1, l2=l2,
                                  validation_fraction=validation_fraction,
                                  early_stopping=early_stopping, patience=patience,
                                  kl_warmup=kl_warmup, n_processes=ctx.world_size)
        logger.info(f"Embedder({self.kind}) trained {len(self.history_)} epochs "
                    f"(best {self.history_.best_epoch})")
        return self

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
            inputs = self._inputs
        else:
            self._check_genes(adata)
            if self.needs_counts_():
                check_counts(adata.layers[self.layer] if self.layer else adata.X)
            inputs = self._builder(adata)
            if self.axis == "var" and inputs.x.shape[1] != self._inputs.x.shape[1]:
                raise InputError(f"a gene-graph Embedder reads genes' profiles over the "
                                 f"{self._inputs.x.shape[1]} training cells; this AnnData has "
                                 f"{inputs.x.shape[1]} cells. Train a new model on it.")
        module = self.module
        dev = next(module.parameters()).device
        if not self.is_graph:
            x, sf, enc = inputs.x, inputs.size_factor, inputs.encoder_input
            parts = []
            for start in range(0, x.shape[0], batch_size):
                xb = dense_rows(x, slice(start, start + batch_size)).to(dev)
                sb = None if sf is None else sf[start:start + batch_size].to(dev)
                eb = None if enc is None else enc[start:start + batch_size].to(dev)
                parts.append(module.get_latent(xb, sb, encoder_input=eb).cpu())
            z = torch.cat(parts)
        else:
            ew = inputs.edge_weight.to(dev) if self._edge_weights_used else None
            z = module.get_latent(inputs.x.to(dev), inputs.edge_index.to(dev), ew,
                                  batch_size=batch_size).cpu()
        return z.numpy().astype(np.float32)

    def needs_counts_(self) -> bool:
        """Whether the model's likelihood needs raw counts."""
        return (self.likelihood in ("nb", "zinb")) or (self.feature_likelihood in ("nb", "zinb"))

    # ------------------------------------------------------------------ save/load
    def _extra_state(self) -> dict[str, Any]:
        return {"is_counts": self.is_counts, "pca": self._builder.pca_fit,
                "train_params": getattr(self, "train_params_", None)}

    def _set_extra_state(self, state: dict[str, Any]) -> None:
        if state.get("is_counts") is not None and state["is_counts"] != self.is_counts:
            warnings.warn("the AnnData given to load() and the training data differ in kind "
                          "(counts vs. normalised values).", InputWarning, stacklevel=3)
        if state.get("pca") is not None:
            self._builder.pca_fit = state["pca"]
        if state.get("train_params"):
            self.train_params_ = state["train_params"]


__all__ = ["Embedder", "KINDS", "GRAPHS", "default_max_epochs"]
