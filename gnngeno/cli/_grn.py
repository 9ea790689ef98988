"""``gnngeno grn``: rank every regulator -> gene candidate, cross-fitted on a given prior
(``gnngeno grn-benchmark`` lives in :mod:`gnngeno.cli._grn_benchmark`)."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import (
    Command,
    app,
    l1_option,
    l2_option,
    lr_option,
    patience_option,
    prepare,
    renamed,
    say,
    threads_option,
    tl_options,
)


@app.command("grn", cls=Command)
def grn(
    out: Path = typer.Option(..., "--out", "-o", help="Edge table to write (tsv: source, "
                             "target, score, rank, in_prior; sorted by score)."),
    expression: Path = typer.Option(None, "--expression", "-e", exists=True, dir_okay=False,
                                    help="Expression file (h5ad, 10x, csv/tsv; any "
                                         "orientation)."),
    tfs: Path = typer.Option(None, "--tfs", exists=True, dir_okay=False,
                             help="Candidate regulators (one per line, or a csv with a TF "
                                  "column). Default: every gene."),
    prior: Path = typer.Option(None, "--prior", exists=True, dir_okay=False,
                               help="Known regulator -> target edges (edge list). The GNN "
                                    "learns from all of them by cross-fitting; without it the "
                                    "ranking comes from expression alone."),
    truth: Path = typer.Option(None, "--truth", exists=True, dir_okay=False,
                               help="Reference edges to score the ranking against (AUROC, "
                                    "AUPRC, EPR over the table's rows)."),
    dataset: str = typer.Option(None, "--dataset",
                                help="Embedded data instead of files: 'simulated' (planted "
                                     "network: the prior, or with --prior or --method "
                                     "expression the reference the ranking is scored against)."),
    layer: str = typer.Option(None, "--layer", help="Expression layer of an h5ad file "
                              "(default: X)."),
    orientation: str = typer.Option(None, "--orientation", help="Of a csv/tsv expression "
                                    "table: genes_x_cells or cells_x_genes (default: told "
                                    "from the labels)."),
    method: str = typer.Option("auto", "--method", help="auto (the cross-fitted GNN with "
                               "--prior, expression alone without), gnn or expression."),
    expression_method: str = typer.Option(
        "auto", "--expression-method", help="Ranking from expression alone (without --prior): "
        "auto (trees below 100 genes, ensemble from there), ensemble (mean rank of a diffusion "
        "model's learnable adjacency and tree importances), diffusion, trees (GENIE3-style "
        "importances in context, CLR), pearson, spearman, genie3 or grnboost2."),
    cv_folds: int = typer.Option(5, "--cv-folds", min=0, help="Folds of the prior: each "
                                 "known edge is scored by a model that did not see it "
                                 "(0: no cross-fitting, no metrics)."),
    exclude_prior: bool = typer.Option(False, "--exclude-prior/--include-prior",
                                       help="Write only the candidates that are not known "
                                            "edges."),
    conv: str = typer.Option("gcn", "--conv", help="Graph encoder: gcn, gat or gatv2."),
    decoder: str = typer.Option("bilinear", "--decoder", help="bilinear, dot or mlp."),
    n_layers: int = typer.Option(None, "--n-layers", help="Graph layers (default: the "
                                 "model's)."),
    n_hidden: int = typer.Option(None, "--n-hidden", help="Hidden units (default: the "
                                 "model's)."),
    pair_features: str = typer.Option(
        "auto", "--pair-features", help="Expression features of each pair in the GNN's "
        "decoder, comma-separated among pearson, spearman, tree (GENIE3-style importance); "
        "auto: all three with --prior; none: degrees and embeddings only."),
    message_passing: bool = typer.Option(
        True, "--message-passing/--no-message-passing", help="--no-message-passing: the same "
        "model without the graph (an ablation: what the known edges add as a graph)."),
    max_epochs: int = typer.Option(300, "--max-epochs", help="Maximum training epochs."),
    lr: float = lr_option(),
    patience: int = patience_option("AUPRC"),
    l1: float = l1_option(),
    l2: float = l2_option(),
    save_model: Path = typer.Option(None, "--save-model", help="Folder to save the trained "
                                    "(final) model."),
    threads: int = threads_option(),
    split: str = typer.Option(None, "--split", hidden=True),
    epochs: int = typer.Option(None, "--epochs", hidden=True),
    encoder: str = typer.Option(None, "--encoder", hidden=True),
    n_jobs: int = typer.Option(None, "--n-jobs", hidden=True),
) -> None:
    """Rank every regulator -> gene candidate and write them sorted by score."""
    from .. import _keys as keys
    from .. import tl
    from .._validate import InputError
    from ..models import GRNPredictor
    from ._io import write_atomic

    max_epochs = renamed("--epochs", epochs, "--max-epochs", max_epochs)
    conv = renamed("--encoder", encoder, "--conv", conv)
    prepare(renamed("--n-jobs", n_jobs, "--threads", threads))
    adata, tf_names, net, planted = _grn_inputs(dataset, expression, tfs, prior, orientation)
    if planted is not None and prior is None and method == "expression":
        net = None  # the planted network then scores the expression ranking instead
    reference = _read_truth(truth, planted if net is not planted else None)
    if tf_names is None:
        say(f"no TF list: every one of the {adata.n_vars} genes is a candidate regulator.")
    options = tl_options(tl.infer_grn, GRNPredictor, method=method,
                         expression_method=expression_method, cv_folds=cv_folds,
                         exclude_prior=exclude_prior, split=split, conv=conv, decoder=decoder,
                         n_layers=n_layers, n_hidden=n_hidden, max_epochs=max_epochs, lr=lr,
                         pair_features=_pair_features(pair_features),
                         message_passing=None if message_passing else False,
                         patience=patience, l1=l1, l2=l2)
    adata, model = tl.infer_grn(adata, prior=net, tfs=tf_names, layer=layer, truth=reference,
                                return_model=True, copy=True, **options)
    if save_model is not None and model is None:
        raise InputError("--save-model needs a trained model; the expression ranking has none "
                         "(pass --method gnn).")
    res = adata.uns[keys.GRN_SCORES_KEY]
    edges = res["edges"]
    write_atomic(out, lambda p: edges.to_csv(p, sep="\t", index=False, float_format="%.10g"))
    if save_model is not None:
        model.save(save_model, overwrite=True)
    _report(res, out, adata.n_vars, model)


def _report(res, out, n_genes, model) -> None:
    """The status lines of ``gnngeno grn``: what was written, and the figures it can back."""
    p = res["params"]
    how = {"expression": f"expression alone ({res.get('expression_method')})"}.get(
        p["mode"], f"GNN ({p['mode']})")
    if p["cv_folds"]:
        how = f"GNN cross-fitted on {p['n_known_edges']} known edges"
    timing = (f", {len(model.history_)} epochs of the final model" if model is not None else "")
    say(f"{len(res['edges'])} candidates ({p['n_tfs']} regulators x {n_genes} genes) written "
        f"to {out}; ranking: {how}{timing}")
    if "cv_metrics" in res:
        m = res["cv_metrics"]
        say(f"cross-fitted ({m['n_folds']} folds; each known edge against the "
            f"{m['n_negatives']} candidates outside the prior, scored by a model that did not "
            f"see it): AUROC {m['auroc']:.3f}, AUPRC {m['auprc']:.3f} (random: "
            f"{m['density']:.3f}; ratio {m['auprc_ratio']:.2f}), EPR {m['epr']:.2f}")
        if "auroc_unseen_tf" in m:
            say(f"regulators without known edges ({m['n_unseen_models']} extra models, each "
                f"trained without any edge of {m['n_unseen_tfs']} regulators): AUROC "
                f"{m['auroc_unseen_tf']:.3f}, AUPRC ratio {m['auprc_ratio_unseen_tf']:.2f}")
    if "metrics" in res:
        m = res["metrics"]
        say(f"held-out test edges of the split ({m['n_pos']} positives among "
            f"{m['n_candidates']} pairs): AUROC {m['auroc']:.3f}, AUPRC {m['auprc']:.3f} "
            f"(random: {m['density']:.3f})")
    if "truth_metrics" in res:
        m = res["truth_metrics"]
        say(f"against the reference network ({m['n_pos']} edges among {m['n_candidates']} "
            f"candidates): AUROC {m['auroc']:.3f}, AUPRC {m['auprc']:.3f} (random: "
            f"{m['density']:.3f}; ratio {m['auprc_ratio']:.2f}), EPR {m['epr']:.2f}")


def _pair_features(value: str):
    """``--pair-features`` as the model's ``pair_features`` (``None``: the default)."""
    value = value.strip()
    if value == "auto":
        return None
    return "none" if value == "none" else [v.strip() for v in value.split(",") if v.strip()]


