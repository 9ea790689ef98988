"""Scoring of :class:`GRNPredictor`: logits of gene pairs (with the degree blend), scores of
every TF -> gene candidate, the ranked edge table and metrics on the split's held-out pairs."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch

from .. import _keys as keys
from .._logging import logger
from .._validate import InputError, check_choice
from ._grn_features import auprc, auroc, degree_prior

#: Weights (in units of the network scores' standard deviation) tried for the degree blend.
DEGREE_BLEND_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 100.0)

#: Pairs decoded at a time (float64 tensors of ``PAIRS_PER_CHUNK x n_latent``).
PAIRS_PER_CHUNK = 100_000


def standardise_logits(logits: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Logits centred and scaled by the mean and standard deviation of those where
    ``reference`` (a boolean mask) is true, or of all when it is empty: the same order, on a
    scale that one model's calibration can share with another's."""
    ref = logits[reference] if reference.any() else logits
    sd = float(np.std(ref))
    return (logits - float(np.mean(ref))) / (sd if sd > 0 else 1.0)


class GRNScoring:
    """Prediction methods of :class:`GRNPredictor` (a mixin: it uses the model's ``module``,
    gene graph, training positives, TFs and split)."""

    def _choose_degree_blend(self, val_pairs: np.ndarray, val_y: np.ndarray) -> None:
        """Pick the weight of the degree-only log score added to the logits on validation
        pairs only, from :data:`DEGREE_BLEND_GRID` (0 keeps the network's score alone).

        The criterion is the share of the degree-only score's remaining error that the blend
        removes, summed over AUROC and AUPRC (``(m - m_deg) / (1 - m_deg)`` for each metric
        ``m``), so that neither metric dominates.
        """
        self.degree_blend_ = 0.0
        s = self._logits(val_pairs)
        prior = degree_prior(self.train_pos_, self.n_genes, val_pairs)
        scale = float(np.std(s)) or 1.0
        ref_roc, ref_pr = auroc(val_y, prior), auprc(val_y, prior)

        def score(v: np.ndarray) -> float:
            return ((auroc(val_y, v) - ref_roc) / max(1 - ref_roc, 1e-3)
                    + (auprc(val_y, v) - ref_pr) / max(1 - ref_pr, 1e-3))

        best = score(s)
        for lam in DEGREE_BLEND_GRID:
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
        graph = self._graph()
        x, ei, deg_np = graph.inputs("cpu")
        # the decoder runs in float64: in float32, distinct pairs of a 400 000-pair candidate
        # set shared a logit about once in a hundred (logits of magnitude ~10 are resolved to
        # ~1e-6 only), which tied them in every ranking made from it
        z = self.module.encode(x, ei).double()
        decoder = copy.deepcopy(self.module.decoder).double()
        out = []
        pairs_t = torch.as_tensor(np.asarray(pairs, dtype=np.int64))
        deg = torch.as_tensor(deg_np)
        for start in range(0, pairs_t.shape[1], PAIRS_PER_CHUNK):
            p = pairs_t[:, start:start + PAIRS_PER_CHUNK]
            f = graph.pair_features(p, deg)
            out.append(decoder(z, p, None if f is None else f.double()).numpy())
        out = np.concatenate(out) if out else np.zeros(0, np.float64)
        if getattr(self, "degree_blend_", 0.0):
            out = out + self.degree_blend_ * degree_prior(self.train_pos_, self.n_genes,
                                                          np.asarray(pairs))
        return out

    def decision_function(self, pairs: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Logits of given pairs (float64, with the degree blend chosen on validation): the
        values to rank pairs or draw ROC / precision-recall curves with. Unlike
        :meth:`predict`, they never saturate.

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
        return np.asarray(self._logits(np.asarray(pairs)), dtype=np.float64)

    def predict(self, pairs: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The model's probabilities of given pairs: the logistic of :meth:`decision_function`.

        Where the logits reach tens or hundreds (a model that leans on the degree blend does),
        many probabilities are exactly 0 or 1 in float64 and tie; rank with
        :meth:`decision_function` or :meth:`get_scores` instead.

        Parameters
        ----------
        pairs
            DataFrame ``source, target`` of gene names, or a ``(2, E)`` array of gene positions.
        """
        from scipy.special import expit

        return expit(self.decision_function(pairs))

    def get_scores(self) -> np.ndarray:
        """``(n_tfs, n_genes)`` scores of every TF -> gene candidate (rows in ``self.tfs`` order;
        self-pairs get 0): the logistic of the logits standardised over the candidates.

        The order is that of the logits (:meth:`decision_function`); standardising first keeps
        the scores spread over (0, 1) where the logits reach hundreds, whose probabilities
        (:meth:`predict`) would be exactly 0 or 1 and tie.
        """
        from scipy.special import expit

        src = np.repeat(self.tf_index, self.n_genes)
        tgt = np.tile(np.arange(self.n_genes), len(self.tf_index))
        off = src != tgt
        S = expit(standardise_logits(self.decision_function(np.stack([src, tgt])), off))
        S[~off] = 0.0
        return S.reshape(len(self.tf_index), self.n_genes)

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


__all__ = ["DEGREE_BLEND_GRID", "GRNScoring", "standardise_logits"]
