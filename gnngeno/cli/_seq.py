"""``gnngeno seq``: train a sequence CNN, predict with it, turn its filters into motifs."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import app

seq_app = typer.Typer(help="Sequence CNNs on DNA: train, predict, motifs.", no_args_is_help=True,
                      add_completion=False, pretty_exceptions_enable=False)
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
        typer.echo(f"{what}: {len(seqs) // 2} sequences + as many dinucleotide-shuffled "
                   "negatives")
        return seqs, yy[:, None], ["label"]
    if y is None:
        raise InputError(f"{what} {path} has no label column; add one (sequence,label), or use "
                         "--negatives shuffle to train positives against shuffles.")
    return seqs, y, labs


@seq_app.command("train")
def train(
    train_file: Path = typer.Option(..., "--train", exists=True, dir_okay=False,
                                    help="FASTA, DeepBind table (FoldID EventID seq Bound) or "
                                         "sequence,label table."),
    valid_file: Path = typer.Option(None, "--valid", exists=True, dir_okay=False,
                                    help="Validation file (default: 10% of --train)."),
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write."),
    negatives: str = typer.Option("auto", help="Add dinucleotide-shuffled negatives: auto (when "
                                               "the file holds only positives), shuffle, none."),
    task: str = typer.Option("auto", help="binary, multitask, regression or auto (from labels)."),
    filters: int = typer.Option(64, help="First-layer filters."),
    filter_size: int = typer.Option(19, help="First-layer filter width (bp)."),
    dilated: int = typer.Option(0, help="Dilated residual convolution layers."),
    hidden: int = typer.Option(32, help="Hidden units (0: none)."),
    dropout: float = typer.Option(0.2, help="Dropout."),
    activation: str = typer.Option("relu", help="Activation."),
    l1: float = typer.Option(0.0, help="L1 penalty on first-layer filters."),
    l2: float = typer.Option(0.0, help="L2 penalty on weights."),
    epochs: int = typer.Option(12, help="Maximum epochs."),
    patience: int = typer.Option(2, help="Early-stopping patience (epochs)."),
    batch_size: int = typer.Option(256, help="Batch size."),
    lr: float = typer.Option(2e-3, help="Learning rate (Adam)."),
    max_shift: int = typer.Option(0, help="Random-shift augmentation (bp)."),
    threads: int = typer.Option(0, help="CPU threads for torch (0: torch's default; 1 is "
                                        "often fastest on a busy machine)."),
    overwrite: bool = typer.Option(False, help="Replace an existing --out folder."),
) -> None:
    """Train a SequenceModel and save it (model.pt, history.tsv) to --out."""
    import numpy as np

    from .._settings import settings
    from .._validate import InputError, check_choice
    from ..models import SequenceModel
    from ._io import write_atomic

    check_choice(negatives, NEGATIVES, "--negatives")
    if threads:
        settings.n_jobs = threads
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
    model = SequenceModel(n_outputs=y.shape[1], task=task, n_filters=filters,
                          filter_size=filter_size, n_dilated=dilated, hidden=hidden,
                          dropout=dropout, activation=activation, l1_filters=l1, l2=l2,
                          length=max(lengths), output_names=names)
    model.train(seqs, y, X_valid=Xv, y_valid=yv, max_epochs=epochs, patience=patience,
                batch_size=batch_size, lr=lr, max_shift=max_shift)
    model.save(out, overwrite=overwrite)
    hist = model.history
    write_atomic(out / "history.tsv", lambda p: hist.to_csv(p, sep="\t"))
    best = hist.loc[model.history_.best_epoch].to_dict() if len(hist) else {}
    shown = ", ".join(f"{k}={v:.4f}" for k, v in best.items())
    typer.echo(f"trained {task} SequenceModel on {len(seqs)} sequences: {len(hist)} epochs "
               f"({model.train_time_['wall_s']:.0f} s); best epoch "
               f"{model.history_.best_epoch}: {shown}")
    typer.echo(f"wrote {out}")


@seq_app.command("predict")
def predict(
    model_dir: Path = typer.Option(..., "--model", exists=True, file_okay=False,
                                   help="Folder written by `gnngeno seq train`."),
    input_file: Path = typer.Option(..., "--input", "-i", exists=True, dir_okay=False,
                                    help="FASTA or table of sequences."),
    out: Path = typer.Option(..., "--out", "-o", help="Output TSV (name, score)."),
    batch_size: int = typer.Option(1024, help="Sequences per forward pass."),
) -> None:
    """Score every sequence of --input (one row per input row, in order)."""
    import pandas as pd

    from ..io._sequence import read_sequences
    from ..models import SequenceModel
    from ._io import write_atomic

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
    typer.echo(f"scored {len(res)} sequences; wrote {out}")


@seq_app.command("motifs")
def motifs(
    model_dir: Path = typer.Option(..., "--model", exists=True, file_okay=False,
                                   help="Folder written by `gnngeno seq train`."),
    motif_file: Path = typer.Option(..., "--motifs", exists=True, dir_okay=False,
                                    help="MEME motif database (e.g. JASPAR; may be gzipped)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    input_file: Path = typer.Option(None, "--input", "-i", exists=True, dir_okay=False,
                                    help="Sequences to build PWMs from (default: the training "
                                         "sequences kept in the model)."),
    threshold: float = typer.Option(0.5, help="Fraction of a filter's max activation."),
    top: int = typer.Option(5, help="Matches listed per filter."),
    show: int = typer.Option(5, help="Most important filters printed."),
) -> None:
    """Filters as PWMs (filters.meme), their matches in --motifs (matches.tsv), filter
    importance (importance.tsv)."""
    import pandas as pd

    from ..interpret import filter_importance, filters_to_pwms, match_motifs
    from ..io._motifs import read_meme, write_meme
    from ..io._sequence import read_sequences
    from ..models import SequenceModel
    from ._io import write_atomic

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
        typer.echo(f"{f} (importance {imp[f]:.3g}, {pwms[f].consensus()}): {hits}")
    typer.echo(f"wrote {out}/filters.meme, matches.tsv, importance.tsv")
