"""GraphImputer: dropout imputation with a GNN over the cell kNN graph."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from .. import _keys as keys
from .._logging import logger, progress
from .._settings import resolve_seed, seed_everything, settings
from .._validate import (
    InputError,
    check_adata,
    check_choice,
    check_nonnegative,
    warn_if_lognormalized,
)
from ..data._minibatch import induced_subgraph, khop_nodes
from ..nn._imputer import IMPUTER_CONVS, IMPUTER_LIKELIHOODS, GraphImputerModule
from ..nn._sparse import to_torch_csr
from ..nn._utils import weight_penalty
from ..pp._mask import log1p_normalized
from ..train import fit
from ._base import BaseModel

TARGET_SUM = 1e4
AUTO_CLUSTER_CELLS = 50_000  # above this, "auto" training uses graph-local batches ...
AUTO_MAX_NEIGHBORS = 5  # ... and samples this many neighbours per cell and layer


def default_max_epochs(n_cells: int) -> int:
    """Default epoch cap of :meth:`GraphImputer.train`: ``round(2e5 / n_cells)`` (at most 400)
    on small data, 40 up to 100 000 cells, then ``round(4e6 / n_cells)`` (at least 4)."""
    n = max(int(n_cells), 1)
    return int(min(400, max(round(2e5 / n), min(40, max(4, round(4e6 / n))))))


def _cell_connectivities(adata, counts: sp.csr_matrix, *, graph_key: str | None,
                         n_neighbors: int, n_pcs: int, transformer, seed: int) -> sp.csr_matrix:
    """The cell kNN connectivities: ``adata.obsp`` under ``graph_key``, or a new graph built
    by :func:`gnngeno.gr.cell_graph` on the log-normalised counts (the caller's AnnData is not
    changed)."""
    import anndata as ad

    if graph_key is not None:
        name = keys.connectivities_key(graph_key)
        for cand in (name, graph_key):
            if cand in adata.obsp:
                A = sp.csr_matrix(adata.obsp[cand], dtype=np.float32)
                break
        else:
            raise InputError(f"graph_key={graph_key!r}: neither {name!r} nor {graph_key!r} is in "
                             f"adata.obsp (present: {list(adata.obsp)}). Build it with "
                             "gnngeno.gr.cell_graph(adata, layer='counts') or pass graph_key=None.")
        if A.shape != (adata.n_obs, adata.n_obs):
            raise InputError(f"the graph {graph_key!r} is {A.shape}, expected cells x cells "
                             f"({adata.n_obs}, {adata.n_obs}).")
        return A
    from ..gr import cell_graph

    holder = ad.AnnData(X=counts)
    n_neighbors = int(min(n_neighbors, adata.n_obs - 1))
    cell_graph(holder, n_neighbors=n_neighbors, n_pcs=n_pcs, normalize=True,
               transformer=transformer, seed=seed)
    return sp.csr_matrix(holder.obsp[keys.connectivities_key(keys.CELL_GRAPH_KEY)],
                         dtype=np.float32)


def neighbour_mean_pca(counts: sp.csr_matrix, adj: sp.csr_matrix, *, n_pcs: int,
                       seed: int) -> np.ndarray:
    """Graph features of ``conv="sgc"``: for every cell, the weighted mean of its graph
    neighbours' PCA coordinates, the cell itself excluded, divided by one global scale.

    The PCA (``n_pcs`` components) is of ``log1p`` of the counts normalised to 1e4, computed by
    :func:`gnngeno.io.chunked_pca` without densifying or centring the counts. Leaving the
    cell out of its own summary means that no entry hidden from a cell's input (by the
    training masks or the validation split) can reach that cell's prediction through it.

    Returns
    -------
    ``(cells, n_pcs)`` float32 (``n_pcs`` capped by the matrix size); rows of cells without
    neighbours are zero.
    """
    import anndata as ad

    from ..io._backed import chunked_pca

    n_comps = int(min(n_pcs, counts.shape[0] - 1, counts.shape[1] - 1))
    if n_comps < 1:
        raise InputError("too few cells or genes for conv='sgc' (its graph features are a PCA); "
                         "use conv='gcn'.")
    scores, _ = chunked_pca(ad.AnnData(X=counts), n_comps=n_comps, normalize=True,
                            target_sum=TARGET_SUM, seed=seed)
    W = sp.csr_matrix(adj, dtype=np.float32, copy=True)
    W.setdiag(0)
    W.eliminate_zeros()
    deg = np.asarray(W.sum(axis=1)).ravel()
    W = sp.diags(np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)) @ W
    feats = np.asarray(W @ scores, dtype=np.float32)
    scale = float(feats.std())
    return feats / scale if scale > 0 else feats


def gcn_normalize(A: sp.spmatrix) -> sp.csr_matrix:
    """``D^-1/2 (A + I) D^-1/2`` of a symmetrised non-negative adjacency (sparse CSR)."""
    A = sp.csr_matrix(A, dtype=np.float32)
    A = A.maximum(A.T)
    A.setdiag(0)
    A.eliminate_zeros()
    A = A + sp.identity(A.shape[0], dtype=np.float32, format="csr")
    deg = np.asarray(A.sum(axis=1)).ravel()
    d = 1.0 / np.sqrt(deg)
    A = sp.diags(d) @ A @ sp.diags(d)
    A = sp.csr_matrix(A, dtype=np.float32)
    A.sort_indices()
    return A


class GraphImputer(BaseModel):
    """Impute dropouts by reconstructing each cell's counts from itself and its graph neighbours.

    A graph encoder over the cell kNN graph embeds every cell from its log-normalised
    expression and its neighbours'; a decoder gives the parameters of a count likelihood per
    gene (negative binomial with the cell's library size and gene-wise dispersion, as in scVI;
    zero-inflated NB; or MSE on log-normalised values). Training is self-supervised: every step
    hides a random ``mask_fraction`` of the entries (zeros and non-zeros) of a batch of cells
    from the input and scores the reconstruction of exactly those entries, so the model learns
    to predict an entry from the rest of the cell and from its neighbours, not to copy it.
    Labels are never used.

    Parameters
    ----------
    adata
        Cells x genes AnnData. Its gene order is stored; a later AnnData must match it.
    layer
        Layer with raw counts (``None``: ``adata.X``). For ``likelihood="nb"``/``"zinb"`` it
        must hold finite, non-negative whole numbers; every cell needs at least one count.
    graph_key
        Use the cell graph in ``adata.obsp[f"{graph_key}_connectivities"]`` (e.g. the one
        :func:`gnngeno.gr.cell_graph` writes under ``"gnngeno_cell"``). ``None`` (default)
        builds a kNN graph on PCA of the log-normalised counts of ``layer`` with
        :func:`gnngeno.gr.cell_graph` without writing it into ``adata``.
    n_neighbors, n_pcs, transformer
        Graph parameters when ``graph_key`` is ``None`` (``transformer="sklearn"`` for an exact
        search on small data).
    conv
        ``"sgc"`` (default): SGC-style (Wu et al. 2019), the graph is read once before
        training: each cell's input layer takes, beside its own expression, the mean of its
        graph neighbours' PCA (``n_pcs`` components of the log-normalised counts; the cell
        itself left out, so no entry hidden from a cell reaches its own prediction), and no
        messages pass during training, so a step costs what a graph-free autoencoder's does.
        ``"gcn"``: residual GCN layers on the cell's and its neighbours' embeddings, every
        step (about twice the CPU time: each batch embeds its graph neighbourhood, ~15 cells
        per target cell). ``"gat"``: the same with attention. On the validation entries of
        ``benchmarks/impute.py``'s masked PBMC and bladder data (seed 0; the benchmark's hidden
        entries and labels unused) ``"sgc"`` reached the GCN's validation loss (PBMC 0.3003 vs
        0.3011, bladder 0.2209 vs 0.2209) in half the CPU time, hence the default.
    n_layers
        Graph layers (hops a cell reads from; 0 = no graph, a masked autoencoder). ``"sgc"``
        reads one hop (``n_layers`` 1) or none (0).
    n_hidden, n_latent
        Hidden width and bottleneck size.
    likelihood
        ``"zinb"`` (default, as scVI), ``"nb"``, or ``"gaussian"`` (MSE on ``log1p`` of counts
        normalised to 1e4). The imputed value is the negative-binomial mean without the
        zero-inflation (the denoised expression).
    activation
        Activation name (``"relu"``, ``"elu"``, ``"gelu"``, ``"leaky_relu"``, ...).
    dropout
        Dropout after hidden layers. The default 0.4 was chosen on a validation mask (10% of
        the non-zeros, disjoint from the evaluation mask of ``benchmarks/impute.py``) on PBMC
        4k among 0, 0.1, 0.2, 0.3, 0.4 and 0.5: against 0.1 it lowered the validation median
        L1 from 0.98 to 0.92 and RMSE from 1.27 to 1.20 at the same Pearson r (0.82); on the
        bladder data it lowered them from 1.15 to 1.11 and 1.63 to 1.60 (r 0.67 -> 0.66).
    heads
        Attention heads for ``conv="gat"``.
    seed
        Random seed for the graph, initialisation and training (default ``settings.seed``).

    Notes
    -----
    Memory. Nothing of size cells x cells is ever dense: the graph is a sparse normalised
    adjacency with about ``n_cells * 2 * n_neighbors`` entries, and propagation is a sparse
    product. The counts stay sparse (CSR); ``"sgc"`` adds its graph features, ``cells x
    n_pcs`` float32 (200 MB for 1 million cells). Training and inference run on batches of cells
    together with their ``n_layers``-hop neighbourhood: the largest dense tensors are
    ``batch_size x n_genes`` (targets, masks, decoder output) and ``neighbourhood x n_hidden``.
    So training memory is ``O(nnz(counts) + n_cells * n_neighbors)`` (linear in cells);
    :meth:`get_imputed` runs GCN models layer by layer over the whole graph (two
    ``cells x n_hidden`` float32 arrays: 2 GB for 1 million cells at ``n_hidden=256``) and adds
    its output, a dense ``float32`` cells x genes array filled batch by batch (4 bytes per entry:
    0.8 GB for 100 000 cells x 2 000 genes), or streams it to ``out=`` (e.g. a file).

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

    def __init__(self, adata, *, layer: str | None = keys.COUNTS_LAYER,
                 graph_key: str | None = None, n_neighbors: int = 15, n_pcs: int = 50,
                 transformer: str | None = None, conv: str = "sgc", n_layers: int = 1,
                 n_hidden: int = 256, n_latent: int = 64, likelihood: str = "zinb",
                 activation: str = "relu", dropout: float = 0.4, heads: int = 4,
                 seed: int | None = None) -> None:
        check_choice(conv, IMPUTER_CONVS, "conv")
        check_choice(likelihood, IMPUTER_LIKELIHOODS, "likelihood")
        if n_layers < 0:
            raise InputError(f"n_layers must be >= 0, got {n_layers}.")
        if conv == "sgc" and n_layers > 1:
            raise InputError(f"conv='sgc' reads one hop of the graph (n_layers=1) or none (0), "
                             f"got n_layers={n_layers}; use conv='gcn' for deeper layers.")
        if not 0.0 <= dropout < 1.0:
            raise InputError(f"dropout={dropout} must lie in [0, 1).")
        what = f"adata.layers[{layer!r}]" if layer else "adata.X"
        if likelihood == "gaussian":
            X = check_adata(adata, layer=layer, allow_empty_cells=False, what=what)
            check_nonnegative(X, what)
            warn_if_lognormalized(X, what)
        else:
            X = check_adata(adata, layer=layer, counts=True, allow_empty_cells=False, what=what)
        super().__init__(adata)
        seed = resolve_seed(seed)
        self.seed = seed
        self.layer = layer
        counts = sp.csr_matrix(X, dtype=np.float32, copy=True)
        counts.eliminate_zeros()
        counts.sort_indices()
        self._counts = counts
        self._library = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
        t0 = time.perf_counter()
        A = _cell_connectivities(adata, counts, graph_key=graph_key, n_neighbors=n_neighbors,
                                 n_pcs=n_pcs, transformer=transformer, seed=seed)
        self._adj = gcn_normalize(A)
        logger.info(f"GraphImputer: cell graph with {self._adj.nnz} entries "
                    f"({time.perf_counter() - t0:.1f} s)")
        self._init_params: dict[str, Any] = dict(
            layer=layer, graph_key=graph_key, n_neighbors=n_neighbors, n_pcs=n_pcs,
            transformer=transformer, conv=conv, n_layers=n_layers, n_hidden=n_hidden,
            n_latent=n_latent, likelihood=likelihood, activation=activation, dropout=dropout,
            heads=heads, seed=seed)
        self._graph_features: torch.Tensor | None = None
        module_conv = conv
        if conv == "sgc" and n_layers == 1:
            self._graph_features = torch.from_numpy(
                neighbour_mean_pca(counts, self._adj, n_pcs=n_pcs, seed=seed))
        elif conv == "sgc":  # no graph: the same masked autoencoder as any n_layers=0
            module_conv = "gcn"
        seed_everything(seed)
        self.module = GraphImputerModule(
            adata.n_vars, n_hidden=n_hidden, n_latent=n_latent, n_layers=n_layers,
            conv=module_conv, likelihood=likelihood, activation=activation, dropout=dropout,
            heads=heads, n_graph_features=0 if self._graph_features is None
            else self._graph_features.shape[1])
        self.train_params_: dict[str, Any] = {}

    # ------------------------------------------------------------------ batches
    @property
    def n_cells(self) -> int:
        return self._counts.shape[0]

    def _sampled_neighbourhood(self, cells: np.ndarray, max_neighbors: int,
                               rng: np.random.Generator) -> tuple[np.ndarray, sp.csr_matrix]:
        """``cells`` and at most ``max_neighbors`` random neighbours per cell and hop (GraphSAGE
        sampling), with the batch adjacency: each sampled row keeps its self-loop and scales
        its kept neighbour weights by ``(neighbours) / (kept)``, so that ``Â h`` is estimated
        without bias; rows of the last hop's nodes are empty (their outputs are not used)."""
        n = self._adj.shape[0]
        pos = np.full(n, -1, dtype=np.int64)
        pos[cells] = np.arange(cells.size)
        nodes, rows, cols, vals = [np.asarray(cells, np.int64)], [], [], []
        frontier, n_nodes = nodes[0], cells.size
        for _ in range(self.module.n_layers):
            sub = self._adj[frontier]
            r = np.repeat(np.arange(frontier.size), np.diff(sub.indptr))
            c, w = sub.indices.astype(np.int64), sub.data.astype(np.float32)
            is_self = c == frontier[r]
            key = rng.random(c.size)
            key[is_self] = -1.0  # the self-loop is always kept
            order = np.lexsort((key, r))
            r, c, w, is_self = r[order], c[order], w[order], is_self[order]
            starts = np.searchsorted(r, np.arange(frontier.size))
            rank = np.arange(r.size) - starts[r]
            n_self = np.bincount(r[is_self], minlength=frontier.size)
            n_other = np.bincount(r, minlength=frontier.size) - n_self
            keep = rank < n_self[r] + max_neighbors
            r, c, w, is_self = r[keep], c[keep], w[keep], is_self[keep]
            kept_other = np.minimum(n_other, max_neighbors)
            scale = np.divide(n_other, kept_other, out=np.ones(frontier.size, np.float64),
                              where=kept_other > 0)
            w = np.where(is_self, w, w * scale[r]).astype(np.float32)
            new = np.unique(c[pos[c] < 0])
            pos[new] = np.arange(new.size) + n_nodes
            n_nodes += new.size
            nodes.append(new)
            rows.append(pos[frontier][r])
            cols.append(pos[c])
            vals.append(w)
            frontier = new
        nodes_arr = np.concatenate(nodes)
        adj = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                            shape=(nodes_arr.size, nodes_arr.size), dtype=np.float32)
        adj.sort_indices()
        return nodes_arr, adj

    def _batch(self, cells: np.ndarray, hide: np.ndarray | None, device,
               max_neighbors: int | None = None, rng: np.random.Generator | None = None,
               held_out=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sparse input features and adjacency of ``cells`` plus their neighbourhood.

        ``hide`` (len(cells) x genes bool) removes entries of the target cells from the input.
        ``held_out(rows, cols) -> bool`` names further entries (any node of the neighbourhood)
        to remove, e.g. the validation entries; the stored counts are never copied or changed.
        ``max_neighbors``: sample at most that many neighbours per cell and hop (with ``rng``;
        the adjacency is then not symmetric); ``None``: the exact neighbourhood.
        Returns ``(x, adj, target)`` with target = ``arange(len(cells))``.
        """
        if max_neighbors is None or self.module.n_layers == 0:  # nothing to sample
            nodes = khop_nodes(self._adj, cells, self.module.n_layers)
            sub_adj = None
        else:
            nodes, sub_adj = self._sampled_neighbourhood(np.asarray(cells, np.int64),
                                                         int(max_neighbors), rng)
        sub = sp.csr_matrix(self._counts[nodes])
        if hide is not None or held_out is not None:
            r = np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))
            drop = np.zeros(r.size, dtype=bool)
            if hide is not None:
                in_batch = r < len(cells)
                drop[in_batch] = hide[r[in_batch], sub.indices[in_batch]]
            if held_out is not None:
                drop |= held_out(nodes[r], sub.indices)
            data = sub.data.copy()
            data[drop] = 0.0
            sub = sp.csr_matrix((data, sub.indices, sub.indptr), shape=sub.shape)
            sub.eliminate_zeros()
        x = to_torch_csr(log1p_normalized(sub, target_sum=TARGET_SUM), device)
        if sub_adj is None:
            sub_adj = induced_subgraph(self._adj, nodes)
        adj = to_torch_csr(sub_adj, device)
        target = torch.arange(len(cells), device=device)
        return x, adj, target

    def _graph_rows(self, cells: np.ndarray, device) -> torch.Tensor | None:
        """``conv="sgc"``: the graph features of ``cells`` (``None`` for the other encoders)."""
        if self._graph_features is None:
            return None
        return self._graph_features[torch.as_tensor(np.asarray(cells))].to(device)

    def _targets(self, cells: np.ndarray, device) -> torch.Tensor:
        Y = self._counts[cells].toarray()
        if self.module.likelihood == "gaussian":
            lib = self._library[cells]
            Y = np.log1p(Y * (TARGET_SUM / lib)[:, None])
        return torch.from_numpy(Y.astype(np.float32)).to(device)

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
            Passed to :func:`gnngeno.train.fit` (resumable training).
        batch_sampling
            ``"random"``: batches of random cells; ``"cluster"``: batches of at most
            ``batch_size`` cells that are graph neighbours of each other (balls grown
            breadth-first on the graph, :func:`gnngeno.data.partition_cells` with
            ``method="bfs"``, visited in a new random order every epoch), whose shared
            neighbourhoods make the halo, and so each step, several times smaller on large
            graphs; ``"auto"`` (default): ``"cluster"`` above 50 000 cells, else ``"random"``.
        max_neighbors
            Training steps read at most this many random neighbours per cell and graph layer
            (GraphSAGE-style sampling, weights rescaled so the neighbourhood sum is unbiased;
            validation and inference always use every neighbour). ``None``: every neighbour
            (exact); ``"auto"`` (default): 5 above 50 000 cells, where a batch's full
            neighbourhood is ~20x its cells on a 15-NN graph, else ``None``. Models without
            message passing (``conv="sgc"``, ``n_layers=0``) have nothing to sample.
        distributed
            Data-parallel training over the processes started by ``torchrun`` (DDP; gloo on
            CPU, nccl on GPU): every step's ``batch_size`` cells are split between the
            processes, gradients are averaged, the logged losses too, and every process
            computes the same validation, so early stopping agrees. Joins the process group
            when torchrun started this process and none exists yet (see
            :func:`gnngeno.train.init_distributed`; call :func:`gnngeno.train.cleanup` at the
            end). Without torchrun it trains in one process. Only rank 0 writes checkpoints.

        Returns
        -------
        ``self`` (trained), with ``history`` per epoch: ``loss``, ``val_loss``, ``val_l1``
        (median absolute error on held-out non-zero entries in log-normalised space).
        """
        if not 0.0 < mask_fraction < 1.0:
            raise InputError(f"mask_fraction={mask_fraction} must lie strictly between 0 and 1.")
        if not 0.0 <= validation_fraction < 1.0:
            raise InputError(f"validation_fraction={validation_fraction} must lie in [0, 1).")
        if visible_weight < 0:
            raise InputError(f"visible_weight must be >= 0, got {visible_weight}.")
        n = self.n_cells
        G = self._counts.shape[1]
        if max_epochs is None:
            max_epochs = default_max_epochs(n)
        bs = n if batch_size is None else int(min(batch_size, n))
        if bs < 1:
            raise InputError(f"batch_size must be >= 1 or None, got {batch_size}.")
        check_choice(batch_sampling, ("auto", "random", "cluster"), "batch_sampling")
        if batch_sampling == "auto":
            batch_sampling = "cluster" if n > AUTO_CLUSTER_CELLS else "random"
        if isinstance(max_neighbors, str):
            check_choice(max_neighbors, ("auto",), "max_neighbors")
            max_neighbors = (AUTO_MAX_NEIGHBORS if n > AUTO_CLUSTER_CELLS
                             and self.module.n_layers > 0 else None)
        elif max_neighbors is not None and int(max_neighbors) < 1:
            raise InputError(f"max_neighbors must be >= 1, None or 'auto', got {max_neighbors}.")
        dev = settings.torch_device(device)
        from ..train import _distributed as D

        if distributed and D.launched_by_torchrun() and not D.is_distributed():
            D.init_distributed(device=device)
        dist_on = bool(distributed) and D.is_distributed()
        if distributed and not dist_on:
            logger.info("GraphImputer: distributed=True without a torchrun process group; "
                        "training in one process.")
        rank, world = (D.get_rank(), D.get_world_size()) if dist_on else (0, 1)
        if dist_on and dev.type == "cuda":
            dev = torch.device("cuda", torch.cuda.current_device())
        seed_everything(self.seed)
        gen = torch.Generator().manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        module = self.module.to(dev)

        # fixed validation entries: hidden from every input and from the training loss
        n_val = int(min(max_validation_cells, round(validation_fraction * n)))
        if validation_fraction > 0 and n_val < 1:
            n_val = 1
        val_cells = np.sort(rng.choice(n, size=n_val, replace=False)) if n_val else np.array([], int)
        val_mask = rng.random((n_val, G)) < mask_fraction
        val_pos = np.full(n, -1, dtype=np.int64)
        val_pos[val_cells] = np.arange(n_val)
        if n_val:  # a validation cell would lose all its counts: keep it whole
            sub = self._counts[val_cells]
            r = np.repeat(np.arange(n_val), np.diff(sub.indptr))
            left = np.bincount(r[~val_mask[r, sub.indices]], minlength=n_val)
            val_mask[left == 0] = False

        def held_out(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
            """The validation entries among (rows, cols): hidden from every input."""
            p = val_pos[rows]
            out = p >= 0
            out[out] = val_mask[p[out], cols[out]]
            return out

        train_cells = np.arange(n)

        opt = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=weight_decay)
        lib_t = torch.from_numpy(self._library.astype(np.float32))
        net = D.wrap_ddp(module) if dist_on else module
        parts = None
        if batch_sampling == "cluster" and bs < n:
            from ..data._minibatch import partition_cells

            labels = partition_cells(self._adj, n_parts=max(1, math.ceil(n / bs)),
                                     method="bfs", seed=self.seed)
            order = np.argsort(labels, kind="stable")
            parts = np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)

        def step_loss(cells: np.ndarray, hide: np.ndarray, loss_mask: np.ndarray) -> torch.Tensor:
            x, adj, target = self._batch(cells, hide, dev, max_neighbors, rng,
                                         held_out if n_val else None)
            out = net(x, adj, target, lib_t[cells].to(dev), symmetric=max_neighbors is None,
                      graph_features=self._graph_rows(cells, dev))
            y = self._targets(cells, dev)
            m = torch.from_numpy(loss_mask).to(dev)
            if visible_weight > 0:
                ll = module.log_likelihood(y, out)
                v = ~m
                return (-(ll * m).sum() / m.sum().clamp(min=1)
                        - visible_weight * (ll * v).sum() / v.sum().clamp(min=1))
            # the likelihood of the hidden entries only (a fifth of the batch by default)
            r, c = m.nonzero(as_tuple=True)
            picked = {k: (v[c] if k == "theta" else v[r, c]) for k, v in out.items()
                      if k in ("mu", "theta", "pi_logits", "mean")}
            return -module.log_likelihood(y[r, c], picked).sum() / max(int(r.numel()), 1)

        def batches() -> list[np.ndarray]:
            if parts is not None:
                return [np.sort(parts[i]) for i in torch.randperm(len(parts), generator=gen)]
            perm = train_cells[torch.randperm(n, generator=gen).numpy()]
            return [np.sort(perm[start:start + bs]) for start in range(0, n, bs)]

        def train_epoch(epoch: int) -> dict[str, float]:
            module.train()
            total, steps = 0.0, 0
            for cells in batches():
                # the same draws on every process; each process then takes its share
                hide = (torch.rand(len(cells), G, generator=gen) < mask_fraction).numpy()
                if world > 1:
                    mine = np.arange(rank, len(cells), world)
                    mine = mine if mine.size else np.arange(1)  # every process must step
                    cells, hide = cells[mine], hide[mine]
                loss_mask = hide.copy()
                pos = val_pos[cells]
                isval = pos >= 0
                if isval.any():
                    loss_mask[isval] &= ~val_mask[pos[isval]]
                loss = step_loss(cells, hide, loss_mask)
                if l1 or l2:
                    loss = loss + weight_penalty(module.parameters(), l1=l1, l2=l2).to(dev)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss.detach())
                steps += 1
            return D.reduce_dict({"loss": total / max(steps, 1)}) if dist_on else \
                {"loss": total / max(steps, 1)}

        def validate() -> dict[str, float]:
            losses, errs = [], []
            for start in range(0, n_val, 512):
                cells = val_cells[start:start + 512]
                vm = val_mask[start:start + 512]
                x, adj, target = self._batch(cells, None, dev, held_out=held_out)
                out = module(x, adj, target, lib_t[cells].to(dev),
                             graph_features=self._graph_rows(cells, dev))
                y = self._targets(cells, dev)
                ll = module.log_likelihood(y, out)
                m = torch.from_numpy(vm).to(dev)
                losses.append(float(-(ll * m).sum()))
                pred = module.normalized_expression(out, TARGET_SUM)
                if module.likelihood == "gaussian":
                    true = y
                else:
                    true = torch.log1p(y / lib_t[cells].to(dev).unsqueeze(1) * TARGET_SUM)
                nzm = m & (y > 0)
                errs.append((pred - true).abs()[nzm].cpu().numpy())
            e = np.concatenate(errs) if errs else np.array([np.nan])
            return {"val_loss": sum(losses) / max(int(val_mask.sum()), 1),
                    "val_l1": float(np.median(e)) if e.size else float("nan")}

        t0 = time.perf_counter()
        self.history_ = fit(
            module, opt, train_epoch, max_epochs=max_epochs,
            validate=validate if n_val else None, monitor="val_loss", patience=patience,
            checkpoint_path=checkpoint_path, resume=resume,
            metadata={"var_names": self.var_names, "params": self._init_params},
            desc="GraphImputer", generator=gen)
        module.eval()
        self.is_trained_ = True
        self.train_params_ = dict(max_epochs=max_epochs, batch_size=batch_size, lr=lr,
                                  weight_decay=weight_decay, l1=l1, l2=l2,
                                  mask_fraction=mask_fraction, visible_weight=visible_weight,
                                  validation_fraction=validation_fraction, patience=patience,
                                  batch_sampling=batch_sampling,
                                  max_neighbors=max_neighbors, n_processes=world,
                                  epochs_run=len(self.history_),
                                  best_epoch=self.history_.best_epoch,
                                  seconds=time.perf_counter() - t0)
        logger.info(f"GraphImputer trained {len(self.history_)} epochs "
                    f"(best {self.history_.best_epoch}) in {time.perf_counter() - t0:.1f} s")
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

    @torch.no_grad()
    def _forward_all(self, batch_size: int, device, fn) -> None:
        """Run the trained module over every cell in contiguous chunks, calling
        ``fn(cells, outputs)`` per chunk.

        GCN models infer layer by layer over the whole graph (as PyG's layer-wise inference):
        the input embedding of every cell once, then each graph layer as row chunks of the
        sparse product ``Â H``, then the decoder per chunk. Each cell is embedded once, where
        chunks with their graph neighbourhood would embed every neighbour again (about 20x
        the cells on a 15-NN graph); the extra memory is two ``cells x n_hidden`` float32
        arrays. GAT models go chunk by chunk with their neighbourhood, SGC and graph-free
        models chunk by chunk on their own rows.
        """
        dev = settings.torch_device(device)
        module = self.module.to(dev)
        module.eval()
        lib_t = torch.from_numpy(self._library.astype(np.float32))
        n = self.n_cells
        chunks = range(0, n, batch_size)
        if module.n_layers == 0 or any(layer.conv_name != "gcn" for layer in module.layers):
            for start in progress(chunks, total=math.ceil(n / batch_size), desc="imputing"):
                cells = np.arange(start, min(start + batch_size, n))
                x, adj, target = self._batch(cells, None, dev)
                out = module(x, adj, target, lib_t[cells].to(dev),
                             graph_features=self._graph_rows(cells, dev))
                fn(cells, out)
            return
        bar = progress(total=(module.n_layers + 2) * len(chunks), desc="imputing")
        H = torch.empty((n, module.lin_in.out_features), dtype=torch.float32)
        for start in chunks:
            cells = np.arange(start, min(start + batch_size, n))
            x = to_torch_csr(log1p_normalized(self._counts[cells], target_sum=TARGET_SUM), dev)
            H[cells] = module.embed_input(x).cpu()
            bar.update()
        for layer in module.layers:
            H_next = torch.empty_like(H)
            Hd = H.to(dev)
            for start in chunks:
                stop = min(start + batch_size, n)
                rows = to_torch_csr(self._adj[start:stop], dev)
                H_next[start:stop] = layer.combine(Hd[start:stop], torch.sparse.mm(rows, Hd)).cpu()
                bar.update()
            H = H_next
        for start in chunks:
            cells = np.arange(start, min(start + batch_size, n))
            out = module.decode(module.lin_z(H[cells].to(dev)), lib_t[cells].to(dev))
            fn(cells, out)
            bar.update()
        bar.close()

    def get_imputed(self, adata=None, *, batch_size: int = 512, device: str | None = None,
                    target_sum: float = TARGET_SUM, keep_observed: bool = True,
                    out=None) -> np.ndarray:
        """Imputed expression: ``log1p`` of counts normalised to ``target_sum`` per cell.

        The model's prediction for nb/zinb is ``log1p(target_sum * rho)`` with ``rho`` the
        decoded expression proportions (the negative-binomial mean divided by the library size,
        no zero inflation). With ``keep_observed=True`` (default: dropout imputation) only the
        zero entries take the prediction and every observed count keeps its own value,
        ``log1p(target_sum * count / library)``, so no measurement is changed; with
        ``keep_observed=False`` every entry is the prediction (denoising, as scVI's
        normalised expression or MAGIC).

        Parameters
        ----------
        adata
            Optional: checked to have the training genes and cells.
        batch_size
            Cells decoded at a time (memory: ``batch_size x n_genes`` plus the output).
        device
            Torch device (default ``settings.device``).
        target_sum
            Normalisation total.
        keep_observed
            Fill only the zeros (``True``) or replace every entry by the prediction (``False``).
        out
            Where to write the rows, batch by batch, instead of a new in-memory array:
            anything supporting ``out[start:stop] = block``, e.g. a
            :class:`gnngeno.io.ChunkWriter` on a ``.h5ad`` file (the result then never is in
            memory whole), an ``h5py`` dataset or a ``np.memmap``.

        Returns
        -------
        Dense ``float32`` array (cells, genes), the only cells x genes allocation (``out``
        itself when given).
        """
        self._check_trained()
        self._check_adata_arg(adata)
        out_arr = np.empty(self._counts.shape, dtype=np.float32) if out is None else out

        def put(cells, res):
            block = self.module.normalized_expression(res, target_sum).cpu().numpy()
            if keep_observed:  # the model's counts: zeros are the dropouts
                obs = log1p_normalized(self._counts[cells], target_sum=target_sum,
                                       library=self._library[cells])
                r = np.repeat(np.arange(obs.shape[0]), np.diff(obs.indptr))
                block[r, obs.indices] = obs.data
            out_arr[int(cells[0]):int(cells[-1]) + 1] = block  # cells are contiguous

        self._forward_all(batch_size, device, put)
        return out_arr

    def get_latent(self, adata=None, *, batch_size: int = 512,
                   device: str | None = None) -> np.ndarray:
        """Cell embeddings ``(cells, n_latent)``."""
        self._check_trained()
        self._check_adata_arg(adata)
        Z = np.empty((self.n_cells, self.module.lin_z.out_features), dtype=np.float32)

        def put(cells, out):
            Z[cells] = out["z"].cpu().numpy()

        self._forward_all(batch_size, device, put)
        return Z

    def _extra_state(self) -> dict[str, Any]:
        return {"train_params": self.train_params_}

    def _set_extra_state(self, state: dict[str, Any]) -> None:
        self.train_params_ = state.get("train_params", {})


__all__ = ["GraphImputer", "default_max_epochs", "gcn_normalize", "neighbour_mean_pca"]
