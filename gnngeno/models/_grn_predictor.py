"""GRNPredictor: rank TF -> gene edges with a graph neural network on an AnnData."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .. import _keys as keys
from .._logging import logger
from .._settings import resolve_seed, seed_everything, settings
from .._validate import (
    InputError,
    align_network,
    check_adata,
    check_choice,
    check_fractions,
    check_tfs,
)
from ..data._grn_graph import (
    coexpression_edges,
    correlation,
    expression_features,
    message_graph,
)
from ..data._link_split import (
    SPLIT_METHODS,
    LinkSplit,
    sample_negatives,
    split_edges,
    split_from_pairs,
)
from ..nn import CONVS, DECODERS, GNNEncoder, LinkDecoder, LinkPredictor, weight_penalty
from ..train import fit
from ._base import BaseModel


def _auprc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    if y.size == 0 or y.min() == y.max():
        return float("nan")
    return float(average_precision_score(y, s))


def _auroc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    if y.size == 0 or y.min() == y.max():
        return float("nan")
    return float(roc_auc_score(y, s))


class GRNPredictor(BaseModel):
    """Graph-neural-network link prediction of regulatory edges TF -> gene.

    Genes are nodes. Node features are the genes' standardised expression profiles over cells
    (PCA-reduced), optionally extra gene features from ``adata.varm`` (e.g. sequence embeddings)
    and the log in/out degree in the training graph. A GCN, GAT or GATv2 encoder passes messages
    over the training edges (made undirected; optionally plus co-expression neighbours), and a
    decoder scores every TF -> gene pair.

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

    - **supervised**: a prior network of known TF -> target edges is split into train /
      validation / test; the model learns on the training edges against negatives re-drawn every
      epoch, stops early on (smoothed) validation AUPRC and scores the rest;
    - **self-supervised** (no prior): the targets are the strongest co-expression TF -> gene
      pairs, so a user with expression alone still gets a ranked GRN (a graph-smoothed
      co-expression network).

    Parameters
    ----------
    adata
        Cells x genes AnnData (counts are log-normalised internally; log values are used as is).
    tfs
        Candidate TFs (gene names). Default: ``adata.var["is_tf"]``.
    layer
        Expression layer (``None``: ``adata.X``).
    gene_features
        Key of ``adata.varm`` with extra gene features to append (``None``: none).
    n_components
        Principal components of the standardised expression profiles used as features
        (``None``: the full profile).
    encoder
        ``"gcn"``, ``"gat"`` or ``"gatv2"``.
    num_layers, hidden_dim, out_dim, heads, residual
        Encoder shape (heads for GAT/GATv2).
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

    def __init__(
        self,
        adata,
        *,
        tfs: Sequence[str] | None = None,
        layer: str | None = None,
        gene_features: str | None = None,
        n_components: int | None = 64,
        encoder: str = "gcn",
        num_layers: int = 2,
        hidden_dim: int = 64,
        out_dim: int = 32,
        heads: int = 4,
        residual: bool = True,
        decoder: str = "bilinear",
        node_bias: bool | None = None,
        degree_features: bool | None = None,
        coexpression_k: int | None = None,
        node_embeddings: int | None = None,
        activation: str = "relu",
        dropout: float = 0.2,
        seed: int | None = None,
    ):
        check_choice(encoder, CONVS, "encoder")
        check_choice(decoder, DECODERS, "decoder")
        if num_layers < 1 or num_layers > 5:
            raise InputError(f"num_layers must be 1-5, got {num_layers}.")
        if coexpression_k is not None and coexpression_k < 0:
            raise InputError(f"coexpression_k must be >= 0, got {coexpression_k}.")
        X = check_adata(adata, layer=layer, min_cells=3, min_genes=2)
        super().__init__(adata)
        genes = self.var_names
        if tfs is None:
            if keys.IS_TF_KEY not in adata.var:
                raise InputError(
                    f"GRNPredictor needs the TFs: pass tfs=[...] or mark them first with "
                    f"gnngeno.pp.mark_tfs(adata, tfs) (adata.var[{keys.IS_TF_KEY!r}])."
                )
            tfs = adata.var_names[adata.var[keys.IS_TF_KEY].astype(bool)].tolist()
        tfs = check_tfs(tfs, genes)
        seed = resolve_seed(seed)
        if encoder != "gcn" and (hidden_dim % heads or out_dim % heads):
            raise InputError(f"hidden_dim={hidden_dim} and out_dim={out_dim} must be divisible by "
                             f"heads={heads} for encoder={encoder!r}.")
        self._init_params = dict(
            tfs=list(tfs), layer=layer, gene_features=gene_features, n_components=n_components,
            encoder=encoder, num_layers=num_layers, hidden_dim=hidden_dim, out_dim=out_dim,
            heads=heads, residual=residual, decoder=decoder, node_bias=node_bias,
            degree_features=degree_features, coexpression_k=coexpression_k,
            node_embeddings=node_embeddings,
            activation=activation, dropout=dropout, seed=seed,
        )
        self.seed = seed
        self.tfs = list(tfs)
        self.tf_index = pd.Index(genes).get_indexer(self.tfs).astype(np.int64)
        self.n_genes = len(genes)
        self._X = X
        feats = expression_features(X, n_components=n_components, seed=seed)
        if gene_features is not None:
            if gene_features not in adata.varm:
                raise InputError(f"gene_features={gene_features!r} is not in adata.varm "
                                 f"(present: {list(adata.varm)}).")
            extra = np.asarray(adata.varm[gene_features], dtype=np.float32)
            extra = (extra - extra.mean(0)) / np.where(extra.std(0) > 0, extra.std(0), 1.0)
            feats = np.concatenate([feats, extra.astype(np.float32)], axis=1)
        is_tf = np.zeros((self.n_genes, 1), np.float32)
        is_tf[self.tf_index] = 1.0
        self.features_ = np.concatenate([feats, is_tf], axis=1)
        self.train_pos_: np.ndarray = np.zeros((2, 0), np.int64)
        self.coexp_edges_: np.ndarray | None = None
        self.split_: LinkSplit | None = None
        self.mode_: str | None = None
        self.train_time_: float | None = None
        self.degree_blend_: float = 0.0
        self._user_opts = {k: self._init_params[k]
                           for k in ("node_bias", "degree_features", "coexpression_k",
                                     "node_embeddings")}
        self._build_module()

    def _resolved(self, mode: str | None = None, split: str | None = None) -> dict[str, Any]:
        """node_bias / degree_features / coexpression_k with ``None`` (auto) resolved."""
        p = self._user_opts
        transductive = not (mode == "self-supervised" or split == "tf")
        return {
            "node_bias": transductive if p["node_bias"] is None else bool(p["node_bias"]),
            "degree_features": (transductive if p["degree_features"] is None
                                else bool(p["degree_features"])),
            "coexpression_k": ((10 if mode == "self-supervised" else 0)
                               if p["coexpression_k"] is None else int(p["coexpression_k"])),
            "node_embeddings": (0 if p["node_embeddings"] is None
                                else int(p["node_embeddings"])),
        }

    def _build_module(self, mode: str | None = None, split: str | None = None) -> None:
        """(Re)build the torch module for the resolved options, seeded."""
        p = self._init_params
        self._opts = self._resolved(mode, split)
        seed_everything(self.seed)
        in_dim = (self.features_.shape[1] + (2 if self._opts["degree_features"] else 0)
                  + self._opts["node_embeddings"])
        enc = GNNEncoder(in_dim, p["hidden_dim"], p["out_dim"], p["num_layers"],
                         conv=p["encoder"], activation=p["activation"], dropout=p["dropout"],
                         residual=p["residual"], heads=p["heads"])
        dec = LinkDecoder(p["out_dim"], kind=p["decoder"],
                          n_nodes=self.n_genes if self._opts["node_bias"] else None,
                          n_pair_features=2 if self._opts["degree_features"] else 0,
                          activation=p["activation"], dropout=p["dropout"])
        self.module = LinkPredictor(enc, dec, n_nodes=self.n_genes,
                                    embedding_dim=self._opts["node_embeddings"])

    # ------------------------------------------------------------------ graph inputs
    def _coexpression(self) -> np.ndarray:
        if self.coexp_edges_ is None:
            k = self._opts["coexpression_k"]
            corr = correlation(self._X)
            self.coexp_edges_ = coexpression_edges(corr, np.arange(self.n_genes), k)
        return self.coexp_edges_

    def _degrees(self, pos: np.ndarray | None = None, scale: float = 1.0) -> np.ndarray:
        """``(2, n_genes)`` out- and in-degrees of ``pos`` (default: the training graph),
        multiplied by ``scale``."""
        pos = self.train_pos_ if pos is None else pos
        return np.stack([np.bincount(pos[0], minlength=self.n_genes),
                         np.bincount(pos[1], minlength=self.n_genes)]).astype(np.float64) * scale

    def _node_inputs(self, deg: np.ndarray, device) -> torch.Tensor:
        """Node features: expression features (+ log degrees ``deg``, scaled by the largest
        log degree of the full training graph so that training and prediction agree)."""
        feats = self.features_
        if self._opts["degree_features"]:
            d = np.log1p(deg.T).astype(np.float32)
            top = float(np.log1p(self._degrees().max(initial=0.0)))
            feats = np.concatenate([feats, d / max(top, 1.0)], axis=1)
        return torch.as_tensor(feats, dtype=torch.float32, device=device)

    def _graph_inputs(self, device) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
        """Node features, message-passing edges and degrees from the training graph."""
        deg = self._degrees()
        extra = self._coexpression() if self._opts["coexpression_k"] > 0 else None
        ei = message_graph(self.n_genes, self.train_pos_, extra)
        return self._node_inputs(deg, device), ei.to(device), deg

    def _pair_features(self, pairs: torch.Tensor, deg: torch.Tensor,
                       loo: torch.Tensor | None = None) -> torch.Tensor | None:
        """Log out-degree of the source and in-degree of the target of every pair (``loo``:
        1 for a training positive whose own edge is counted in ``deg``, which is removed)."""
        if not self._opts["degree_features"]:
            return None
        out_d = deg[0][pairs[0]].float()
        in_d = deg[1][pairs[1]].float()
        if loo is not None:  # leave-one-out: a training positive does not count itself
            out_d = out_d - loo
            in_d = in_d - loo
        return torch.log1p(torch.stack([out_d, in_d], dim=1).clamp_min(0))

    # ------------------------------------------------------------------ training
    def _prior_positives(self, prior: pd.DataFrame) -> np.ndarray:
        net = align_network(prior, self.var_names, what="the prior network")
        idx = pd.Index(self.var_names)
        src = idx.get_indexer(net[keys.SOURCE])
        tgt = idx.get_indexer(net[keys.TARGET])
        is_tf = np.isin(src, self.tf_index)
        if not is_tf.all():
            logger.warning(f"{int((~is_tf).sum())} prior edges start at genes not in the TF list "
                           "and are left out.")
        pos = np.stack([src[is_tf], tgt[is_tf]])
        if pos.shape[1] == 0:
            raise InputError("no prior edge starts at one of the TFs; check tfs= and the prior.")
        return pos

    def _self_supervised_positives(self, fraction: float) -> np.ndarray:
        """The ``fraction`` of TF x gene pairs with the largest |correlation| (one global
        threshold, so TFs co-expressed with many genes keep many partners)."""
        if not 0 < fraction < 1:
            raise InputError(f"self_supervised_fraction must be in (0, 1), got {fraction}.")
        strength = np.abs(correlation(self._X, rows=self.tf_index))
        strength[np.arange(len(self.tf_index)), self.tf_index] = -np.inf
        n = max(1, int(round(fraction * strength.size)))
        flat = np.argpartition(-strength.ravel(), n - 1)[:n]
        rows, cols = np.unravel_index(flat, strength.shape)
        return np.stack([self.tf_index[rows], cols]).astype(np.int64)

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
            Early stopping on validation AUPRC (``None``: never stop early).
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
            scores, with ``w`` chosen on validation pairs from a fixed grid (0 allowed; criterion:
            AUROC and AUPRC gain over degree-only, see :meth:`_choose_degree_blend`).
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
            given training negative ``(u, w)`` (the ``label == 0`` training rows of given pair
            tables) and a random training positive ``(u, v)`` of the same TF, added to the
            cross-entropy on the re-drawn negatives. It teaches the within-TF ranking from
            negatives known to be negative, and, being blind to any per-TF offset, it cannot
            undo what the re-drawn negatives teach about how many targets a TF has (given
            negatives are often drawn as many per TF as it has positives). ``None`` (auto): 1
            when the split holds given negatives (else nothing to rank), 0 with
            ``distributed=True`` (not supported there); 0: off.
        warmup_epochs, val_smoothing
            Early stopping monitors an exponential moving average (weight ``val_smoothing`` on
            the past) of validation AUPRC from epoch ``warmup_epochs`` on (at most half of
            ``max_epochs``; ``patience`` counts from there), so that a lucky early or single
            noisy epoch is not restored as the best (GAT's validation AUPRC can peak in the
            first epochs and dip before it improves for good).
        self_supervised_fraction
            Without a prior: the fraction of TF x gene pairs of largest |correlation| used as
            positives.
        device
            ``"cpu"``, ``"cuda"``, ... (default ``settings.device``).
        checkpoint_path, resume
            Passed to :func:`gnngeno.train.fit`.
        distributed
            Data-parallel training over the processes started by ``torchrun`` (DDP; gloo on
            CPU, nccl on GPU): every process encodes the gene graph and scores its share of
            each epoch's positive and negative pairs (the same draws everywhere); gradients
            and the logged loss are averaged. Joins the process group when torchrun started
            this process and none exists yet; without torchrun it trains in one process.

        Returns
        -------
        ``self`` (trained).
        """
        t0 = time.perf_counter()
        seed = self.seed
        if isinstance(split, LinkSplit):
            sp_ = split
            self.mode_ = "supervised"
        elif isinstance(split, Mapping):
            sp_ = split_from_pairs(split, genes=self.var_names, tf_index=self.tf_index)
            self.mode_ = "supervised"
        else:
            check_choice(split, SPLIT_METHODS, "split")
            fr = check_fractions(fractions, "fractions")
            if prior is None:
                pos = self._self_supervised_positives(self_supervised_fraction)
                self.mode_ = "self-supervised"
            else:
                pos = self._prior_positives(prior)
                self.mode_ = "supervised"
            if fr[1] == 0 and fr[2] == 0:
                pos = np.unique(pos[:, pos[0] != pos[1]], axis=1)
                empty = np.zeros((2, 0), np.int64)
                sp_ = LinkSplit(self.n_genes, self.tf_index, pos, empty, np.zeros(0), empty,
                                np.zeros(0), neg_sources=self.tf_index,
                                neg_targets=np.arange(self.n_genes), method="none")
            else:
                sp_ = split_edges(pos, n_genes=self.n_genes, tf_index=self.tf_index,
                                  method=split, fractions=fr, seed=seed)
        self.split_ = sp_
        self.train_pos_ = np.asarray(sp_.train_pos, dtype=np.int64)
        if not resume:
            self.coexp_edges_ = None
            self._build_module(self.mode_, sp_.method)
            # the resolved options are what load() must rebuild
            self._init_params.update(self._opts)
        logger.info(sp_.summary())

        dev = settings.torch_device(device)
        seed_everything(seed)
        self.module.to(dev)
        x, ei, deg_np = self._graph_inputs(dev)
        deg = torch.as_tensor(deg_np, device=dev)
        pos_t = torch.as_tensor(self.train_pos_, device=dev)
        n_pos = pos_t.shape[1]
        optimizer = torch.optim.Adam(self.module.parameters(), lr=lr)
        vp_np, val_y = self._validation_set(sp_, validation_candidates)
        val_pairs = torch.as_tensor(vp_np, device=dev)
        has_val = val_pairs.shape[1] > 0 and 0 < val_y.sum() < val_y.size
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        module = self.module
        from ..train import _distributed as D

        if distributed and D.launched_by_torchrun() and not D.is_distributed():
            D.init_distributed(device=device)
        dist_on = bool(distributed) and D.is_distributed()
        rank, world = (D.get_rank(), D.get_world_size()) if dist_on else (0, 1)
        if dist_on and dev.type == "cuda":
            dev = torch.device("cuda", torch.cuda.current_device())
        net = D.wrap_ddp(module) if dist_on else module

        if supervision_fraction is None:
            supervision_fraction = 0.3 if (self._opts["degree_features"]
                                           and self.mode_ == "supervised") else 0.0
        sup = float(supervision_fraction)
        if not 0 <= sup < 1:
            raise InputError(f"supervision_fraction must be in [0, 1), got {supervision_fraction}.")
        coexp = self._coexpression() if self._opts["coexpression_k"] > 0 else None

        def train_epoch(epoch: int) -> dict[str, float]:
            module.train()
            if sup > 0:
                perm = torch.randperm(n_pos)
                n_sup = max(1, int(round(sup * n_pos)))
                target_pos = pos_t[:, perm[:n_sup].to(dev)]
                kept = self.train_pos_[:, perm[n_sup:].numpy()]
                msg = message_graph(self.n_genes, kept, coexp).to(dev)
                # degrees of the message graph, rescaled to the full graph: the scored
                # positives are not counted (as a test edge is not), in features and decoder
                deg_np_e = self._degrees(kept, scale=n_pos / max(kept.shape[1], 1))
                x_e = self._node_inputs(deg_np_e, dev)
                deg_e = torch.as_tensor(deg_np_e, device=dev)
            else:
                target_pos, msg, x_e, deg_e = pos_t, ei, x, deg
            n_t = target_pos.shape[1]
            neg = sample_negatives(self.train_pos_, sources=sp_.neg_sources,
                                   targets=sp_.neg_targets,
                                   num=max(1, int(round(negative_ratio * n_t)))).to(dev)
            n_bce = n_t + neg.shape[1]
            if given_neg is not None:  # ranking pairs: a given negative vs a positive of its TF
                rank_neg, rank_pos = self._ranking_pairs(target_pos.cpu(), given_neg, n_t)
                pairs_r = torch.cat([rank_pos, rank_neg], dim=1).to(dev)
            pairs = torch.cat([target_pos, neg], dim=1)
            labels = torch.cat([torch.ones(n_t, device=dev), torch.zeros(neg.shape[1], device=dev)])
            # leave-one-out: with every positive in the graph, a scored positive does not count
            # itself in its pair's degrees
            loo = labels if sup == 0 else None
            n_r = 0
            if given_neg is not None and rank_pos.shape[1]:
                n_r = rank_pos.shape[1]
                pairs = torch.cat([pairs, pairs_r], dim=1)
                if loo is not None:
                    loo = torch.cat([loo, torch.ones(n_r, device=dev), torch.zeros(n_r, device=dev)])
            n_all = labels.shape[0]
            if world > 1:  # same draws on every process; each scores its share of the pairs
                if n_r:
                    raise InputError("ranking_weight > 0 is not supported with distributed=True; "
                                     "pass ranking_weight=0.")
                pairs, labels = pairs[:, rank::world], labels[rank::world]
                loo = None if loo is None else loo[rank::world]
            optimizer.zero_grad()
            logits = net(x_e, msg, pairs, self._pair_features(pairs, deg_e, loo))
            loss = bce(logits[:n_bce], labels)
            # DDP averages the processes' gradients: weigh each share by its size so that the
            # step is the one-process step even when the shares differ by a pair
            grad_loss = loss * (labels.shape[0] * world / n_all) if world > 1 else loss
            if n_r:
                diff = logits[n_bce + n_r:] - logits[n_bce:n_bce + n_r]  # negative - positive
                loss = loss + ranking_w * torch.nn.functional.softplus(diff).mean()
                grad_loss = loss
            pen = weight_penalty(module.parameters(), l1=l1, l2=l2)
            total = grad_loss + pen.to(dev)
            total.backward()
            optimizer.step()
            rec = {"loss": float(loss.detach()), "penalty": float(pen.detach())}
            return D.reduce_dict(rec, weight=len(labels)) if dist_on else rec

        # auto: on, except under DDP (the ranking pairs are not sharded across processes)
        ranking_w = ((0.0 if dist_on else 1.0) if ranking_weight is None
                     else float(ranking_weight))
        if ranking_w < 0:
            raise InputError(f"ranking_weight must be >= 0 or None, got {ranking_weight}.")
        given_neg = None
        if sp_.train_neg is not None and sp_.train_neg.shape[1] and ranking_w > 0:
            given_neg = torch.as_tensor(np.asarray(sp_.train_neg, np.int64))
        if warmup_epochs < 0 or not 0 <= val_smoothing < 1:
            raise InputError(f"warmup_epochs must be >= 0 and val_smoothing in [0, 1), got "
                             f"{warmup_epochs} and {val_smoothing}.")
        warmup = min(int(warmup_epochs), max_epochs // 2)
        state: dict[str, Any] = {"ema": None, "epoch": 0}
        if resume and checkpoint_path is not None and Path(checkpoint_path).exists():
            # continue the moving average and the warm-up count where the checkpoint left them
            done = torch.load(checkpoint_path, map_location="cpu",
                              weights_only=False)["history"]["records"]
            state["epoch"] = len(done)
            if done and "val_auprc_ema" in done[-1]:
                state["ema"] = float(done[-1]["val_auprc_ema"])

        def validate() -> dict[str, float]:
            logits = module(x, ei, val_pairs, self._pair_features(val_pairs, deg))
            s = logits.cpu().numpy()
            rec = {"val_auprc": _auprc(val_y, s), "val_auroc": _auroc(val_y, s)}
            # monitored: an exponential moving average of validation AUPRC (a single noisy
            # epoch cannot be chosen)
            v, ema = rec["val_auprc"], state["ema"]
            state["ema"] = v if ema is None else val_smoothing * ema + (1 - val_smoothing) * v
            rec["val_auprc_ema"] = state["ema"]
            # during the warm-up a placeholder that rises every epoch: no early stop, and the
            # first monitored epoch replaces whatever state the warm-up kept
            rec["val_monitor"] = (state["ema"] if state["epoch"] >= warmup
                                  else -1e6 + state["epoch"])
            state["epoch"] += 1
            return rec

        self.history_ = fit(
            module, optimizer, train_epoch, max_epochs=max_epochs,
            validate=validate if has_val else None, monitor="val_monitor", mode="max",
            patience=patience, checkpoint_path=checkpoint_path, resume=resume,
            metadata={"var_names": self.var_names, "params": dict(self._init_params)},
            desc=f"GRNPredictor ({self._init_params['encoder']})",
        )
        self.module.to("cpu")
        self.is_trained_ = True
        self.degree_blend_ = 0.0
        blend = self._opts["degree_features"] if degree_blend is None else bool(degree_blend)
        if blend and has_val:
            self._choose_degree_blend(vp_np, val_y)
        self.train_time_ = time.perf_counter() - t0
        return self

    @staticmethod
    def _ranking_pairs(pos: torch.Tensor, neg: torch.Tensor, num: int
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """``num`` given negatives ``(u, w)`` drawn at random, each matched with a random
        positive ``(u, v)`` of the same source among ``pos`` (negatives whose source has no
        positive there are skipped). Uses the global torch random state."""
        if pos.shape[1] == 0 or neg.shape[1] == 0:
            empty = torch.zeros((2, 0), dtype=torch.long)
            return empty, empty
        order = torch.argsort(pos[0], stable=True)
        src_sorted = pos[0][order]
        pick = torch.randint(0, neg.shape[1], (num,))
        cand = neg[:, pick]
        lo = torch.searchsorted(src_sorted, cand[0], right=False)
        hi = torch.searchsorted(src_sorted, cand[0], right=True)
        ok = hi > lo
        cand, lo, hi = cand[:, ok], lo[ok], hi[ok]
        j = lo + (torch.rand(lo.shape[0]) * (hi - lo).float()).long().clamp_max(hi - lo - 1)
        return cand, pos[:, order[j]]

    def _validation_set(self, sp_: LinkSplit, candidates: float | None
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Validation pairs and labels, plus ``candidates`` random candidate negatives per
        validation positive (see :meth:`train`; drawn with replacement from the TF x gene
        pairs that are neither training nor validation positives, with the model's seed)."""
        pairs, labels = np.asarray(sp_.val_pairs, np.int64), np.asarray(sp_.val_labels, float)
        if candidates is None:
            candidates = 10.0 if sp_.method == "legacy" else 0.0
        if candidates < 0:
            raise InputError(f"validation_candidates must be >= 0 or None, got {candidates}.")
        n_val_pos = int(labels.sum())
        num = int(round(candidates * n_val_pos))
        if num == 0:
            return pairs, labels
        known = np.concatenate([self.train_pos_, pairs[:, labels == 1]], axis=1)
        rng = np.random.default_rng(int(self.seed))
        src, tgt = np.asarray(sp_.neg_sources), np.asarray(sp_.neg_targets)
        draw = np.stack([rng.choice(src, 3 * num + 100), rng.choice(tgt, 3 * num + 100)])
        bad = np.isin(draw[0] * self.n_genes + draw[1], known[0] * self.n_genes + known[1])
        extra = draw[:, ~bad & (draw[0] != draw[1])][:, :num]
        return (np.concatenate([pairs, extra], axis=1),
                np.concatenate([labels, np.zeros(extra.shape[1])]))

    def _degree_prior(self, pairs: np.ndarray) -> np.ndarray:
        out_d = np.bincount(self.train_pos_[0], minlength=self.n_genes)
        in_d = np.bincount(self.train_pos_[1], minlength=self.n_genes)
        return np.log1p(out_d[pairs[0]]) + np.log1p(in_d[pairs[1]])

    def _choose_degree_blend(self, val_pairs: np.ndarray, val_y: np.ndarray) -> None:
        """Pick the weight of the degree-only log score added to the logits, on validation
        pairs only, from a fixed grid (0 keeps the network's score alone).

        The criterion is the share of the degree-only score's remaining error that the blend
        removes, summed over AUROC and AUPRC (``(m - m_deg) / (1 - m_deg)`` for each metric
        ``m``), so that neither metric dominates: a gain of 0.004 AUROC over 0.962 counts as
        much as a gain of 0.075 AUPRC over 0.28.
        """
        self.degree_blend_ = 0.0
        s = self._logits(val_pairs)
        prior = self._degree_prior(val_pairs)
        scale = float(np.std(s)) or 1.0
        ref_roc, ref_pr = _auroc(val_y, prior), _auprc(val_y, prior)

        def score(v: np.ndarray) -> float:
            return ((_auroc(val_y, v) - ref_roc) / max(1 - ref_roc, 1e-3)
                    + (_auprc(val_y, v) - ref_pr) / max(1 - ref_pr, 1e-3))

        best = score(s)
        for lam in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 100.0):
            v = score(s + lam * scale * prior)
            if v > best + 1e-4:
                best, self.degree_blend_ = v, lam * scale
        logger.info(f"degree blend chosen on validation: {self.degree_blend_:.3g} "
                    f"(validation error reduction vs degree-only {best:.4f})")

    # ------------------------------------------------------------------ prediction
    @torch.no_grad()
    def _logits(self, pairs: np.ndarray) -> np.ndarray:
        self._check_trained()
        self.module.eval()
        x, ei, deg_np = self._graph_inputs("cpu")
        z = self.module.encode(x, ei)
        out = []
        pairs_t = torch.as_tensor(np.asarray(pairs, dtype=np.int64))
        deg = torch.as_tensor(deg_np)
        for start in range(0, pairs_t.shape[1], 500_000):
            p = pairs_t[:, start:start + 500_000]
            out.append(self.module.decoder(z, p, self._pair_features(p, deg)).numpy())
        out = np.concatenate(out) if out else np.zeros(0, np.float32)
        if getattr(self, "degree_blend_", 0.0):
            out = out + self.degree_blend_ * self._degree_prior(np.asarray(pairs))
        return out

    def predict(self, pairs: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Probability scores of given pairs.

        Parameters
        ----------
        pairs
            DataFrame ``source, target`` of gene names, or a ``(2, E)`` array of gene positions.
        """
        if isinstance(pairs, pd.DataFrame):
            idx = pd.Index(self.var_names)
            src = idx.get_indexer(pairs[keys.SOURCE].astype(str))
            tgt = idx.get_indexer(pairs[keys.TARGET].astype(str))
            if (src < 0).any() or (tgt < 0).any():
                raise InputError("some pairs name genes the model was not trained on.")
            pairs = np.stack([src, tgt])
        from scipy.special import expit

        # float64 keeps the ranking of confident pairs (float32 saturates at 1.0 near logit 17)
        return expit(np.asarray(self._logits(np.asarray(pairs)), dtype=np.float64))

    def get_scores(self) -> np.ndarray:
        """``(n_tfs, n_genes)`` scores of every TF -> gene candidate (rows in ``self.tfs`` order;
        self-pairs get 0)."""
        src = np.repeat(self.tf_index, self.n_genes)
        tgt = np.tile(np.arange(self.n_genes), len(self.tf_index))
        S = self.predict(np.stack([src, tgt])).reshape(len(self.tf_index), self.n_genes)
        S[np.arange(len(self.tf_index)), self.tf_index] = 0.0
        return S

    def get_edges(self, *, top: int | None = None) -> pd.DataFrame:
        """Every TF -> gene candidate with its score, sorted by decreasing score.

        Parameters
        ----------
        top
            Keep the ``top`` best edges only.
        """
        S = self.get_scores()
        src = np.repeat(np.asarray(self.tfs, dtype=object), self.n_genes)
        tgt = np.tile(np.asarray(self.var_names, dtype=object), len(self.tfs))
        df = pd.DataFrame({keys.SOURCE: src, keys.TARGET: tgt, keys.SCORE: S.ravel()})
        df = df[df[keys.SOURCE] != df[keys.TARGET]]
        df = df.sort_values(keys.SCORE, ascending=False, kind="stable").reset_index(drop=True)
        return df.head(top) if top is not None else df

    def evaluate(self, which: str = "test") -> dict[str, float]:
        """Metrics on the split's ``"test"`` or ``"validation"`` pairs (see
        :func:`gnngeno.metrics.grn_metrics`)."""
        from ..metrics import grn_metrics

        self._check_trained()
        check_choice(which, ("test", "validation"), "which")
        if self.split_ is None:
            raise InputError("this model holds no split (loaded models keep only the training "
                             "edges); evaluate with gnngeno.metrics.evaluate_grn.")
        pairs = self.split_.test_pairs if which == "test" else self.split_.val_pairs
        labels = self.split_.test_labels if which == "test" else self.split_.val_labels
        return grn_metrics(labels, self._logits(pairs))

    # ------------------------------------------------------------------ save/load
    def _extra_state(self) -> dict[str, Any]:
        return {"train_pos": self.train_pos_, "features": self.features_, "mode": self.mode_,
                "coexp_edges": self.coexp_edges_, "degree_blend": self.degree_blend_}

    def _set_extra_state(self, state: dict[str, Any]) -> None:
        self.train_pos_ = np.asarray(state["train_pos"], dtype=np.int64)
        self.features_ = np.asarray(state["features"], dtype=np.float32)
        self.mode_ = state.get("mode")
        self.coexp_edges_ = state.get("coexp_edges")
        self.degree_blend_ = float(state.get("degree_blend", 0.0))


__all__ = ["GRNPredictor"]
