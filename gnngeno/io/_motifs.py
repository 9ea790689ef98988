"""Motif files in MEME minimal format: read a database (JASPAR, HOCOMOCO), write learned PWMs."""

from __future__ import annotations

import gzip
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._validate import InputError


@dataclass
class Motif:
    """A position weight matrix with its identifiers.

    Attributes
    ----------
    id
        Identifier (e.g. ``MA0093.4`` or ``filter_3``).
    name
        Alternative name (e.g. the TF: ``USF1``); may be empty.
    pwm
        Letter probabilities, shape ``(width, 4)`` in the order A, C, G, T; rows sum to 1.
    nsites
        Number of sites the matrix was built from (0 when unknown).
    """

    id: str
    name: str
    pwm: np.ndarray
    nsites: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def width(self) -> int:
        return int(self.pwm.shape[0])

    def consensus(self) -> str:
        """Most probable letter per column (``N`` where no letter reaches 0.4)."""
        best = self.pwm.argmax(1)
        return "".join("ACGT"[b] if self.pwm[i, b] >= 0.4 else "N" for i, b in enumerate(best))

    def __repr__(self) -> str:
        return f"Motif({self.id!r}, {self.name!r}, width={self.width}, consensus={self.consensus()!r})"


def _read_text(path: str | os.PathLike) -> str:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"motif file {path} does not exist.")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def read_meme(path: str | os.PathLike) -> dict[str, Motif]:
    """Read the motifs of a MEME-format file (minimal or full; may be gzipped).

    Parameters
    ----------
    path
        E.g. ``data/seq/motifs/JASPAR2024_CORE_vertebrates_nonredundant.meme.gz``.

    Returns
    -------
    ``{motif id: Motif}`` in file order (probability rows renormalised to sum to 1).
    """
    text = _read_text(path)
    lines = text.splitlines()
    motifs: dict[str, Motif] = {}
    alphabet = "ACGT"
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("ALPHABET="):
            alphabet = line.split("=", 1)[1].strip()
            if alphabet not in ("ACGT",):
                raise InputError(f"{path}: alphabet {alphabet!r} is not supported; only DNA "
                                 "(ALPHABET= ACGT) motifs can be read.")
        if line.startswith("MOTIF"):
            parts = line.split()
            mid = parts[1] if len(parts) > 1 else f"motif{len(motifs)}"
            name = " ".join(parts[2:]) if len(parts) > 2 else ""
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("letter-probability"):
                if lines[j].strip().startswith("MOTIF"):
                    break
                j += 1
            if j >= len(lines) or not lines[j].strip().startswith("letter-probability"):
                raise InputError(f"{path}: motif {mid} has no 'letter-probability matrix' line.")
            header = lines[j].replace("=", " = ").split()
            info = {}
            for k in range(len(header) - 2):
                if header[k + 1] == "=":
                    info[header[k]] = header[k + 2]
            width = int(float(info.get("w", 0)))
            nsites = int(float(info.get("nsites", 0)))
            rows = []
            j += 1
            while j < len(lines) and (width == 0 or len(rows) < width):
                row = lines[j].strip()
                if not row:
                    if width == 0 and rows:
                        break
                    j += 1
                    continue
                try:
                    vals = [float(v) for v in row.split()]
                except ValueError:
                    break
                if len(vals) != 4:
                    raise InputError(f"{path}: motif {mid} has a row with {len(vals)} values; "
                                     "expected 4 (A C G T).")
                rows.append(vals)
                j += 1
            if not rows:
                raise InputError(f"{path}: motif {mid} has no probability rows.")
            pwm = np.asarray(rows, dtype=float)
            pwm = np.clip(pwm, 0, None)
            pwm = pwm / np.maximum(pwm.sum(1, keepdims=True), 1e-12)
            motifs[mid] = Motif(mid, name, pwm, nsites)
            i = j
            continue
        i += 1
    if not motifs:
        raise InputError(f"{path} holds no MOTIF entry; is it a MEME-format file?")
    return motifs


def _as_motifs(motifs) -> list[Motif]:
    if isinstance(motifs, dict):
        out = []
        for k, v in motifs.items():
            out.append(v if isinstance(v, Motif) else Motif(str(k), "", np.asarray(v, float)))
        return out
    out = []
    for i, m in enumerate(motifs):
        out.append(m if isinstance(m, Motif) else Motif(f"motif{i}", "", np.asarray(m, float)))
    return out


def write_meme(motifs, path: str | os.PathLike, *, background=(0.25, 0.25, 0.25, 0.25)) -> None:
    """Write motifs as a MEME minimal-format file (readable by MEME-suite tools and
    :func:`read_meme`).

    Parameters
    ----------
    motifs
        ``{id: Motif or (width, 4) array}`` or a list of :class:`Motif`.
    path
        Output file; written atomically (temporary file, then rename).
    background
        Letter frequencies A, C, G, T.
    """
    ms = _as_motifs(motifs)
    buf = io.StringIO()
    buf.write("MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\n")
    buf.write("Background letter frequencies\n")
    buf.write(" ".join(f"{b} {p:.4f}" for b, p in zip("ACGT", background, strict=True)) + "\n\n")
    for m in ms:
        pwm = np.asarray(m.pwm, dtype=float)
        if pwm.ndim != 2 or pwm.shape[1] != 4:
            raise InputError(f"motif {m.id} has shape {pwm.shape}; expected (width, 4).")
        pwm = pwm / np.maximum(pwm.sum(1, keepdims=True), 1e-12)
        buf.write(f"MOTIF {m.id}{(' ' + m.name) if m.name else ''}\n")
        buf.write(f"letter-probability matrix: alength= 4 w= {pwm.shape[0]} "
                  f"nsites= {int(m.nsites)} E= 0\n")
        for row in pwm:
            buf.write(" ".join(f"{v:.6f}" for v in row) + "\n")
        buf.write("\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(buf.getvalue())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
