"""The command line's shared options: one vocabulary, --threads, --quiet, --version, fast --help,
repeatable output, errors that name flags."""

from __future__ import annotations

import functools
import subprocess
import sys
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import gnngeno as gg
from gnngeno.cli import main

COMMANDS = [["embed"], ["impute"], ["grn"], ["grn-benchmark"], ["graphs"], ["seq", "train"],
            ["seq", "predict"], ["seq", "motifs"]]
TRAINING = [["embed"], ["impute"], ["grn"], ["seq", "train"]]


def _help(capsys, command: list[str]) -> str:
    capsys.readouterr()
    assert main([*command, "--help"]) == 0
    return capsys.readouterr().out


def test_help_imports_neither_torch_nor_scanpy():
    code = (
        "import sys\n"
        "from gnngeno.cli import main\n"
        f"for c in [[]] + {COMMANDS!r} + [['seq']]:\n"
        "    assert main([*c, '--help']) == 0, c\n"
        "heavy = sorted(m for m in ('torch', 'scanpy', 'anndata', 'pandas') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Usage: gnngeno" in res.stdout


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"gnngeno {gg.__version__}"


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_one_vocabulary_in_help(capsys, command):
    text = _help(capsys, command)
    assert "--threads" in text
    for old in ("--epochs", "--n-jobs", "--benchmark-seed", "--encoder", "--filters ",
                "--hidden ", "--dilated ", "<bool>"):
        assert old not in text, f"{old!r} in `gnngeno {' '.join(command)} --help`"
    if command in TRAINING:
        for flag in ("--max-epochs", "--lr", "--patience", "--batch-size", "--l1", "--l2",
                     "--n-hidden"):
            if command == ["grn"] and flag == "--batch-size":  # full-graph training
                continue
            assert flag in text, f"{flag} missing from `gnngeno {' '.join(command)} --help`"


def test_root_help_lists_global_options(capsys):
    text = _help(capsys, [])
    for flag in ("--seed", "--quiet", "--verbose", "--progress / --no-progress", "--version",
                 "--debug"):
        assert flag in text


def _grn(tmp_path, name: str, *extra: str) -> tuple[int, pd.DataFrame | None]:
    out = tmp_path / name
    code = main(["grn", "--dataset", "simulated", "--out", str(out), "--max-epochs", "3",
                 *extra])
    return code, (pd.read_csv(out, sep="\t") if out.exists() else None)


def test_quiet_prints_nothing_but_writes(tmp_path, capsys):
    capsys.readouterr()
    code, edges = _grn(tmp_path, "e.tsv", "--quiet", "--threads", "1")
    captured = capsys.readouterr()
    assert code == 0 and edges is not None and len(edges) == 20 * 199
    assert captured.out == "" and captured.err == ""


def test_quiet_and_verbose_exclude_each_other(tmp_path, capsys):
    assert main(["-q", "-v", "grn", "--dataset", "simulated", "--out",
                 str(tmp_path / "e.tsv")]) == 2
    assert "--quiet and --verbose" in capsys.readouterr().err


def test_same_seed_and_threads_repeat_exactly(tmp_path):
    """Two runs with the same --seed and --threads write identical results."""
    a, _ = gg.datasets.simulate(n_cells=60, n_genes=20, n_tfs=4, seed=0)
    src = tmp_path / "in.h5ad"
    a.write_h5ad(src)
    outs = []
    for i in range(2):
        dst = tmp_path / f"out{i}.h5ad"
        assert main(["--seed", "3", "embed", str(src), str(dst), "--kind", "vae",
                     "--n-latent", "3", "--max-epochs", "3", "--threads", "1"]) == 0
        outs.append(ad.read_h5ad(dst).obsm["X_gnngeno"])
    np.testing.assert_array_equal(outs[0], outs[1])
    dst = tmp_path / "other.h5ad"  # another seed gives another embedding: the test can fail
    assert main(["--seed", "4", "embed", str(src), str(dst), "--kind", "vae", "--n-latent", "3",
                 "--max-epochs", "3", "--threads", "1"]) == 0
    assert not np.array_equal(outs[0], ad.read_h5ad(dst).obsm["X_gnngeno"])


def test_global_options_may_follow_the_command(tmp_path):
    code, before = _grn(tmp_path, "a.tsv", "--threads", "1")
    code2, after = _grn(tmp_path, "b.tsv", "--threads", "1", "--seed", "0", "-q")
    assert code == code2 == 0
    pd.testing.assert_frame_equal(before, after)
    code3, other = _grn(tmp_path, "c.tsv", "--threads", "1", "--seed", "5")
    assert code3 == 0 and not before.equals(other)


def test_deprecated_flags_warn_and_still_work(tmp_path, capsys):
    _, new = _grn(tmp_path, "new.tsv", "--threads", "1")
    with pytest.warns(FutureWarning, match="--epochs is deprecated.*--max-epochs"):
        code = main(["grn", "--dataset", "simulated", "--out", str(tmp_path / "old.tsv"),
                     "--epochs", "3", "--n-jobs", "1"])
    assert code == 0
    pd.testing.assert_frame_equal(new, pd.read_csv(tmp_path / "old.tsv", sep="\t"))


def test_input_errors_name_the_flag(tmp_path, capsys):
    a, _ = gg.datasets.simulate(n_cells=40, n_genes=20, n_tfs=4, seed=0)
    src = tmp_path / "in.h5ad"
    a.write_h5ad(src)
    capsys.readouterr()
    assert main(["embed", str(src), str(tmp_path / "o.h5ad"), "--kind", "pca"]) == 1
    err = capsys.readouterr().err
    assert "--kind 'pca'" in err and "kind=" not in err


def test_impute_errors_name_the_flag(tmp_path, capsys):
    a, _ = gg.datasets.simulate(n_cells=40, n_genes=20, n_tfs=4, seed=0)
    src = tmp_path / "in.h5ad"
    a.write_h5ad(src)
    capsys.readouterr()
    assert main(["impute", str(src), str(tmp_path / "o.h5ad"), "--likelihood", "poisson"]) == 1
    err = capsys.readouterr().err
    assert "--likelihood 'poisson'" in err and "likelihood=" not in err
    assert not (tmp_path / "o.h5ad").exists()


def test_threads_option_sets_torch_threads_during_the_command(tmp_path, monkeypatch):
    import torch

    seen = []
    real = gg.tl.infer_grn

    @functools.wraps(real)
    def spy(*args, **kwargs):
        seen.append((torch.get_num_threads(), gg.settings.n_threads))
        return real(*args, **kwargs)

    monkeypatch.setattr(gg.tl, "infer_grn", spy)
    before = torch.get_num_threads()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, _ = _grn(tmp_path, "e.tsv", "--threads", "2")
    assert code == 0 and seen == [(2, 2)]
    assert torch.get_num_threads() == before  # main() puts the caller's settings back
