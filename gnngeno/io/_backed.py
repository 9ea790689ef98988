"""Out-of-core AnnData: read ``.h5ad`` files in row chunks and write results back chunk by chunk.

AnnData's backed mode (``anndata.read_h5ad(path, backed="r")``) leaves ``X`` on disk but loads
every layer into memory; the functions here read ``X`` *or a layer* straight from the HDF5
file, one block of rows at a time, as CSR:

- :func:`iter_chunks` yields ``(rows, csr_chunk)``;
- :func:`load_sparse` reads the matrix as one CSR, chunk by chunk (never dense);
- :class:`ChunkWriter` writes a ``(cells, k)`` result into ``.layers``/``.obsm`` of the file
  block by block under a temporary name and renames it into place when complete, so an
  interrupted write never leaves a partial result under the final name; :func:`write_elems`
  writes small elements (``.obsm``, ``.obsp``, ``.uns``) the same way.

PCA and cell graphs built on these readers live with the other preprocessing and graph
builders: :func:`gnngeno.pp.chunked_pca` and :func:`gnngeno.gr.backed_cell_graph`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._logging import progress
from .._validate import InputError

PathLike = str | os.PathLike


# --------------------------------------------------------------------------- reading
def _h5(path: PathLike, mode: str = "r"):
    import h5py

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such file: {p}")
    if not h5py.is_hdf5(p):
        raise InputError(f"{p} is not an HDF5 (.h5ad) file; convert it with "
                         "gnngeno.io.read_expression(path).write_h5ad('out.h5ad').")
    return h5py.File(p, mode)


def _elem_name(layer: str | None) -> str:
    return "X" if layer is None else f"layers/{layer}"


class _RowReader:
    """Row blocks of a CSR group or dense dataset inside an open h5ad file."""

    def __init__(self, f, layer: str | None) -> None:
        name = _elem_name(layer)
        if name not in f:
            present = list(f["layers"]) if "layers" in f else []
            raise InputError(f"{f.filename} has no {name!r} (layers: {present}). Pass layer=None "
                             "for X or one of the layers.")
        self.elem = f[name]
        self.name = name
        import h5py

        if isinstance(self.elem, h5py.Dataset):
            self.kind = "dense"
            self.shape = tuple(int(s) for s in self.elem.shape)
        else:
            enc = self.elem.attrs.get("encoding-type", "")
            enc = enc.decode() if isinstance(enc, bytes) else str(enc)
            if enc == "csc_matrix":
                raise InputError(f"{f.filename}: {name} is stored as CSC (column-major), which "
                                 "cannot be read by rows without loading it whole. Rewrite it as "
                                 "CSR: adata.X = adata.X.tocsr(); adata.write_h5ad(path).")
            if enc != "csr_matrix":
                raise InputError(f"{f.filename}: {name} has encoding {enc!r}; expected a dense "
                                 "array or a csr_matrix.")
            self.kind = "csr"
            self.shape = tuple(int(s) for s in self.elem.attrs["shape"])
            self.indptr = self.elem["indptr"][()].astype(np.int64)

    def read(self, start: int, stop: int) -> sp.csr_matrix:
        if self.kind == "dense":
            return sp.csr_matrix(np.asarray(self.elem[start:stop]))
        a, b = self.indptr[start], self.indptr[stop]
        data = self.elem["data"][a:b]
        idx = self.elem["indices"][a:b]
        ptr = self.indptr[start:stop + 1] - a
        return sp.csr_matrix((data, idx, ptr), shape=(stop - start, self.shape[1]))


def _row_slices(n: int, chunk_size: int) -> Iterator[slice]:
    """Consecutive ``slice`` objects covering ``range(n)`` in blocks of ``chunk_size``."""
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


def source_shape(source, layer: str | None = None):
    """``(path, n_obs, n_vars)`` of an ``.h5ad`` path or AnnData (``path`` is ``None`` in memory)."""
    from anndata import AnnData

    if isinstance(source, AnnData):
        if not source.isbacked:
            return None, source.n_obs, source.n_vars
        path = source.filename
    else:
        path = source
    with _h5(path) as f:
        shape = _RowReader(f, layer).shape
    return Path(path), shape[0], shape[1]


def iter_chunks(source, *, layer: str | None = None, chunk_size: int = 10_000,
                desc: str | None = None) -> Iterator[tuple[slice, sp.csr_matrix]]:
    """Row blocks of ``X`` or a layer as CSR, read one at a time.

    Parameters
    ----------
    source
        Path of an ``.h5ad`` file, a backed AnnData (its file is read), or an in-memory
        AnnData (sliced, for uniform code paths).
    layer
        Layer to read (``None``: ``X``). Read straight from the file, so also out of core
        (AnnData's backed mode would load layers into memory).
    chunk_size
        Rows per block.
    desc
        Progress-bar label (``None``: no bar).

    Yields
    ------
    ``(rows, chunk)``: the ``slice`` of cells and their ``(len, n_genes)`` float32 CSR block.
    """
    from anndata import AnnData

    if chunk_size < 1:
        raise InputError(f"chunk_size must be >= 1, got {chunk_size}.")
    if isinstance(source, AnnData) and not source.isbacked:
        M = source.layers[layer] if layer is not None else source.X
        slices = _row_slices(source.n_obs, chunk_size)
        if desc:
            slices = progress(slices, total=-(-source.n_obs // chunk_size), desc=desc)
        for s in slices:
            yield s, sp.csr_matrix(M[s], dtype=np.float32)
        return
    path = source.filename if isinstance(source, AnnData) else source
    with _h5(path) as f:
        reader = _RowReader(f, layer)
        n = reader.shape[0]
        slices = _row_slices(n, chunk_size)
        if desc:
            slices = progress(slices, total=-(-n // chunk_size), desc=desc)
        for s in slices:
            yield s, sp.csr_matrix(reader.read(s.start, s.stop), dtype=np.float32)


def load_sparse(source, *, layer: str | None = None, chunk_size: int = 50_000,
                dtype=np.float32) -> sp.csr_matrix:
    """``X`` or a layer as one CSR matrix, read chunk by chunk (never densified).

    Memory: the non-zeros (``nnz * (4 + 4)`` bytes with float32 values and int32 indices).
    """
    parts = [c.astype(dtype, copy=False) for _, c in iter_chunks(source, layer=layer,
                                                                  chunk_size=chunk_size)]
    M = sp.vstack(parts, format="csr") if parts else sp.csr_matrix((0, 0), dtype=dtype)
    if M.nnz < 2**31:
        M.indices = M.indices.astype(np.int32, copy=False)
    return M


def read_obs(path: PathLike):
    """The ``obs`` table of an ``.h5ad`` file, read without touching ``X`` or the layers."""
    import anndata as ad

    with _h5(path) as f:
        return ad.io.read_elem(f["obs"])


# --------------------------------------------------------------------------- writing
_DICT_ATTRS = {"encoding-type": "dict", "encoding-version": "0.1.0"}


def _group(f, name: str):
    if name not in f:
        g = f.create_group(name)
        g.attrs.update(_DICT_ATTRS)
    return f[name]


def _commit(group, tmp: str, key: str) -> None:
    if key in group:
        del group[key]
    group.move(tmp, key)


def write_elems(path: PathLike, *, obsm: Mapping[str, Any] | None = None,
                obsp: Mapping[str, Any] | None = None, layers: Mapping[str, Any] | None = None,
                uns: Mapping[str, Any] | None = None) -> None:
    """Write in-memory elements into an existing ``.h5ad`` file without rewriting the rest.

    Each element is written under a temporary name and renamed over the old one only once
    complete. The file must not be open elsewhere (e.g. as a backed AnnData).

    Parameters
    ----------
    path
        The ``.h5ad`` file.
    obsm, obsp, layers, uns
        ``{key: value}`` per slot (arrays, sparse matrices, dicts as AnnData encodes them).
    """
    from anndata.io import write_elem

    with _h5(path, "r+") as f:
        n_obs = _n_obs(f)
        for slot, items in (("obsm", obsm), ("obsp", obsp), ("layers", layers), ("uns", uns)):
            if not items:
                continue
            grp = _group(f, slot)
            for key, value in items.items():
                if slot != "uns" and getattr(value, "shape", (n_obs,))[0] != n_obs:
                    raise InputError(f"{slot}[{key!r}] has {value.shape[0]} rows; the file has "
                                     f"{n_obs} cells.")
                tmp = f".tmp-{key}-{uuid.uuid4().hex[:8]}"
                try:
                    write_elem(grp, tmp, value)
                    _commit(grp, tmp, key)
                finally:
                    if tmp in grp:
                        del grp[tmp]


def _n_obs(f) -> int:
    obs = f["obs"]
    idx = obs.attrs.get("_index", "_index")
    idx = idx.decode() if isinstance(idx, bytes) else idx
    return int(obs[idx].shape[0])


class ChunkWriter:
    """Write a ``(n_cells, n_cols)`` array into ``.layers`` or ``.obsm`` of an ``.h5ad`` file
    block by block; the result appears under its name only when complete.

    Use as a context manager; assign row blocks with ``writer[rows] = values``. On a clean
    exit the temporary dataset is renamed to ``key`` (replacing an old one); on an exception it
    is deleted and the file keeps its previous content.

    Parameters
    ----------
    path
        Existing ``.h5ad`` file (not open elsewhere).
    key
        Name in ``slot``.
    n_cols
        Columns (genes for a layer, dimensions for ``.obsm``).
    slot
        ``"layers"`` (then ``n_cols`` must equal the number of genes) or ``"obsm"``.
    dtype
        Stored dtype (float32 default).
    compression
        HDF5 compression (``None``, ``"lzf"``, ``"gzip"``).
    chunk_rows
        HDF5 chunk height.

    Examples
    --------
    >>> import anndata as ad, numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.h5ad")
    >>> ad.AnnData(np.ones((4, 3), np.float32)).write_h5ad(p)
    >>> with ChunkWriter(p, "emb", 2, slot="obsm") as w:
    ...     w[0:2] = np.zeros((2, 2)); w[2:4] = np.ones((2, 2))
    >>> ad.read_h5ad(p).obsm["emb"][:, 0].tolist()
    [0.0, 0.0, 1.0, 1.0]
    """

    def __init__(self, path: PathLike, key: str, n_cols: int, *, slot: str = "layers",
                 dtype=np.float32, compression: str | None = None,
                 chunk_rows: int = 4096) -> None:
        if slot not in ("layers", "obsm"):
            raise InputError(f"slot={slot!r}: ChunkWriter writes 'layers' or 'obsm'.")
        self.path, self.key, self.slot = Path(path), key, slot
        self.n_cols, self.dtype = int(n_cols), np.dtype(dtype)
        self.compression, self.chunk_rows = compression, int(chunk_rows)
        self._f = None
        self.rows_written = 0

    def __enter__(self) -> ChunkWriter:
        f = _h5(self.path, "r+")
        try:
            self.n_obs = _n_obs(f)
            if self.slot == "layers":
                g = int(f["var"][f["var"].attrs.get("_index", "_index")].shape[0])
                if g != self.n_cols:
                    raise InputError(f"a layer needs one column per gene ({g}); got "
                                     f"n_cols={self.n_cols}. Write it to slot='obsm' instead.")
            grp = _group(f, self.slot)
            self._tmp = f".tmp-{self.key}-{uuid.uuid4().hex[:8]}"
            ds = grp.create_dataset(
                self._tmp, shape=(self.n_obs, self.n_cols), dtype=self.dtype,
                chunks=(min(self.chunk_rows, max(self.n_obs, 1)), max(self.n_cols, 1)),
                compression=self.compression)
            ds.attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
        except BaseException:
            f.close()
            raise
        self._f, self._grp, self._ds = f, grp, ds
        return self

    def __setitem__(self, rows, values) -> None:
        values = np.asarray(values, dtype=self.dtype)
        self._ds[rows] = values
        self.rows_written += values.shape[0]

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                _commit(self._grp, self._tmp, self.key)
            elif self._tmp in self._grp:
                del self._grp[self._tmp]
        finally:
            self._f.close()
            self._f = None


__all__ = ["ChunkWriter", "iter_chunks", "load_sparse", "write_elems"]
