"""Embeddings computed once per image and checkpoint, kept in one HDF5 file.

The file holds the checkpoint it was made with (a different one starts afresh), the image keys
(a path, plus whatever identifies that version of the image: a crop box, a size and mtime) and
one array per output (an embedding, a variance). It is rewritten atomically after each call.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from common.files import atomic_path


def cached(cache: str | Path, checkpoint: str, keys: list[str],
           compute: Callable[[list[str]], tuple[list[str], dict[str, np.ndarray]]]
           ) -> tuple[list[str], dict[str, np.ndarray], int]:
    """(keys that have arrays, in the order given; {name: [n, ...] array}; how many were computed).

    ``compute(missing keys)`` returns the keys it could embed (a photo without a face may be left
    out) and their arrays. Only the rows of ``keys`` are written back."""
    import h5py

    cache = Path(cache)
    known: dict[str, dict[str, np.ndarray]] = {}
    if cache.is_file():
        with h5py.File(cache, "r") as f:
            if f.attrs.get("checkpoint") == checkpoint and "keys" in f:
                names = [n for n in f if n != "keys"]
                arrays = {n: f[n][:] for n in names}
                for i, key in enumerate(f["keys"][:]):
                    known[key.decode()] = {n: arrays[n][i] for n in names}
    todo = [k for k in keys if k not in known]
    if todo:
        done, arrays = compute(todo)
        for i, key in enumerate(done):
            known[key] = {n: a[i] for n, a in arrays.items()}
    found = [k for k in keys if k in known]
    if not found:
        return [], {}, len(todo)
    names = list(known[found[0]])
    out = {n: np.stack([known[k][n] for k in found]) for n in names}
    with atomic_path(cache, suffix=".h5") as tmp, h5py.File(tmp, "w") as f:
        f.attrs["checkpoint"] = checkpoint
        f["keys"] = np.array([k.encode() for k in found])
        for n, a in out.items():
            f[n] = a
    return found, out, len(todo)
