"""The gallery's vector index: faiss, saved beside the gallery and rebuilt only when the gallery
or the checkpoint changes.

faiss (Meta's similarity-search library, a CPU wheel on PyPI) rather than a hand-written search:
one API for the exact search (IndexFlatIP: every entry, inner product = cosine of unit vectors)
and for graph search (IndexHNSWFlat), write_index/read_index to persist it, and BLAS and SIMD
kernels under both. `auto` takes the exact index up to 50,000 entries (a probe then costs a
millisecond or two) and HNSW above, where it answers in well under a millisecond at a recall
`mobilefacenet bench` measures against the exact search.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from common.files import atomic_path, write_json_atomic

KINDS = ("auto", "flat", "hnsw")
AUTO_HNSW_ABOVE = 50_000
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 64


def build(embeddings: np.ndarray, kind: str = "auto"):
    """An index over unit embeddings [n, d]; inner product scores are cosine similarities."""
    import faiss

    x = np.ascontiguousarray(embeddings, np.float32)
    kind = resolve(kind, len(x))
    if kind == "flat":
        index = faiss.IndexFlatIP(x.shape[1])
    else:
        index = faiss.IndexHNSWFlat(x.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    index.add(x)
    return index


def resolve(kind: str, entries: int) -> str:
    return ("hnsw" if entries > AUTO_HNSW_ABOVE else "flat") if kind == "auto" else kind


def search(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(cosine similarities [q, k], entry rows [q, k]), best first; rows of -1 where fewer exist."""
    return index.search(np.ascontiguousarray(np.atleast_2d(queries), np.float32), min(k, index.ntotal))


def signature(keys: list[str], checkpoint: str, kind: str) -> str:
    digest = hashlib.sha1("\n".join([checkpoint, kind, *keys]).encode()).hexdigest()
    return f"{len(keys)}:{digest}"


def load_or_build(path: Path, embeddings: np.ndarray, keys: list[str], checkpoint: str, kind: str = "auto"
                  ) -> tuple[object, bool]:
    """The index saved at ``path`` if it was built from these entries and checkpoint, else a new
    one, saved there atomically (``path``.json says what it was built from). Returns (index, built)."""
    import faiss

    kind = resolve(kind, len(keys))
    sig = signature(keys, checkpoint, kind)
    about = path.with_name(path.name + ".json")
    if path.is_file() and about.is_file():
        try:
            if json.loads(about.read_text()).get("signature") == sig:
                index = faiss.read_index(str(path))
                if index.ntotal == len(keys):
                    return index, False
        except (ValueError, RuntimeError, OSError):
            pass  # unreadable or stale: built again below
    index = build(embeddings, kind)
    with atomic_path(path, suffix=".faiss") as tmp:
        faiss.write_index(index, str(tmp))
    write_json_atomic(about, {"signature": sig, "kind": kind, "entries": len(keys), "checkpoint": checkpoint})
    return index, True
