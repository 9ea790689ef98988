"""Out-of-fold stacking of :class:`GRNPredictor`'s cross-fitted models: a logistic
regression that decides, from held-out known edges only, how much the graph model's logit, the
expression pair features and the prior degrees count, for regulators with and without known
edges."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..data._grn_graph import predicted_log_degree


class Stacker:
    """Out-of-fold stacking (Wolpert 1992): a logistic regression of "known edge" on a
    model's standardised logit and other inputs of the pair (expression features, prior
    degrees), fitted on known edges held out of the model that scored them against non-prior
    candidates, each class weighted to its population (so that outputs are calibrated
    probabilities). It learns, from known edges only, how much the graph model and each
    classic score should count; with the logit alone it is Platt scaling. Without known
    edges or without other candidates to compare them with, the logit is mapped by a fixed
    logistic curve at the prior's density."""

    def __init__(self, z_pos: np.ndarray, f_pos: np.ndarray, z_neg: np.ndarray,
                 f_neg: np.ndarray, *, n_known: int, n_negative: int,
                 names: Sequence[str] = ()):
        from sklearn.linear_model import LogisticRegression

        self.names = ("logit", *names)
        self.fit = None
        self.offset = float(np.log(max(n_known, 1) / max(n_negative, 1)))
        if z_pos.size and z_neg.size:
            X = np.column_stack([np.r_[z_pos, z_neg], np.r_[f_pos, f_neg]])
            y = np.r_[np.ones(z_pos.size), np.zeros(z_neg.size)]
            w = np.r_[np.full(z_pos.size, n_known / z_pos.size),
                      np.full(z_neg.size, n_negative / z_neg.size)]
            # max_iter: with the near-constant "pairs left" inputs of a sparse prior, lbfgs
            # needed 105 iterations on the README's simulated run (100 is scikit-learn's limit)
            self.fit = LogisticRegression(C=1.0, max_iter=1000).fit(
                X, y, sample_weight=w / w.mean())

    def __call__(self, z: np.ndarray, f: np.ndarray) -> np.ndarray:
        """Probabilities of pairs with standardised logits ``z`` and other inputs ``f``,
        computed in float64 (scikit-learn keeps float32 inputs in float32, whose
        probabilities tied about 2 % of the rows of a 700 000-pair edge table)."""
        z = np.asarray(z, dtype=np.float64)
        if self.fit is None:
            return _expit(z + self.offset)
        X = np.column_stack([z, np.asarray(f, dtype=np.float64)])
        coef = np.asarray(self.fit.coef_[0], dtype=np.float64)
        return _expit(X @ coef + float(self.fit.intercept_[0]))

    @property
    def weights(self) -> dict[str, float]:
        """The regression's weight on each input (``w_logit``, ``w_<feature>``) and intercept."""
        if self.fit is None:
            return {"w_logit": 1.0, "intercept": self.offset}
        out = {f"w_{n}": float(c) for n, c in zip(self.names, self.fit.coef_[0], strict=True)}
        return {**out, "intercept": float(self.fit.intercept_[0])}


