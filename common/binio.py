"""Raw .bin batches (C-order bytes, no header) and the CovPoolFER reference files.

A .bin holds exactly one model input: ``prod(shape) * itemsize`` bytes, as ``ndarray.tofile``
writes it and as msame reads it. Reference files hold the labels of one batch as
``"<label> "`` repeated (one space after each, no newline), the format of CovPoolFER's pic2bin.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from common.cli import StageError
from common.files import atomic_path, write_text_atomic


class BinSizeError(StageError):
    """A .bin whose byte count does not match the expected shape and dtype."""


def expected_bytes(shape, dtype) -> int:
    return int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize


def write_bin(path: str | os.PathLike, array: np.ndarray, dtype=None) -> Path:
    """Write ``array`` (cast to ``dtype`` if given) as raw C-order bytes, atomically."""
    arr = np.ascontiguousarray(array, dtype=dtype)
    with atomic_path(path) as tmp:
        arr.tofile(tmp)
    return Path(path)


def check_bin_size(path: str | os.PathLike, shape, dtype) -> None:
    p = Path(path)
    if not p.is_file():
        raise StageError(f"{p}: expected a .bin file, found nothing")
    want, found = expected_bytes(shape, dtype), p.stat().st_size
    if want != found:
        raise BinSizeError(f"{p}: expected {want} bytes ({np.dtype(dtype).name} "
                           f"{tuple(int(d) for d in shape)}), found {found} bytes")


def read_bin(path: str | os.PathLike, shape, dtype) -> np.ndarray:
    """Read a .bin back as an array of ``shape``/``dtype``, checking the byte count first."""
    check_bin_size(path, shape, dtype)
    return np.fromfile(path, dtype=dtype).reshape(shape)


def write_reference(path: str | os.PathLike, labels) -> Path:
    """Write labels as CovPoolFER's ``<k>.txt``: each label followed by one space, no newline."""
    text = "".join(f"{int(v)} " for v in np.asarray(labels).reshape(-1))
    write_text_atomic(path, text)
    return Path(path)


def read_reference(path: str | os.PathLike) -> np.ndarray:
    """Read the labels of a reference file (first line, whitespace separated) as int64."""
    p = Path(path)
    if not p.is_file():
        raise StageError(f"{p}: expected a reference label file, found nothing")
    lines = p.read_text(encoding="utf-8").splitlines()
    try:
        return np.array([int(v) for v in (lines[0].split() if lines else [])], dtype=np.int64)
    except ValueError as err:
        raise StageError(f"{p}: expected integer labels, found {err}") from None


def numeric_stem_order(names) -> list[str]:
    """Sort file names by their integer stem (``0.bin, 1.bin, 2.bin, ..., 10.bin``)."""
    def key(n):
        stem = Path(n).name.split("_")[0].split(".")[0]
        return (0, int(stem), n) if stem.isdigit() else (1, 0, n)
    return sorted(names, key=key)
