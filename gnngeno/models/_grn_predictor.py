"""GRNPredictor: rank TF -> gene edges with a graph neural network on an AnnData."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._compat import renamed_kwargs
from .._logging import logger
from .._settings import resolve_seed, seed_everything
from .._validate import InputError, check_adata, check_tfs
from ..data._grn_graph import coexpression_edges, correlation
from ..data._link_split import LinkSplit
from ..nn import GNNEncoder, LinkDecoder, LinkPredictor
from ..train import TrainingPlan
from ._base import BaseModel
from ._grn_data import GRNTrainingData
from ._grn_features import (
    GeneGraph,
    check_architecture,
    default_regulators,
    node_features,
    resolve_options,
    training_split,
    validation_set,
)
from ._grn_pair_features import expression_pair_features, resolve_pair_features
from ._grn_scoring import GRNScoring


class GRNPredictor(GRNScoring, BaseModel):
    """Graph-neural-network link prediction of regulatory edges TF -> gene.

    Genes are nodes. Node features are the genes' standardised expression profiles over cells
    (PCA-reduced), optionally extra gene features from ``adata.varm`` (e.g. sequence embeddings)
    and the log in/out degree in the training graph. A GCN, GAT or GATv2 encoder passes messages
    over the training edges (made undirected; optionally plus co-expression neighbours), and a
    decoder scores every TF -> gene pair from the two embeddings, the pair's degrees and what
    the classic methods know of it (absolute Pearson / Spearman correlation, a GENIE3-style
    tree importance).

    On transductive splits (TFs seen in training) the training graph's degrees are the
    strongest single signal, and a GNN over that graph can learn shortcuts that never hold for
    the pairs it must rank (a scored edge is in its own message graph and degrees; a gene seen
    only as a negative looks "never a target"). :meth:`train` therefore, by default, scores
    each epoch a held-out share of the training positives that are removed from message
    passing and degrees (``supervision_fraction``), uses leave-one-out degrees in the decoder,
    stops early on validation pairs extended with random candidates (``validation_candidates``:
    the ranking is over all TF x gene pairs), and adds the degree-only log score with a weight
    chosen on validation pairs (``degree_blend``), so that it contains degree-only as a special
    case.

    Two modes (chosen by :meth:`train`):

    - **supervised**: known TF -> target edges split into train / validation / test, learnt
      against negatives re-drawn every epoch, early stopping on (smoothed) validation AUPRC;
    - **self-supervised** (no prior): the targets are the strongest co-expression pairs (a
      graph-smoothed co-expression network).

    Parameters
    ----------
    adata
        Cells x genes AnnData (counts are log-normalised internally; log values are used as is).
    tfs
        Candidate TFs (gene names). Default: ``adata.var["is_tf"]`` when present, else every
        gene (BEELINE's convention).
    layer
        Expression layer (``None``: ``adata.X``).
    gene_features
        Key of ``adata.varm`` with extra gene features to append (``None``: none).
    n_pcs
        Principal components of the standardised expression profiles used as features
        (``None``: the full profile).
    conv
        Graph convolution of the encoder: ``"gcn"``, ``"gat"`` or ``"gatv2"``.
    n_layers, n_hidden, n_latent
        Encoder depth (1-5), hidden width and gene embedding size.
    heads, residual
        Attention heads (GAT/GATv2; ``n_hidden`` and ``n_latent`` must be divisible by it) and
        residual connections.
    decoder
        ``"bilinear"`` (directed, default), ``"dot"`` or ``"mlp"``.
    node_bias
        Learnable per-gene source and target bias in the decoder (captures how many targets a
        TF has; transductive: genes unseen in training keep 0). ``None`` (auto): on, except
        for held-out-TF splits and the self-supervised mode, where it cannot help.
    degree_features
        Use the log training-graph degrees as node features and as decoder pair features
        (leave-one-out for training positives, so that training matches prediction).
        ``None`` (auto): as ``node_bias``.
    coexpression_k
        Add each gene's ``k`` strongest co-expression partners to the message-passing graph
        (0: prior edges only). ``None`` (auto): 10 in the self-supervised mode, else 0.
    node_embeddings
        Size of a learnable embedding per gene appended to the node features (transductive;
        ``None`` or 0: none).
    pair_features
        Expression features of every regulator -> gene pair added to the decoder's pair
        features: ``"pearson"``, ``"spearman"`` (absolute correlation) and ``"tree"`` (a
        GENIE3-style tree importance), each as its quantile over all pairs (see
        :func:`gnngeno.models.expression_pair_features`). ``"auto"``: all three when learning
        from known edges, none in the self-supervised mode; ``None``: none.
    message_passing
        ``False``: the encoder sees no graph (each layer reads only the gene itself); same
        features, decoder and training: the ablation that shows what the graph adds.
    activation, dropout
        Non-linearity and dropout of the encoder.
    seed
        Random seed (default ``settings.seed``); runs on CPU repeat exactly.

    Examples
    --------
    >>> import gnngeno as gg
    >>> adata, net = gg.datasets.simulate(n_cells=100, n_genes=40, n_tfs=5, seed=0)
    >>> model = gg.models.GRNPredictor(adata, seed=0)
    >>> model.train(net, max_epochs=5)  # doctest: +ELLIPSIS
    GRNPredictor(...)
    >>> model.get_edges().columns.tolist()
    ['source', 'target', 'score']
    """

    _params_before = {"pair_features": None}  # models saved before the decoder read them

    @renamed_kwargs(encoder="conv", num_layers="n_layers", hidden_dim="n_hidden",
                    out_dim="n_latent", n_components="n_pcs")
    def __init__(
        self,
        adata,
        *,
        tfs: Sequence[str] | None = None,
        layer: str | None = None,
        gene_features: str | None = None,
        n_pcs: int | None = 64,
        conv: str = "gcn",
        n_layers: int = 2,
        n_hidden: int = 64,
        n_latent: int = 32,
        heads: int = 4,
        residual: bool = True,
        decoder: str = "bilinear",
        node_bias: bool | None = None,
        degree_features: bool | None = None,
        coexpression_k: int | None = None,
        node_embeddings: int | None = None,
        pair_features: str | Sequence[str] | None = "auto",
        message_passing: bool = True,
        activation: str = "relu",
        dropout: float = 0.2,
        seed: int | None = None,
    ):
        check_architecture(conv=conv, decoder=decoder, n_layers=n_layers, n_hidden=n_hidden,
                           n_latent=n_latent, heads=heads, coexpression_k=coexpression_k,
                           pair_features=pair_features)
        X = check_adata(adata, layer=layer, min_cells=3, min_genes=2)
        super().__init__(adata)
        genes = self.var_names
        tfs = check_tfs(default_regulators(adata) if tfs is None else tfs, genes)
        seed = resolve_seed(seed)
        self._init_params = dict(
            tfs=list(tfs), layer=layer, gene_features=gene_features, n_pcs=n_pcs, conv=conv,
            n_layers=n_layers, n_hidden=n_hidden, n_latent=n_latent, heads=heads,
            residual=residual, decoder=decoder, node_bias=node_bias,
            degree_features=degree_features, coexpression_k=coexpression_k,
            node_embeddings=node_embeddings, pair_features=pair_features,
            message_passing=bool(message_passing), activation=activation, dropout=dropout,
            seed=seed,
        )
        self.seed = seed
        self.tfs = list(tfs)
        self.tf_index = pd.Index(genes).get_indexer(self.tfs).astype(np.int64)
        self.n_genes = len(genes)
        self._X = X
        self.features_ = node_features(adata, X, key=gene_features, n_pcs=n_pcs,
                                       tf_index=self.tf_index, seed=seed)
        self.train_pos_: np.ndarray = np.zeros((2, 0), np.int64)
        self.coexp_edges_: np.ndarray | None = None
        self.pair_features_: np.ndarray | None = None
        self.split_: LinkSplit | None = None
        self.mode_: str | None = None
        self.train_time_: float | None = None
        self.degree_blend_: float = 0.0
        self.val_pairs_: np.ndarray | None = None
        self.val_labels_: np.ndarray | None = None
        self._user_opts = dict(node_bias=node_bias, degree_features=degree_features,
                               coexpression_k=coexpression_k, node_embeddings=node_embeddings)
        self._build_module()

    def _build_module(self, mode: str | None = None, split: str | None = None) -> None:
        """(Re)build the torch module for the resolved options, seeded."""
        p = self._init_params
        self._opts = resolve_options(self._user_opts, mode, split)
        self._opts["pair_features"] = resolve_pair_features(p["pair_features"], mode)
        seed_everything(self.seed)
        in_dim = (self.features_.shape[1] + (2 if self._opts["degree_features"] else 0)
                  + self._opts["node_embeddings"])
        enc = GNNEncoder(in_dim, p["n_hidden"], p["n_latent"], p["n_layers"], conv=p["conv"],
                         activation=p["activation"], dropout=p["dropout"],
                         residual=p["residual"], heads=p["heads"])
        dec = LinkDecoder(p["n_latent"], kind=p["decoder"],
                          n_nodes=self.n_genes if self._opts["node_bias"] else None,
                          n_pair_features=(2 * self._opts["degree_features"]
                                           + len(self._opts["pair_features"])),
                          activation=p["activation"], dropout=p["dropout"])
        self.module = LinkPredictor(enc, dec, n_nodes=self.n_genes,
                                    embedding_dim=self._opts["node_embeddings"])

    def _graph(self) -> GeneGraph:
        """The gene graph of the training positives (co-expression edges computed once)."""
        coexp = None
        if self._opts["coexpression_k"] > 0:
            if self.coexp_edges_ is None:
                self.coexp_edges_ = coexpression_edges(correlation(self._X),
                                                       np.arange(self.n_genes),
                                                       self._opts["coexpression_k"])
            coexp = self.coexp_edges_
        kinds = tuple(self._opts["pair_features"])
        if kinds and (self.pair_features_ is None or self.pair_features_.shape[-1] != len(kinds)):
            self.pair_features_ = expression_pair_features(self._X, self.tf_index, kinds,
                                                           seed=self.seed)
        return GeneGraph(self.features_, self.train_pos_, self._opts["degree_features"], coexp,
                         self.pair_features_ if kinds else None, self.tf_index,
                         message_passing=self._init_params["message_passing"])

    # ------------------------------------------------------------------ training
    def train(
        self,
        prior: pd.DataFrame | None = None,
        *,
        split: str | LinkSplit | Mapping[str, pd.DataFrame] = "random",
        fractions: Sequence[float] = (0.7, 0.1, 0.2),
        max_epochs: int = 300,
        lr: float = 0.01,
        l1: float = 0.0,
        l2: float = 0.0,
        patience: int | None = 30,
        negative_ratio: float = 1.0,
        self_supervised_fraction: float = 0.1,
        supervision_fraction: float | None = None,
        degree_blend: bool | None = None,
        validation_candidates: float | None = None,
        ranking_weight: float | None = None,
        warmup_epochs: int = 50,
        val_smoothing: float = 0.5,
        device: str | None = None,
        checkpoint_path: str | None = None,
        resume: bool = False,
        distributed: bool = False,
    ) -> GRNPredictor:
        """Train on a prior network (supervised) or on co-expression (no prior).

        Parameters
        ----------
        prior
            Known edges ``source, target`` (gene names). ``None``: self-supervised on the
            ``self_supervised_fraction`` strongest co-expression TF -> gene pairs.
        split
            ``"random"`` (edges), ``"tf"`` (held-out TFs), ``"target"`` (held-out targets), a
            :class:`gnngeno.data.LinkSplit`, or ``{"train", "validation", "test"}`` pair tables
            (``source, target, label``; e.g. a GENELink/BEELINE legacy split, in which case
            ``prior`` may be ``None``). Test edges are never used for training or message
            passing. With ``fractions=(1, 0, 0)`` everything is used for training.
        fractions
            Train / validation / test fractions (default 70/10/20).
        max_epochs, lr
            Adam optimiser, full-batch epochs.
        l1, l2
            Lasso / ridge / elastic-net penalty on the weight matrices.
        patience
            Early stopping on validation AUPRC (``None``: never stop early; without positive
            validation pairs, e.g. ``fractions=(1, 0, 0)``, training runs ``max_epochs``).
        negative_ratio
            Negatives per positive, re-drawn every epoch from TF x gene pairs that are not
            training positives.
        supervision_fraction
            Each epoch, this random fraction of the training positives is scored and left out
            of message passing and of the degrees (the rest carry messages; their degrees are
            rescaled to the full graph), so the model cannot learn that "already connected in
            the graph" means positive, which never holds for the pairs it must rank.
            ``None`` (auto): 0.3 when degree features are used (transductive supervised
            training), else 0. 0: every positive is scored and carries messages (the degrees
            of a scored positive's own pair then leave its edge out).
        degree_blend
            After training, add ``w * log((1 + TF out-degree) (1 + target in-degree))`` to the
            scores, with ``w`` chosen on validation pairs from a fixed grid (0 allowed). The
            criterion is the share of the degree-only score's remaining error that the blend
            removes, ``(m - m_deg) / (1 - m_deg)``, summed over AUROC and AUPRC so that neither
            metric dominates.
            ``None`` (auto): when degree features are used.
        validation_candidates
            Random candidate negatives (TF x gene pairs that are neither training nor
            validation positives, drawn like the training negatives) added to the validation
            pairs, per validation positive. The model ranks *all* candidates, but given
            validation files may hold only within-TF negatives (GENELink/BEELINE splits draw
            one negative per positive from the same TF), which cannot tell a TF with many
            targets from one with none; these extra pairs make early stopping and the degree
            blend see the global ranking. ``None`` (auto): 10 for given pair tables, 0 for the
            generated splits (whose validation pairs already keep the network's density).
        ranking_weight
            Weight of a pairwise ranking loss (``softplus(s(u, w) - s(u, v))``) between a
            given training negative ``(u, w)`` (``label == 0`` rows of given pair tables) and a
            training positive ``(u, v)`` of the same TF, beside the cross-entropy: it teaches
            the within-TF ranking from known negatives and, blind to per-TF offsets, cannot undo
            what re-drawn negatives teach about TF out-degree. ``None`` (auto): 1 when the
            split holds given negatives, 0 with ``distributed=True``; 0: off.
        warmup_epochs, val_smoothing
            Early stopping monitors an exponential moving average (weight ``val_smoothing`` on
            the past) of validation AUPRC, recorded as ``"val_auprc_ema"``, from epoch
            ``warmup_epochs`` on (at most half of ``max_epochs``; ``patience`` counts from
            there), so that a lucky early or single noisy epoch is not restored as the best
            (attention encoders' validation AUPRC can peak in the first epochs and dip before
            it improves for good).
        self_supervised_fraction
            Without a prior: the fraction of TF x gene pairs of largest |correlation| used as
            positives.
        device
            ``"cpu"``, ``"cuda"``, ... (default ``settings.device``).
        checkpoint_path, resume
            Resumable checkpoints (see :class:`gnngeno.train.TrainingPlan`); a resumed run
            continues the moving average and the warm-up where the checkpoint left them.
        distributed
            Data-parallel training over the processes started by ``torchrun`` (DDP; gloo on
            CPU, nccl on GPU): every process encodes the gene graph and scores its share of
            each epoch's positive and negative pairs (the same draws everywhere); gradients
            and the logged loss are averaged. Joins the process group when torchrun started
            this process and none exists yet; without torchrun it trains in one process.

        Returns
        -------
        ``self`` (trained). ``self.history`` holds one row per epoch (``loss``, ``val_auprc``,
        ``val_auroc``, ``val_auprc_ema``); ``self.val_pairs_`` and ``self.val_labels_`` the
        validation pairs used for early stopping and the degree blend.
        """
        t0 = time.perf_counter()
        if warmup_epochs < 0 or not 0 <= val_smoothing < 1:
            raise InputError(f"warmup_epochs must be >= 0 and val_smoothing in [0, 1), got "
                             f"{warmup_epochs} and {val_smoothing}.")
        if ranking_weight is not None and ranking_weight < 0:
            raise InputError(f"ranking_weight must be >= 0 or None, got {ranking_weight}.")
        self.mode_, sp_ = training_split(prior, split, X=self._X, var_names=self.var_names,
                                         tf_index=self.tf_index, fractions=fractions,
                                         seed=self.seed,
                                         self_supervised_fraction=self_supervised_fraction)
        self.split_ = sp_
        self.train_pos_ = np.asarray(sp_.train_pos, dtype=np.int64)
        self.coexp_edges_ = self.pair_features_ = None
        self._build_module(self.mode_, sp_.method)
        self._init_params.update(self._opts)  # the resolved options are what load() rebuilds
        logger.info(sp_.summary())
        if supervision_fraction is None:
            supervision_fraction = 0.3 if (self._opts["degree_features"]
                                           and self.mode_ == "supervised") else 0.0
        if not 0 <= float(supervision_fraction) < 1:
            raise InputError(f"supervision_fraction must be in [0, 1), got {supervision_fraction}.")
        plan = TrainingPlan(
            self.module, max_epochs=max_epochs, lr=lr, l1=l1, l2=l2, patience=patience,
            monitor="val_auprc", mode="max", smoothing=val_smoothing,
            warmup_epochs=min(int(warmup_epochs), max_epochs // 2), device=device,
            distributed=distributed, checkpoint_path=checkpoint_path, resume=resume,
            metadata={"var_names": self.var_names, "params": dict(self._init_params)},
            desc=f"GRNPredictor ({self._init_params['conv']})")
        ctx = plan.setup()  # joins the process group and picks the device: before any tensor
        if ranking_weight is None:  # auto: on, except under DDP (pairs are not sharded)
            ranking_weight = 0.0 if ctx.distributed else 1.0
        seed_everything(self.seed)
        self.val_pairs_, self.val_labels_ = validation_set(sp_, validation_candidates,
                                                           seed=self.seed)
        data = GRNTrainingData(
            self.module, self._graph(), sp_, val_pairs=self.val_pairs_,
            val_labels=self.val_labels_, device=ctx.device, rank=ctx.rank,
            world_size=ctx.world_size, supervision_fraction=float(supervision_fraction),
            negative_ratio=negative_ratio, ranking_weight=float(ranking_weight))
        self.history_ = plan.run(data)
        self.module.to("cpu")
        self.is_trained_ = True
        self.degree_blend_ = 0.0
        blend = self._opts["degree_features"] if degree_blend is None else bool(degree_blend)
        if blend and data.has_validation:
            self._choose_degree_blend(self.val_pairs_, self.val_labels_)
        self.train_time_ = time.perf_counter() - t0
        return self

    # ------------------------------------------------------------------ save/load
    def _extra_state(self) -> dict[str, Any]:
        return {"train_pos": self.train_pos_, "features": self.features_, "mode": self.mode_,
                "coexp_edges": self.coexp_edges_, "degree_blend": self.degree_blend_,
                "pair_features": self.pair_features_}

    def _set_extra_state(self, state: dict[str, Any]) -> None:
        self.train_pos_ = np.asarray(state["train_pos"], dtype=np.int64)
        self.features_ = np.asarray(state["features"], dtype=np.float32)
        self.mode_, self.coexp_edges_ = state.get("mode"), state.get("coexp_edges")
        self.degree_blend_ = float(state.get("degree_blend", 0.0))
        self.pair_features_ = state.get("pair_features")


__all__ = ["GRNPredictor"]