def _expit(v: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(np.asarray(v, dtype=np.float64))


#: Non-prior candidates per fold that the stacking regression is fitted on (a seeded sample).
STACK_NEGATIVES = 50_000


def sample_negatives(neg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A sorted seeded sample of at most :data:`STACK_NEGATIVES` of the positions ``neg``."""
    return np.sort(rng.choice(neg, min(neg.size, STACK_NEGATIVES), replace=False))


#: Names of the prior-degree inputs of the stacking regression: ``log1p`` of the regulator's
#: out-degree and of the target's in-degree, and ``log1p`` of how many of their candidate
#: pairs are not known edges (with the degrees, the regression can follow a known-edge
#: density, which matters where a regulator already targets a large share of the genes).
DEGREE_INPUTS = ("tf_degree", "target_degree", "tf_remaining", "target_remaining")


def degree_inputs(edges: np.ndarray, cand: np.ndarray, n_genes: int, n_regulators: int, *,
                  scale: float = 1.0) -> np.ndarray:
    """``(n_candidates, 4)`` inputs :data:`DEGREE_INPUTS` of candidates ``cand`` from
    ``edges`` (``(2, n)`` gene positions): ``log1p`` of the regulator's out-degree and of the
    target's in-degree, each times ``scale`` (so that a fold's degrees, counted on part of the
    prior, are on the scale of the whole prior's), and ``log1p`` of the regulator's
    ``n_genes - 1`` and the target's ``n_regulators`` candidate pairs less those degrees."""
    out_c = (np.bincount(edges[0], minlength=n_genes) * scale)[cand[0]]
    in_c = _in_degree(edges, cand, n_genes, scale)
    return np.column_stack([np.log1p(out_c), np.log1p(in_c),
                            np.log1p(np.maximum(n_genes - 1 - out_c, 0.0)),
                            np.log1p(np.maximum(n_regulators - in_c, 0.0))]).astype(np.float32)


#: Names of the degree inputs of the regression for regulators without known edges: the
#: target's ``log1p`` in-degree, then :data:`DIRECTED_UNSEEN_INPUTS` for a directed prior or
#: :data:`SYMMETRIC_UNSEEN_INPUTS` for a symmetric one.
UNSEEN_DEGREE_INPUTS = ("target_degree",)

#: Extra input of that regression for a directed prior: whether the target has no known edge
#: at all. Such a target reads, as its in-degree, the ``log1p`` in-degree its expression
#: predicts (a gene absent from the prior is not known to have no regulator).
DIRECTED_UNSEEN_INPUTS = ("target_without_edges",)

#: Extra inputs of that regression for a symmetric prior (an undirected reference such as
#: STRING, where a gene's degree is one property of the gene): whether the target has no
#: known edge at all, and the regulator's degree. A gene without any known edge reads, as
#: target and as regulator, the ``log1p`` degree its expression predicts.
SYMMETRIC_UNSEEN_INPUTS = ("target_without_edges", "tf_degree")


def unseen_degree_inputs(edges: np.ndarray, cand: np.ndarray, n_genes: int, *,
                         features: np.ndarray | None = None, symmetric: bool = False,
                         scale: float = 1.0) -> np.ndarray:
    """``(n_candidates, k)`` degree inputs of the regression for regulators without known
    edges, from ``edges`` (``(2, n)`` gene positions; degrees times ``scale``, as in
    :func:`degree_inputs`).

    Without ``features``: the target's ``log1p`` in-degree (:data:`UNSEEN_DEGREE_INPUTS`).
    With the genes' expression ``features``, a gene without any edge in ``edges`` reads the
    ``log1p`` in-degree its expression predicts (a ridge regression fitted on the genes with
    edges, :func:`gnngeno.data.predicted_log_degree`), and the inputs are followed by
    :data:`DIRECTED_UNSEEN_INPUTS` or, for a ``symmetric`` prior (where a gene's degree is its
    in-degree), :data:`SYMMETRIC_UNSEEN_INPUTS`. The extra models' held-out genes and genes
    held out of the prior are such genes (for a symmetric prior at both ends of a pair), and
    degree 0 would rank every pair into one of them last.
    """
    degree = np.bincount(edges[1], minlength=n_genes) * scale
    log_degree = np.log1p(degree)
    if features is None:
        return log_degree[cand[1], None].astype(np.float32)
    has_edges = np.zeros(n_genes, bool)
    has_edges[edges[0]] = True
    has_edges[edges[1]] = True
    without = np.flatnonzero(~has_edges)
    if without.size:
        log_degree[without] = predicted_log_degree(features, degree, has_edges, without)
    columns = [log_degree[cand[1]], ~has_edges[cand[1]]]
    if symmetric:
        columns.append(log_degree[cand[0]])
    return np.column_stack(columns).astype(np.float32)


#: Name of the input of that regression read from co-expressed regulators (see
#: :class:`RegulatorPartners`).
PARTNER_INPUT = "partner_targets"

#: How many of its most co-expressed regulators with known edges stand in for a regulator
#: without any (:class:`RegulatorPartners`).
PARTNER_REGULATORS = 10


class RegulatorPartners:
    """Co-expressed regulators as stand-ins for a regulator without known edges.

    Regulators that are co-expressed across cells often work together and share targets
    (co-binding partners, members of one complex or pathway), the guilt-by-association
    principle behind co-expression network analysis. For a candidate ``regulator -> gene`` the
    input :data:`PARTNER_INPUT` is the share of the regulator's :data:`PARTNER_REGULATORS` most
    co-expressed regulators (absolute Pearson correlation over cells, each weighted by it) that
    have a known edge into the gene. Only regulators with known edges count as partners, so
    the input says which targets the regulator's partners reach; where co-expression says
    nothing about shared targets it falls back to a smoothed share of regulators reaching the
    gene, close to the gene's in-degree.

    Parameters
    ----------
    similarity
        ``(n_regulators, n_regulators)`` correlation of the regulators' expression (rows and
        columns in ``tf_index`` order; signs and NaNs are ignored).
    tf_index
        Gene positions of the regulators.
    n_genes
        Number of genes.
    """

    def __init__(self, similarity: np.ndarray, tf_index: np.ndarray, n_genes: int):
        self.similarity = np.nan_to_num(np.abs(np.asarray(similarity, dtype=np.float32)))
        self.tf_index = np.asarray(tf_index, dtype=np.int64)
        self.n_genes = int(n_genes)

    def target_share(self, edges: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """``(n_candidates,)`` the input :data:`PARTNER_INPUT` of candidates ``cand`` (``(2,
        n)`` gene positions, regulators first) from the known ``edges`` (``(2, m)``): the
        weighted share of each regulator's partners, chosen among the regulators with an
        edge in ``edges`` (never the regulator itself), that have an edge into the gene."""
        from scipy import sparse

        n_tfs = self.tf_index.size
        row_of = np.full(self.n_genes, -1)
        row_of[self.tf_index] = np.arange(n_tfs)
        src = row_of[edges[0]]
        keep = src >= 0
        has_edges = np.zeros(n_tfs, bool)
        has_edges[src[keep]] = True
        k = min(PARTNER_REGULATORS, int(has_edges.sum()))
        if k == 0:
            return np.zeros(cand.shape[1], np.float32)
        eligible = np.where(has_edges[None, :], self.similarity, -1.0)
        np.fill_diagonal(eligible, -2.0)
        top = np.argpartition(-eligible, k - 1, axis=1)[:, :k]
        w = np.clip(np.take_along_axis(eligible, top, axis=1), 0.0, None)
        w = w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
        weights = sparse.csr_matrix((w.ravel(), top.ravel(), np.arange(0, n_tfs * k + 1, k)),
                                    shape=(n_tfs, n_tfs))
        known = sparse.csr_matrix((np.ones(int(keep.sum())), (src[keep], edges[1][keep])),
                                  shape=(n_tfs, self.n_genes))
        known.data[:] = 1.0  # duplicate edges count once
        share = (weights @ known).toarray()
        return share[row_of[cand[0]], cand[1]].astype(np.float32)


def unseen_inputs(edges: np.ndarray, cand: np.ndarray, n_genes: int,
                  partners: RegulatorPartners, *, features: np.ndarray | None = None,
                  symmetric: bool = False, scale: float = 1.0) -> np.ndarray:
    """The inputs other than the logit and the expression features of the regression for
    regulators without known edges, in the order :class:`UnseenRegime` names them:
    :func:`unseen_degree_inputs` (``features``, ``symmetric`` and ``scale`` as there), then
    :meth:`RegulatorPartners.target_share`, both from the known ``edges``."""
    return np.column_stack([
        unseen_degree_inputs(edges, cand, n_genes, features=features, symmetric=symmetric,
                             scale=scale),
        partners.target_share(edges, cand)])


def _in_degree(edges: np.ndarray, cand: np.ndarray, n_genes: int, scale: float) -> np.ndarray:
    return (np.bincount(edges[1], minlength=n_genes) * scale)[cand[1]]


class OutOfFold:
    """The folds' standardised logits, held-out known edges, prior-degree inputs and a sample
    of non-prior candidates, from which :class:`Stacker` regressions (on the logit, the
    expression features and the two degrees) are fitted on any set of folds."""

    def __init__(self, z_folds, held_of, deg_folds, E, negative, *, rng, n_known: int,
                 names: Sequence[str]):
        self.z_folds, self.held_of, self.deg_folds = z_folds, held_of, deg_folds
        self.E, self.names = E, (*names, *DEGREE_INPUTS)
        neg = np.flatnonzero(negative)
        self.sample = sample_negatives(neg, rng)
        self.n_known, self.n_negative = int(n_known), int(neg.size)

    def inputs(self, deg: np.ndarray, rows) -> np.ndarray:
        """The regression's inputs other than the logit, for candidates ``rows``."""
        return np.column_stack([self.E[rows], deg[rows]])

    def fold_inputs(self, g: int, rows) -> tuple[np.ndarray, np.ndarray]:
        """(logits, other inputs) of fold ``g``'s model for candidates ``rows``."""
        return self.z_folds[g][rows], self.inputs(self.deg_folds[g], rows)

    def fit(self, folds) -> Stacker:
        pos = [self.fold_inputs(g, self.held_of[g]) for g in folds]
        neg = [self.fold_inputs(g, self.sample) for g in folds]
        return Stacker(np.concatenate([p[0] for p in pos]), np.concatenate([p[1] for p in pos]),
                       np.concatenate([n[0] for n in neg]), np.concatenate([n[1] for n in neg]),
                       n_known=self.n_known, n_negative=self.n_negative, names=self.names)


#: Regulators without known edges are ranked by a regression of their own, fitted on
#: :data:`UNSEEN_MODELS` extra models (one more for a directed prior, see
#: :func:`unseen_target_group`), each trained without any edge of a disjoint random
#: :data:`UNSEEN_TF_SHARE` of the regulators that have known edges.
UNSEEN_MODELS = 2
UNSEEN_TF_SHARE = 0.2

#: Fewest regulators per group; with fewer (priors whose edges come from fewer than 15
#: regulators) no extra model is trained and such regulators share the regression of the rest.
MIN_UNSEEN_TFS = 3


def unseen_tf_groups(pos: np.ndarray, rng: np.random.Generator, *,
                     n_groups: int = UNSEEN_MODELS) -> list[np.ndarray]:
    """``n_groups`` disjoint random groups of :data:`UNSEEN_TF_SHARE` of the regulators of
    ``pos`` (gene positions), or none when a group would hold fewer than
    :data:`MIN_UNSEEN_TFS` regulators."""
    active = np.unique(pos[0])
    m = int(UNSEEN_TF_SHARE * active.size)
    if m < MIN_UNSEEN_TFS:
        return []
    chosen = rng.permutation(active)[:n_groups * m]
    return [np.sort(chosen[j * m:(j + 1) * m]) for j in range(n_groups)]


def unseen_target_group(pos: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random :data:`UNSEEN_TF_SHARE` of the genes that are targets of ``pos`` (gene
    positions) and regulate none. For a directed prior one more extra model also goes without
    every edge into them, so that the regression for regulators without known edges sees
    targets that have edges of which the model knows none (as genes held out of a prior
    are)."""
    only_targets = np.setdiff1d(np.unique(pos[1]), pos[0])
    m = int(UNSEEN_TF_SHARE * only_targets.size)
    return np.sort(rng.permutation(only_targets)[:m])


def is_symmetric(pos: np.ndarray, n_genes: int) -> bool:
    """Whether most known edges have their reverse among the known edges (an undirected
    reference such as STRING written in both directions)."""
    keys = pos[0] * n_genes + pos[1]
    return bool(np.isin(pos[1] * n_genes + pos[0], keys).mean() > 0.5)


def within_regulator(E: np.ndarray, n_genes: int) -> np.ndarray:
    """Expression pair features (rows regulator-major, ``n_genes`` candidates per regulator)
    less each regulator's mean over its candidates (no columns: returned as given)."""
    if E.shape[1] == 0:  # pair_features="none"
        return E
    M = E.reshape(-1, n_genes, E.shape[1])
    return (M - M.mean(axis=1, keepdims=True)).reshape(E.shape).astype(E.dtype)


class UnseenRegime:
    """How to rank the candidates of a regulator without known edges: for each group, the
    standardised logits of a model trained without any edge of the group's regulators, the
    degree inputs (:func:`unseen_degree_inputs`: the target's in-degree and whether the
    target has no known edge, a gene without known edges reading the in-degree its
    expression predicts; for a symmetric prior also the regulator's degree) followed by the
    share of the regulator's co-expressed partners reaching the target
    (:data:`PARTNER_INPUT`, :class:`RegulatorPartners`), and which of their candidates are
    known edges (positives) or not. A :class:`Stacker` on the logit, the expression features and these inputs is
    fitted on some groups and scores others (cross-fitted metrics) or the final model's
    candidates of regulators without known edges (all groups).

    The expression features enter relative to the regulator's own mean over its candidates
    (:func:`within_regulator`): how strongly a regulator is co-expressed with genes in general
    says how broadly it is expressed alongside them, not how many of them it regulates (on
    mESC's loss/gain-of-function reference the regulators with most targets were among the
    least co-expressed), so they order a regulator's targets and leave the order of the
    regulators to the logit and the partners' targets."""

    def __init__(self, E, names: Sequence[str], rng: np.random.Generator, *, n_genes: int,
                 symmetric: bool = False):
        degree_names = (*UNSEEN_DEGREE_INPUTS,
                        *(SYMMETRIC_UNSEEN_INPUTS if symmetric else DIRECTED_UNSEEN_INPUTS),
                        PARTNER_INPUT)
        self.E, self.names, self.rng = within_regulator(E, n_genes), (*names, *degree_names), rng
        self.groups: list[tuple] = []  # (z, degree inputs, positives, negatives, counts)

    def add(self, z: np.ndarray, degrees: np.ndarray, known: np.ndarray,
            candidates: np.ndarray) -> None:
        """A group: its model's logits and degree inputs for every candidate, and the masks
        of its regulators' known edges and other candidates."""
        neg = np.flatnonzero(candidates)
        sample = sample_negatives(neg, self.rng)
        self.groups.append((z, degrees, np.flatnonzero(known), sample,
                            int(known.sum()), int(neg.size)))

    def inputs(self, degrees: np.ndarray, rows) -> np.ndarray:
        """The regression's inputs other than the logit, for candidates ``rows``."""
        return np.column_stack([self.E[rows], degrees[rows]])

    def fit(self, groups) -> Stacker:
        """The regression fitted on the groups listed."""
        part = [self.groups[j] for j in groups]
        z_pos = np.concatenate([z[p] for z, _, p, _, _, _ in part])
        f_pos = np.concatenate([self.inputs(d, p) for _, d, p, _, _, _ in part])
        z_neg = np.concatenate([z[n] for z, _, _, n, _, _ in part])
        f_neg = np.concatenate([self.inputs(d, n) for _, d, _, n, _, _ in part])
        return Stacker(z_pos, f_pos, z_neg, f_neg, n_known=sum(g[4] for g in part),
                       n_negative=sum(g[5] for g in part), names=self.names)


__all__ = ["DEGREE_INPUTS", "DIRECTED_UNSEEN_INPUTS", "MIN_UNSEEN_TFS", "PARTNER_INPUT",
           "PARTNER_REGULATORS", "STACK_NEGATIVES", "SYMMETRIC_UNSEEN_INPUTS", "UNSEEN_DEGREE_INPUTS", "UNSEEN_MODELS",
           "UNSEEN_TF_SHARE", "OutOfFold", "RegulatorPartners", "Stacker", "UnseenRegime",
           "degree_inputs", "is_symmetric", "unseen_degree_inputs", "unseen_inputs",
           "unseen_target_group", "unseen_tf_groups", "within_regulator"]
