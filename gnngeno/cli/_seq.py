"""``gnngeno seq``: train a sequence CNN, predict with it, turn its filters into motifs."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import Command, app, prepare, renamed, say, threads_option

seq_app = typer.Typer(help="Sequence CNNs on DNA: train, predict, motifs.", no_args_is_help=True,
                      add_completion=False, pretty_exceptions_enable=False,
                      rich_markup_mode=None)
app.add_typer(seq_app, name="seq")

NEGATIVES = ("auto", "shuffle", "none")


def _labelled(path: Path, negatives: str, seed: int, what: str):
    """(sequences, targets (N, T) or None, label names) of a sequence file, with dinucleotide-
    shuffled negatives added when asked (``auto``: when every label is 1 or there is none)."""
    import numpy as np

    from .._logging import logger
    from .._validate import InputError
    from ..data._sequence import add_shuffled_negatives
    from ..io._sequence import label_columns, read_sequences

    df = read_sequences(path)
    labs = label_columns(df)
    seqs = df["sequence"].tolist()
    y = df[labs].to_numpy(np.float32) if labs else None
    only_pos = y is None or (y.shape[1] == 1 and np.all(y == 1.0))
    if negatives == "shuffle" or (negatives == "auto" and only_pos):
        if y is not None and not only_pos:
            raise InputError(f"{what} {path} already holds negatives; use --negatives none.")
        seqs, yy = add_shuffled_negatives(seqs, seed=seed)
        logger.info(f"{what}: added {len(seqs) // 2} dinucleotide-shuffled negatives")
        say(f"{what}: {len(seqs) // 2} sequences + as many dinucleotide-shuffled negatives")
        return seqs, yy[:, None], ["label"]
    if y is None:
        raise InputError(f"{what} {path} has no label column; add one (sequence,label), or use "
                         "--negatives shuffle to train positives against shuffles.")
    return seqs, y, labs


@seq_app.command("train", cls=Command)
def train(
    train_file: Path = typer.Option(..., "--train", exists=True, dir_okay=False,
                                    help="FASTA, DeepBind table (FoldID EventID seq Bound) or "
                                         "sequence,label table."),
    valid_file: Path = typer.Option(None, "--valid", exists=True, dir_okay=False,
                                    help="Validation file (default: 10% of --train)."),
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write."),
    negatives: str = typer.Option("auto", "--negatives", help="Add dinucleotide-shuffled "
                                  "negatives: auto (when the file holds only positives), "
                                  "shuffle, none."),
    task: str = typer.Option("auto", "--task", help="binary, multitask, regression or auto "
                             "(from labels)."),
    n_filters: int = typer.Option(64, "--n-filters", help="First-layer filters."),
    filter_size: int = typer.Option(19, "--filter-size", help="First-layer filter width (bp)."),
    n_dilated: int = typer.Option(0, "--n-dilated", help="Dilated residual convolution "
                                  "layers."),
    n_hidden: int = typer.Option(32, "--n-hidden", help="Hidden units (0: none)."),
    dropout: float = typer.Option(0.2, "--dropout", help="Dropout."),
    activation: str = typer.Option("relu", "--activation", help="Activation."),
    l1: float = typer.Option(0.0, "--l1", help="L1 penalty on first-layer filters."),
    l2: float = typer.Option(0.0, "--l2", help="L2 penalty on weights."),
    max_epochs: int = typer.Option(12, "--max-epochs", help="Maximum epochs."),
    patience: int = typer.Option(2, "--patience", help="Early-stopping patience (epochs)."),
    batch_size: int = typer.Option(256, "--batch-size", help="Batch size."),
    lr: float = typer.Option(2e-3, "--lr", help="Learning rate (Adam)."),
    max_shift: int = typer.Option(0, "--max-shift", help="Random-shift augmentation (bp)."),
    device: str = typer.Option(None, "--device", help="cpu, cuda, ... (default: "
                               "settings.device)."),
    threads: int = threads_option(),
    overwrite: bool = typer.Option(False, "--overwrite/--no-overwrite",
                                   help="Replace an existing --out folder."),
    filters: int = typer.Option(None, "--filters", hidden=True),
    dilated: int = typer.Option(None, "--dilated", hidden=True),
    hidden: int = typer.Option(None, "--hidden", hidden=True),
    epochs: int = typer.Option(None, "--epochs", hidden=True),
) -> None:
    """Train a SequenceModel and save it (model.pt, history.tsv) to --out."""
    import numpy as np

    from .._settings import settings
    from .._validate import InputError, check_choice
    from ..models import SequenceModel
    from ._io import write_atomic

    n_filters = renamed("--filters", filters, "--n-filters", n_filters)
    n_dilated = renamed("--dilated", dilated, "--n-dilated", n_dilated)
    n_hidden = renamed("--hidden", hidden, "--n-hidden", n_hidden)
    max_epochs = renamed("--epochs", epochs, "--max-epochs", max_epochs)
    check_choice(negatives, NEGATIVES, "negatives")
    prepare(threads)
    if out.exists() and not overwrite:
        raise InputError(f"{out} exists; pass --overwrite to replace it.")
    seqs, y, names = _labelled(train_file, negatives, settings.seed, "train")
    Xv = yv = None
    if valid_file is not None:
        Xv, yv, _ = _labelled(valid_file, negatives, settings.seed + 1, "valid")
        if yv.shape[1] != y.shape[1]:
            raise InputError(f"--valid has {yv.shape[1]} label column(s), --train {y.shape[1]}.")
    if task == "auto":
        binary = np.isin(y, (0.0, 1.0)).all()
        task = ("binary" if y.shape[1] == 1 else "multitask") if binary else "regression"
    lengths = {len(s) for s in seqs}
    model = SequenceModel(n_outputs=y.shape[1], task=task, n_filters=n_filters,
                          filter_size=filter_size, n_dilated=n_dilated, n_hidden=n_hidden,
                          dropout=dropout, activation=activation,
                          length=max(lengths), output_names=names)
    model.train(seqs, y, X_valid=Xv, y_valid=yv, max_epochs=max_epochs, patience=patience,
                batch_size=batch_size, lr=lr, l1=l1, l2=l2, max_shift=max_shift, device=device)
    model.save(out, overwrite=overwrite)
    hist = model.history
    write_atomic(out / "history.tsv", lambda p: hist.to_csv(p, sep="\t"))
    best = hist.loc[model.history_.best_epoch].to_dict() if len(hist) else {}
    shown = ", ".join(f"{k}={v:.4f}" for k, v in best.items())
    say(f"trained {task} SequenceModel on {len(seqs)} sequences: {len(hist)} epochs "
        f"({model.train_time_['wall_s']:.0f} s); best epoch {model.history_.best_epoch}: "
        f"{shown}")
    say(f"wrote {out}")



@seq_app.command("predict", cls=Command)
def predict(
    model_dir: Path = typer.Option(..., "--model", exists=True, file_okay=False,
                                   help="Folder written by `gnngeno seq train`."),
    input_file: Path = typer.Option(..., "--input", "-i", exists=True, dir_okay=False,
                                    help="FASTA or table of sequences."),
    out: Path = typer.Option(..., "--out", "-o", help="Output TSV (name, score)."),
    batch_size: int = typer.Option(1024, "--batch-size", help="Sequences per forward pass."),
    threads: int = threads_option(),
) -> None:
    """Score every sequence of --input (one row per input row, in order)."""
    import pandas as pd

    from ..io._sequence import read_sequences
    from ..models import SequenceModel
    from ._io import write_atomic

    prepare(threads)
    model = SequenceModel.load(model_dir)
    df = read_sequences(input_file)
    pred = model.predict(df["sequence"].tolist(), batch_size=batch_size)
    res = pd.DataFrame({"name": df["name"].to_numpy()})
    if pred.ndim == 1:
        res["score"] = pred
    else:
        for j, n in enumerate(model.output_names):
            res[f"score_{n}"] = pred[:, j]
    write_atomic(out, lambda p: res.to_csv(p, sep="\t", index=False, float_format="%.6g"))
    scored = _score_labels(df, pred, model)
    if scored:
        say(scored)
    say(f"scored {len(res)} sequences; wrote {out}")


def _score_labels(df, pred, model) -> str | None:
    """AUROC/AUPRC of ``pred`` against the label columns of ``df`` (a line to print), or None
    when the input holds no labels or the model is a regression.

    Labels are matched to the model's outputs by name, else in order; each task is scored on
    its non-missing labels, several tasks by their mean."""
    import numpy as np

    from ..io._sequence import label_columns
    from ..metrics import auprc, auroc

    labs = label_columns(df)
    if not labs or model.task == "regression":
        return None
    P = np.asarray(pred, dtype=float).reshape(len(df), -1)
    names = list(model.output_names)
    if set(names) <= set(labs):
        cols = names
    elif len(labs) == P.shape[1]:
        cols = labs
    else:
        return (f"no AUROC/AUPRC: the input's label columns {labs} do not match the model's "
                f"outputs {names}; name them like the outputs.")
    per_task = {}
    for j, c in enumerate(cols):
        y = df[c].to_numpy(dtype=float)
        keep = np.isfinite(y)
        if not np.isin(y[keep], (0.0, 1.0)).all():
            return f"no AUROC/AUPRC: label column {c!r} holds values other than 0/1."
        if 0 < y[keep].sum() < keep.sum():  # both classes present
            per_task[c] = (auroc(y[keep], P[keep, j]), auprc(y[keep], P[keep, j]))
    if not per_task:
        return "no AUROC/AUPRC: the labels hold a single class."
    roc, prc = np.mean(list(per_task.values()), axis=0)
    if len(cols) == 1:
        return f"AUROC {roc:.4f}, AUPRC {prc:.4f} on {len(df)} labelled sequences"
    line = (f"mean over {len(per_task)} tasks with both classes: AUROC {roc:.4f}, "
            f"AUPRC {prc:.4f} on {len(df)} sequences")
    if len(per_task) <= 10:
        line += " (AUROC/AUPRC per task: " + ", ".join(
            f"{c} {a:.3f}/{b:.3f}" for c, (a, b) in per_task.items()) + ")"
    return line


@seq_app.command("motifs", cls=Command)
def motifs(
    model_dir: Path = typer.Option(..., "--model", exists=True, file_okay=False,
                                   help="Folder written by `gnngeno seq train`."),
    motif_file: Path = typer.Option(..., "--motifs", exists=True, dir_okay=False,
                                    help="MEME motif database (e.g. JASPAR; may be gzipped)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    input_file: Path = typer.Option(None, "--input", "-i", exists=True, dir_okay=False,
                                    help="Sequences to build PWMs from (default: the training "
                                         "sequences kept in the model)."),
    threshold: float = typer.Option(0.5, "--threshold", help="Fraction of a filter's max "
                                    "activation."),
    top: int = typer.Option(5, "--top", help="Matches listed per filter."),
    show: int = typer.Option(5, "--show", help="Most important filters printed."),
    threads: int = threads_option(),
) -> None:
    """Filters as PWMs (filters.meme), their matches in --motifs (matches.tsv), filter
    importance (importance.tsv), and a logo of each matched filter above its best match
    (logos/<filter>.png)."""
    import pandas as pd

    from ..interpret import filter_importance, filters_to_pwms, match_motifs
    from ..io._motifs import read_meme, write_meme
    from ..io._sequence import read_sequences
    from ..models import SequenceModel
    from ._io import write_atomic

    prepare(threads)
    model = SequenceModel.load(model_dir)
    seqs = (read_sequences(input_file)["sequence"].tolist() if input_file is not None
            else model.reference_sequences_ or None)
    pwms = filters_to_pwms(model, seqs, threshold=threshold)
    if seqs is not None:
        imp = filter_importance(model, seqs)
    else:
        imp = pd.Series(0.0, index=list(pwms), name="importance")
    db = read_meme(motif_file)
    matches = match_motifs(pwms, db, top=top)
    matches["filter_importance"] = matches["query"].map(imp)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "filters.meme", lambda p: write_meme(pwms, p))
    write_atomic(out / "matches.tsv", lambda p: matches.to_csv(p, sep="\t", index=False))
    write_atomic(out / "importance.tsv",
                 lambda p: imp.rename_axis("filter").to_csv(p, sep="\t"))
    for f in imp.index[:show]:
        m = matches[matches["query"] == f].head(3)
        hits = "; ".join(f"{r.target_name or r.target_id} (E={r.e_value:.2g})"
                         for r in m.itertuples())
        say(f"{f} (importance {imp[f]:.3g}, {pwms[f].consensus()}): {hits}")
    say(f"wrote {out}/filters.meme, matches.tsv, importance.tsv")
    logos = _write_logos(pwms, db, matches, out / "logos")
    if logos:
        say(f"wrote {len(logos)} logos to {out}/logos/ (<filter>.png: the filter above its "
            f"best match, aligned; filters whose best match has E <= {LOGO_MAX_EVALUE:g})")
    else:
        say(f"no logos: no filter's best match has E <= {LOGO_MAX_EVALUE:g}")


#: Logos are drawn for the filters whose best database match has an E-value at most this.
LOGO_MAX_EVALUE = 1.0


def _write_logos(pwms: dict, db: dict, matches, folder: Path) -> list[Path]:
    """One PNG per matched filter: its logo above its best match's, aligned as matched."""
    import matplotlib.pyplot as plt

    from .. import pl
    from ._io import write_atomic

    best = matches[(matches["rank"] == 1) & (matches["e_value"] <= LOGO_MAX_EVALUE)]
    by_id = {m.id: m for m in db.values()}
    paths = []
    for r in best.itertuples():
        title = f"{r.query}: {r.target_name or r.target_id} (E = {r.e_value:.2g})"
        fig = pl.motif_match(pwms[r.query], by_id[r.target_id], offset=r.offset,
                             strand=r.strand, title=title, show=False)[0].figure
        try:
            write_atomic(folder / f"{r.query}.png",
                         lambda p, fig=fig: fig.savefig(p, dpi=150, bbox_inches="tight"))
        finally:
            plt.close(fig)
        paths.append(folder / f"{r.query}.png")
    return paths
