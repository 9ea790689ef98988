"""GRNPredictor: rank TF -> gene edges with a graph neural network on an AnnData."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
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
    degree_features,
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

    Two modes (chosen by :meth:`train`):

    - **supervised**: a prior network of known TF -> target edges is split into train /
      validation / test; the model learns on the training edges against negatives re-drawn every
      epoch, stops early on validation AUPRC and scores the rest;
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

    def _graph_inputs(self, device) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
        """Node features, message-passing edges and degrees from the training graph."""
        deg = np.bincount(self.train_pos_[0], minlength=self.n_genes), np.bincount(
            self.train_pos_[1], minlength=self.n_genes)
        feats = self.features_
        if self._opts["degree_features"]:
            d = degree_features(self.train_pos_, self.n_genes)
            feats = np.concatenate([feats, d / max(d.max(), 1.0)], axis=1)
        extra = self._coexpression() if self._opts["coexpression_k"] > 0 else None
        ei = message_graph(self.n_genes, self.train_pos_, extra)
        x = torch.as_tensor(feats, dtype=torch.float32, device=device)
        return x, ei.to(device), np.stack(deg)

    def _pair_features(self, pairs: torch.Tensor, deg: torch.Tensor,
                       loo: torch.Tensor | None = None) -> torch.Tensor | None:
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
            of message passing (the rest carry messages), so the model cannot learn that
            "already connected in the graph" means positive, which never holds for test
            pairs. ``None`` or 0: every positive is scored and carries messages.
        degree_blend
            After training, add ``w * log((1 + TF out-degree) (1 + target in-degree))`` to the
            scores, with ``w`` chosen on validation pairs (AUPRC) from a fixed grid (0 allowed).
            ``None`` (auto): when degree features are used.
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
        val_pairs = torch.as_tensor(sp_.val_pairs, device=dev)
        val_y = np.asarray(sp_.val_labels)
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

        sup = float(supervision_fraction or 0.0)
        if not 0 <= sup < 1:
            raise InputError(f"supervision_fraction must be in [0, 1), got {supervision_fraction}.")
        coexp = self._coexpression() if self._opts["coexpression_k"] > 0 else None

        def train_epoch(epoch: int) -> dict[str, float]:
            module.train()
            if sup > 0:
                perm = torch.randperm(n_pos)
                n_sup = max(1, int(round(sup * n_pos)))
                target_pos = pos_t[:, perm[:n_sup].to(dev)]
                msg = message_graph(self.n_genes, self.train_pos_[:, perm[n_sup:].numpy()],
                                    coexp).to(dev)
            else:
                target_pos, msg = pos_t, ei
            n_t = target_pos.shape[1]
            neg = sample_negatives(self.train_pos_, sources=sp_.neg_sources,
                                   targets=sp_.neg_targets,
                                   num=max(1, int(round(negative_ratio * n_t)))).to(dev)
            pairs = torch.cat([target_pos, neg], dim=1)
            loo = torch.cat([torch.ones(n_t, device=dev), torch.zeros(neg.shape[1], device=dev)])
            labels = loo
            if world > 1:  # same draws on every process; each scores its share of the pairs
                pairs, loo, labels = pairs[:, rank::world], loo[rank::world], labels[rank::world]
            optimizer.zero_grad()
            logits = net(x, msg, pairs, self._pair_features(pairs, deg, loo))
            loss = bce(logits, labels)
            pen = weight_penalty(module.parameters(), l1=l1, l2=l2)
            total = loss + pen.to(dev)
            total.backward()
            optimizer.step()
            rec = {"loss": float(loss.detach()), "penalty": float(pen.detach())}
            return D.reduce_dict(rec, weight=len(labels)) if dist_on else rec

        def validate() -> dict[str, float]:
            logits = module(x, ei, val_pairs, self._pair_features(val_pairs, deg))
            s = logits.cpu().numpy()
            return {"val_auprc": _auprc(val_y, s), "val_auroc": _auroc(val_y, s)}

        self.history_ = fit(
            module, optimizer, train_epoch, max_epochs=max_epochs,
            validate=validate if has_val else None, monitor="val_auprc", mode="max",
            patience=patience, checkpoint_path=checkpoint_path, resume=resume,
            metadata={"var_names": self.var_names, "params": dict(self._init_params)},
            desc=f"GRNPredictor ({self._init_params['encoder']})",
        )
        self.module.to("cpu")
        self.is_trained_ = True
        self.degree_blend_ = 0.0
        blend = self._opts["degree_features"] if degree_blend is None else bool(degree_blend)
        if blend and has_val:
            self._choose_degree_blend(sp_.val_pairs, val_y)
        self.train_time_ = time.perf_counter() - t0
        return self

    def _degree_prior(self, pairs: np.ndarray) -> np.ndarray:
        out_d = np.bincount(self.train_pos_[0], minlength=self.n_genes)
        in_d = np.bincount(self.train_pos_[1], minlength=self.n_genes)
        return np.log1p(out_d[pairs[0]]) + np.log1p(in_d[pairs[1]])

    def _choose_degree_blend(self, val_pairs: np.ndarray, val_y: np.ndarray) -> None:
        """Pick the weight of the degree-only log score added to the logits, on validation
        pairs only (AUPRC), from a fixed grid; 0 keeps the network's score alone."""
        self.degree_blend_ = 0.0
        s = self._logits(val_pairs)
        prior = self._degree_prior(val_pairs)
        scale = float(np.std(s)) or 1.0
        best = _auprc(val_y, s)
        for lam in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 100.0):
            v = _auprc(val_y, s + lam * scale * prior)
            if v > best + 1e-4:
                best, self.degree_blend_ = v, lam * scale
        logger.info(f"degree blend chosen on validation: {self.degree_blend_:.3g} "
                    f"(val AUPRC {best:.4f})")

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