def _read_truth(path, planted):
    """The reference network of ``--truth`` (else the planted one, when given)."""
    if path is None:
        return planted
    from ..io import read_network

    return read_network(path)


def _grn_inputs(dataset, expression, tfs, prior, orientation=None):
    """(adata, regulator names or None, prior edges or None, planted network or None) of
    ``gnngeno grn``."""
    from .. import _keys as keys
    from .._validate import InputError

    planted = None
    tf_names = None
    if dataset is not None:
        if expression is not None:
            raise InputError("pass either --dataset or --expression, not both.")
        if dataset != "simulated":
            raise InputError(f"unknown --dataset {dataset!r}; the embedded one is 'simulated'.")
        from ..datasets import simulate

        adata, planted = simulate(n_cells=400, n_genes=200, n_tfs=20)
        tf_names = adata.var_names[adata.var[keys.IS_TF_KEY]].tolist()
        net = planted if prior is None else None
    else:
        if expression is None:
            raise InputError("pass --expression FILE (optionally --tfs FILE and --prior "
                             "EDGES), or --dataset simulated.")
        from ..io import read_expression

        adata = read_expression(expression, **({"orientation": orientation}
                                               if orientation is not None else {}))
        net = None
    if tfs is not None:
        from ..io import read_tfs

        tf_names = read_tfs(tfs)
    elif keys.IS_TF_KEY in adata.var:
        tf_names = adata.var_names[adata.var[keys.IS_TF_KEY].astype(bool)].tolist()
    if prior is not None:
        from ..io import read_network

        net = read_network(prior)
    return adata, tf_names, net, planted

