"""GraphImputer: dropout imputation with a GNN over the cell kNN graph."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from .._logging import logger, progress
from .._settings import resolve_seed, seed_everything, settings
from .._validate import InputError, check_choice
from ..gr import get_cell_graph
from ..nn import GraphImputerModule, gcn_adjacency
from ..pp._mask import log1p_normalized
from ..train import TrainingPlan
from . import _imputer_options as opts
from ._base import BaseModel
from ._imputer_data import (
    TARGET_SUM,
    ImputerGraph,
    MaskedTrainingData,
    neighbour_mean,
    neighbour_mean_pca,
)


class GraphImputer(BaseModel):
    """Impute dropouts by reconstructing each cell's counts from itself and its graph neighbours.

    A graph encoder over the cell kNN graph embeds every cell from its log-normalised
    expression and its neighbours'; a decoder gives the parameters of a likelihood per gene
    (negative binomial with the cell's library size and gene-wise dispersion, as in scVI;
    zero-inflated NB; or Gaussian, i.e. MSE, on log-normalised values). Training is
    self-supervised: every step hides a random ``mask_fraction`` of the entries (zeros and
    non-zeros) of a batch of cells from the input and scores the reconstruction of exactly
    those entries, so the model learns to predict an entry from the rest of the cell and from
    its neighbours, not to copy it. Labels are never used.

    The input is taken where it is. Raw counts (:func:`gnngeno.pp.is_counts`) are modelled as
    counts and the output is ``log1p`` of counts normalised to 1e4 per cell; log-normalised
    input (non-negative, mostly fractional values below 30) is read as it is, without a second
    normalisation, modelled with a Gaussian likelihood on its own scale, and the output is on
    that same scale (observed entries returned unchanged).

    Parameters
    ----------
    adata
        Cells x genes AnnData. Its gene order is stored; a later AnnData must match it.
    layer
        Expression layer (``None``: ``adata.X``). ``"auto"`` (default): the ``"counts"`` layer
        when present, else ``adata.X``. Raw counts or log-normalised values; every cell needs
        at least one non-zero entry.
    graph_key
        Use the cell graph in ``adata.obsp[f"{graph_key}_connectivities"]`` or
        ``adata.obsp[graph_key]``. ``"auto"`` (default): the graph :func:`gnngeno.gr.cell_graph`
        writes (``"gnngeno_cell"``) or scanpy's (``"connectivities"``) when present (the log
        says which), else a new one. ``None``: always build a kNN graph on PCA of the
        (log-normalised) expression of ``layer`` with :func:`gnngeno.gr.cell_graph`, without
        writing it into ``adata`` (:func:`gnngeno.gr.get_cell_graph`).
    n_neighbors, n_pcs, transformer
        Graph parameters when ``graph_key`` is ``None`` (``transformer="sklearn"`` for an exact
        search on small data).
    conv
        ``"sgc"`` (default): SGC-style (Wu et al. 2019), the graph is read once before
        training: each cell's input layer takes, beside its own expression, the mean of its
        graph neighbours' PCA (``n_pcs`` components of the log-normalised counts: the PCA
        the cell graph was built on, or :func:`gnngeno.pp.chunked_pca` for a stored graph; the
        cell itself left out, so no entry hidden from a cell reaches its own prediction), and no
        messages pass during training, so a step costs what a graph-free autoencoder's does.
        ``"gcn"``: residual GCN layers on the cell's and its neighbours' embeddings, every
        step (about twice the CPU time: each batch embeds its graph neighbourhood, ~15 cells
        per target cell). ``"gat"``: the same with attention. ``"sgc"`` reaches the GCN's
        validation loss in about half the CPU time (see ``benchmarks/README.md``).
    n_layers
        Graph layers (hops a cell reads from; 0 = no graph, a masked autoencoder). ``"sgc"``
        reads one hop (``n_layers`` 1) or none (0).
    n_hidden, n_latent
        Hidden width and bottleneck size.
    likelihood
        ``"auto"`` (default): ``"zinb"`` (as scVI) for counts, ``"gaussian"`` for
        log-normalised input; ``"nb"``, ``"zinb"`` (counts only) or ``"gaussian"`` (MSE on
        ``log1p`` of counts normalised to 1e4, or on log-normalised input as it is). The
        imputed value is the negative-binomial mean without the zero inflation (the denoised
        expression).
    activation
        Activation name (``"relu"``, ``"elu"``, ``"gelu"``, ``"leaky_relu"``, ...).
    dropout
        Dropout after hidden layers (the default was chosen on a validation mask; see
        ``benchmarks/README.md``).
    heads
        Attention heads for ``conv="gat"``.
    seed
        Random seed for the graph, initialisation and training (default ``settings.seed``).

    Notes
    -----
    Memory. Nothing of size cells x cells is ever dense: the graph is a sparse normalised
    adjacency (about ``n_cells * 2 * n_neighbors`` entries), the expression stays sparse (CSR),
    ``"sgc"`` adds ``cells x n_pcs`` float32 graph features. Training and inference run on
    batches of cells with their ``n_layers``-hop neighbourhood (largest dense tensors
    ``batch_size x n_genes``), so training memory is linear in cells; :meth:`get_imputed` runs
    GCN layers layer by layer over the whole graph (two ``cells x n_hidden`` float32 arrays) and
    adds its dense output (4 bytes per entry, 2 with ``dtype="float16"``), or streams it to
    ``out=`` (e.g. a file).

    Speed. Above 50 000 cells training batches are balls of neighbouring cells on the graph
    (``batch_sampling="auto"``) and the default epoch count falls to about 4 million cell
    visits, so an epoch costs about linear time in cells; inference embeds each cell once.

    Examples
    --------
    >>> import gnngeno as gg
    >>> adata, _ = gg.datasets.simulate(n_cells=200, n_genes=50, n_tfs=5, seed=0)
    >>> model = gg.models.GraphImputer(adata, transformer="sklearn")
    >>> model.train(max_epochs=2)  # doctest: +SKIP
    >>> imputed = model.get_imputed()  # (200, 50) log1p(counts normalised to 1e4)  # doctest: +SKIP
    """

    #: above this many cells, ``batch_sampling="auto"`` trains on graph-local batches and
    #: ``max_neighbors="auto"`` samples neighbours
    auto_cluster_cells: int = opts.AUTO_CLUSTER_CELLS
    default_max_epochs = staticmethod(opts.default_max_epochs)

    def __init__(self, adata, *, layer: str | None = "auto", graph_key: str | None = "auto",
                 n_neighbors: int = 15, n_pcs: int = 50, transformer: str | None = None,
                 conv: str = "sgc", n_layers: int = 1, n_hidden: int = 256, n_latent: int = 64,
                 likelihood: str = "auto", activation: str = "relu", dropout: float = 0.4,
                 heads: int = 4, seed: int | None = None) -> None:
        opts.check_architecture(conv=conv, likelihood=likelihood, n_layers=n_layers, dropout=dropout)
        layer = opts.resolve_layer(adata, layer)
        counts, scale, likelihood = opts.read_input(adata, layer, likelihood)
        super().__init__(adata)
        seed = resolve_seed(seed)
        self.seed = seed
        self.layer = layer
        self.input_scale_ = scale
        t0 = time.perf_counter()
        A, pca = get_cell_graph(adata, graph_key=graph_key, layer=layer, n_neighbors=n_neighbors,
                                n_pcs=n_pcs, normalize=scale == "counts",
                                transformer=transformer, seed=seed, return_pca=True)
        adj = gcn_adjacency(A)
        logger.info(f"GraphImputer: cell graph with {adj.nnz} entries "
                    f"({time.perf_counter() - t0:.1f} s)")
        self._init_params: dict[str, Any] = dict(
            layer=layer, graph_key=graph_key, n_neighbors=n_neighbors, n_pcs=n_pcs,
            transformer=transformer, conv=conv, n_layers=n_layers, n_hidden=n_hidden,
            n_latent=n_latent, likelihood=likelihood, activation=activation, dropout=dropout,
            heads=heads, seed=seed)
        features = None
        module_conv = conv
        if conv == "sgc" and n_layers == 1:
            features = torch.from_numpy(
                neighbour_mean(pca, adj) if pca is not None
                else neighbour_mean_pca(counts, adj, n_pcs=n_pcs, seed=seed,
                                        normalize=scale == "counts"))
        elif conv == "sgc":  # no graph: the same masked autoencoder as any n_layers=0
            module_conv = "gcn"
        seed_everything(seed)
        self.module = GraphImputerModule(
            adata.n_vars, n_hidden=n_hidden, n_latent=n_latent, n_layers=n_layers,
            conv=module_conv, likelihood=likelihood, activation=activation, dropout=dropout,
            heads=heads, n_graph_features=0 if features is None else features.shape[1])
        self._graph = ImputerGraph(counts, adj, n_layers=self.module.n_layers,
                                   likelihood=likelihood, graph_features=features, scale=scale)
        self.train_params_: dict[str, Any] = {}
        self.validation_mask_: sp.csr_matrix | None = None

    @property
    def n_cells(self) -> int:
        return self._graph.n_cells

    @property
    def adjacency(self) -> sp.csr_matrix:
        """The GCN-normalised cell graph ``D^-1/2 (A + I) D^-1/2`` the model reads (CSR)."""
        return self._graph.adj

    @property
    def graph_features(self) -> np.ndarray | None:
        """``conv="sgc"``: each cell's graph features ``(cells, n_pcs)``, else ``None``."""
        f = self._graph.graph_features
        return None if f is None else f.numpy()

    # ------------------------------------------------------------------ training
    def train(self, *, max_epochs: int | None = None, batch_size: int | None = 256,
              lr: float = 2e-3, weight_decay: float = 0.0, l1: float = 0.0, l2: float = 0.0,
              mask_fraction: float = 0.2, visible_weight: float = 0.0,
              validation_fraction: float = 0.1, max_validation_cells: int = 2048,
              patience: int | None = 10, device: str | None = None,
              checkpoint_path: str | None = None, resume: bool = False,
              batch_sampling: str = "auto", max_neighbors: int | str | None = "auto",
              distributed: bool = False) -> GraphImputer:
        """Train by masked-entry reconstruction, with early stopping on held-out entries.

        Parameters
        ----------
        max_epochs
            Passes over all cells. Default: ``round(2e5 / n_cells)`` (at most 400) on small
            data, 40 up to 100 000 cells, then ``round(4e6 / n_cells)`` (at least 4), i.e.
            about 4 million cell visits on large data (1 million cells: 4 epochs). Early
            stopping usually ends training sooner.
        batch_size
            Target cells per step (each with its graph neighbourhood). ``None``: all cells in
            one full-batch step per epoch.
        lr, weight_decay
            AdamW learning rate and decoupled weight decay.
        l1, l2
            Lasso / ridge (elastic net with both) penalties on the weight matrices.
        mask_fraction
            Fraction of a batch's entries hidden from the input and reconstructed each step.
        visible_weight
            Weight of the reconstruction loss on the entries left visible (0: masked entries
            only, which forces prediction from context).
        validation_fraction
            Fraction of cells (at most ``max_validation_cells``) in which the same fraction
            ``mask_fraction`` of entries is held out for the whole of training: hidden from
            every input and from the training loss; their reconstruction loss (``val_loss``)
            drives early stopping. 0 disables validation (trains ``max_epochs``).
        max_validation_cells
            Cap on validation cells.
        patience
            Early-stopping patience in epochs.
        device
            ``"cpu"``, ``"cuda"``, ... (default ``settings.device``).
        checkpoint_path, resume
            Resumable checkpoints (see :class:`gnngeno.train.TrainingPlan`).
        batch_sampling
            ``"random"``: batches of random cells; ``"cluster"``: batches of at most
            ``batch_size`` cells that are graph neighbours of each other
            (:func:`gnngeno.data.graph_parts`, visited in a new random order every epoch),
            whose shared neighbourhoods make each step several times smaller on large graphs;
            ``"auto"`` (default): ``"cluster"`` above 50 000 cells, else ``"random"``.
        max_neighbors
            Training steps read at most this many random neighbours per cell and graph layer
            (GraphSAGE-style sampling, :func:`gnngeno.data.sample_neighbourhood`; validation
            and inference always use every neighbour). ``None``: every neighbour (exact);
            ``"auto"`` (default): 5 above 50 000 cells, else ``None``. Models without
            message passing (``conv="sgc"``, ``n_layers=0``) have nothing to sample.
        distributed
            Data-parallel training over the processes started by ``torchrun`` (see
            :class:`gnngeno.train.TrainingPlan`): every step's cells are split between the
            processes, and every process computes the same validation, so early stopping
            agrees. Without torchrun it trains in one process.

        Returns
        -------
        ``self`` (trained), with ``history`` per epoch: ``loss``, ``val_loss``, ``val_l1``
        (median absolute error on held-out non-zero entries in log-normalised space), and
        ``validation_mask_``: sparse boolean (cells, genes), the entries held out.
        """
        n = self.n_cells
        max_epochs = opts.default_max_epochs(n) if max_epochs is None else max_epochs
        bs, batch_sampling, max_neighbors = opts.resolve_batching(
            n, self.module.n_layers, batch_size=batch_size, batch_sampling=batch_sampling,
            max_neighbors=max_neighbors, large=self.auto_cluster_cells)
        opts.check_masking(mask_fraction, validation_fraction, visible_weight)
        seed_everything(self.seed)
        gen = torch.Generator().manual_seed(self.seed)
        plan = TrainingPlan(
            self.module, max_epochs=max_epochs, lr=lr, optimizer="adamw",
            weight_decay=weight_decay, l1=l1, l2=l2, patience=patience, monitor="val_loss",
            device=device, distributed=distributed, checkpoint_path=checkpoint_path,
            resume=resume, metadata={"var_names": self.var_names, "params": self._init_params},
            desc="GraphImputer", generator=gen)
        ctx = plan.setup()
        data = MaskedTrainingData(
            self._graph, self.module, device=ctx.device, batch_size=bs,
            mask_fraction=mask_fraction, visible_weight=visible_weight,
            validation_fraction=validation_fraction, max_validation_cells=max_validation_cells,
            batch_sampling=batch_sampling, max_neighbors=max_neighbors, seed=self.seed,
            generator=gen, rank=ctx.rank, world_size=ctx.world_size)
        if self.module.likelihood == "gaussian" and not (self.is_trained_ or resume):
            with torch.no_grad():  # start at each gene's mean, validation entries left out
                means = self._graph.gene_means(exclude=data.validation_mask())
                self.module.out.bias.copy_(torch.from_numpy(means))
        t0 = time.perf_counter()
        self.history_ = plan.run(data)
        self.module.eval()
        self.is_trained_ = True
        self.validation_mask_ = data.validation_mask()
        self.train_params_ = dict(max_epochs=max_epochs, batch_size=batch_size, lr=lr,
                                  weight_decay=weight_decay, l1=l1, l2=l2,
                                  mask_fraction=mask_fraction, visible_weight=visible_weight,
                                  validation_fraction=validation_fraction, patience=patience,
                                  batch_sampling=batch_sampling,
                                  max_neighbors=max_neighbors, n_processes=ctx.world_size,
                                  epochs_run=len(self.history_),
                                  best_epoch=self.history_.best_epoch,
                                  seconds=time.perf_counter() - t0)
        logger.info(f"GraphImputer trained {len(self.history_)} epochs "
                    f"(best {self.history_.best_epoch}) in {time.perf_counter() - t0:.1f} s")
        h = self.history_
        if data.has_validation and not h.stopped_early and h.best_epoch == len(h) - 1:
            logger.warning(f"GraphImputer stopped at the epoch cap ({max_epochs} epochs) while "
                           "the validation loss was still improving; raise the cap to train "
                           "longer (max_epochs= in Python, --max-epochs on the command line).")
        return self

    # ------------------------------------------------------------------ outputs
    def _check_adata_arg(self, adata) -> None:
        if adata is not None:
            self._check_genes(adata)
            if adata.n_obs != self.n_cells:
                raise InputError(
                    f"GraphImputer imputes the cells it was built on ({self.n_cells}); the "
                    f"AnnData has {adata.n_obs}. Build a new GraphImputer on that AnnData (the "
                    "cell graph is part of the model input).")

    def _inference(self, batch_size: int, device):
        """The module's outputs for every cell, in contiguous chunks ``(rows, out)``."""
        self.module.to(settings.torch_device(device))
        g = self._graph
        chunks = self.module.inference(
            g.features, g.n_cells, adj=g.adj_rows, library=g.library_t,
            graph_features=g.graph_features, subgraph=g.subgraph, batch_size=batch_size)
        return progress(chunks, total=math.ceil(g.n_cells / batch_size), desc="imputing")

    def get_imputed(self, adata=None, *, batch_size: int = 512, device: str | None = None,
                    target_sum: float = TARGET_SUM, keep_observed: bool = True,
                    dtype="float32", out=None) -> np.ndarray:
        """Imputed expression on the input's log scale.

        For counts: ``log1p`` of counts normalised to ``target_sum`` per cell; the prediction
        for nb/zinb is ``log1p(target_sum * rho)`` with ``rho`` the decoded expression
        proportions (the negative-binomial mean over the library size, no zero inflation).
        For log-normalised input: the predicted mean on that scale (clipped at 0).
        With ``keep_observed=True`` (default: dropout imputation) only the zero entries take
        the prediction and every observed entry keeps its own value (for counts
        ``log1p(target_sum * count / library)``; for log-normalised input the input value
        itself), so no measurement is changed; with ``keep_observed=False`` every entry is the
        prediction (denoising, as scVI's normalised expression or MAGIC).

        Parameters
        ----------
        adata
            Optional: checked to have the training genes and cells.
        batch_size
            Cells decoded at a time (memory: ``batch_size x n_genes`` plus the output).
        device
            Torch device (default ``settings.device``).
        target_sum
            Normalisation total (counts only).
        keep_observed
            Fill only the zeros (``True``) or replace every entry by the prediction (``False``).
        dtype
            Output type: ``"float32"`` (default) or ``"float16"``, half the memory (about three
            significant digits: observed values are then rounded too).
        out
            Where to write the rows, batch by batch, instead of a new in-memory array:
            anything supporting ``out[start:stop] = block``, e.g. a
            :class:`gnngeno.io.ChunkWriter` on a ``.h5ad`` file (the result then never is in
            memory whole), an ``h5py`` dataset or a ``np.memmap``.

        Returns
        -------
        Dense array (cells, genes) of ``dtype``, the only cells x genes allocation (``out``
        itself when given). Every entry gets a value, so it takes ``cells * genes * 4`` bytes
        (``2`` for float16), several times a sparse input; stream it with ``out=`` when that
        does not fit.
        """
        self._check_trained()
        self._check_adata_arg(adata)
        dtype = np.dtype(check_choice(str(np.dtype(dtype)), ("float32", "float16"), "dtype"))
        g = self._graph
        out_arr = np.empty(g.counts.shape, dtype=dtype) if out is None else out
        for rows, res in self._inference(batch_size, device):
            block = self.module.normalized_expression(res, target_sum).cpu().numpy()
            if keep_observed:  # zeros are the dropouts; observed entries keep their value
                obs = (g.counts[rows] if g.scale == "log" else log1p_normalized(
                    g.counts[rows], target_sum=target_sum, library=g.library[rows]))
                r = np.repeat(np.arange(obs.shape[0]), np.diff(obs.indptr))
                block[r, obs.indices] = obs.data
            out_arr[rows] = block.astype(dtype, copy=False)
        return out_arr

    def get_latent(self, adata=None, *, batch_size: int = 512,
                   device: str | None = None) -> np.ndarray:
        """Cell embeddings ``(cells, n_latent)``."""
        self._check_trained()
        self._check_adata_arg(adata)
        Z = np.empty((self.n_cells, self.module.lin_z.out_features), dtype=np.float32)
        for rows, res in self._inference(batch_size, device):
            Z[rows] = res["z"].cpu().numpy()
        return Z

    def _extra_state(self) -> dict[str, Any]:
        return {"train_params": self.train_params_}

    def _set_extra_state(self, state: dict[str, Any]) -> None:
        self.train_params_ = state.get("train_params", {})


__all__ = ["GraphImputer"]
