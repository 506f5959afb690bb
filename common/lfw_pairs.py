"""LFW's pairs file (``lfw_pairs.txt``): read with its official folds, and written in that layout."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.cli import StageError
from common.files import write_text_atomic


@dataclass
class PairsFile:
    """``lfw_pairs.txt``: pairs of (name, index) with labels and official fold numbers."""
    pairs: list[tuple[str, int, str, int]]
    issame: np.ndarray
    folds: np.ndarray

    def image_paths(self, root: str | os.PathLike, ext: str = ".jpg") -> list[tuple[Path, Path]]:
        root = Path(root)
        return [(root / n1 / f"{n1}_{i1:04d}{ext}", root / n2 / f"{n2}_{i2:04d}{ext}")
                for n1, i1, n2, i2 in self.pairs]


def read_pairs(path: str | os.PathLike) -> PairsFile:
    """Parse ``lfw_pairs.txt``: header ``10<TAB>N``, then per fold N genuine + N impostor lines."""
    p = Path(path)
    if not p.is_file():
        raise StageError(f"{p}: expected an LFW pairs file, found nothing")
    lines = [ln.split() for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if not lines or len(lines[0]) != 2 or not all(v.isdigit() for v in lines[0]):
        raise StageError(f"{p}: expected a header '<folds>\\t<pairs per class>', found "
                         f"{' '.join(lines[0]) if lines else 'an empty file'}")
    nfolds, per = int(lines[0][0]), int(lines[0][1])
    body = lines[1:]
    if len(body) != nfolds * 2 * per:
        raise StageError(f"{p}: expected {nfolds * 2 * per} pair lines ({nfolds} folds x 2 x {per}), "
                         f"found {len(body)}")
    pairs, same = [], []
    for lineno, f in enumerate(body, start=2):
        try:
            if len(f) == 3:
                pairs.append((f[0], int(f[1]), f[0], int(f[2])))
                same.append(True)
            elif len(f) == 4:
                pairs.append((f[0], int(f[1]), f[2], int(f[3])))
                same.append(False)
            else:
                raise ValueError
        except ValueError:
            raise StageError(f"{p}:{lineno}: expected 'name i j' or 'name1 i name2 j', "
                             f"found '{' '.join(f)}'") from None
    expected = np.tile(np.repeat([True, False], per), nfolds)  # per fold: N genuine, then N impostor
    wrong = np.flatnonzero(np.array(same) != expected)
    if wrong.size:
        k = int(wrong[0])
        raise StageError(f"{p}:{k + 2}: expected a {'genuine' if expected[k] else 'impostor'} pair (each fold is "
                         f"{per} genuine then {per} impostor lines), found '{' '.join(body[k])}'")
    folds = np.repeat(np.arange(nfolds), 2 * per)
    return PairsFile(pairs, np.array(same), folds)


def write_pairs(path: str | os.PathLike, pairs: list[tuple[str, int, str, int]],
                issame, nfolds: int) -> Path:
    """Write pairs in the official layout (genuine block then impostor block per fold)."""
    issame = list(issame)
    per = len(pairs) // (2 * nfolds)
    lines = [f"{nfolds}\t{per}"]
    for (n1, i1, n2, i2), same in zip(pairs, issame, strict=True):
        lines.append(f"{n1}\t{i1}\t{i2}" if same else f"{n1}\t{i1}\t{n2}\t{i2}")
    write_text_atomic(path, "\n".join(lines) + "\n")
    return Path(path)
