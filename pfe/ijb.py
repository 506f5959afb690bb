"""IJB-A and IJB-B/C 1:1 verification protocols: their files, templates and face crops.

IJB-A (PFE's proto/IJB-A): IJB-A_11_sets/split{1..10}/verify_metadata_N.csv (a header, then
TEMPLATE_ID, SUBJECT_ID, FILE, ..., FACE_X, FACE_Y, FACE_WIDTH, FACE_HEIGHT per face) and
verify_comparisons_N.csv (`template1,template2`); FILE is relative to the IJB-A image folder.
IJB-B/C in insightface's format: <name>_face_tid_mid.txt (`image template media`),
<name>_template_pair_label.txt (`template1 template2 same`) and <name>_name_5pts_score.txt
(`image x1 y1 ... x5 y5 detector_score`) beside loose_crop/ images, in --protocol_dir or its meta/.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from common.cli import StageError

FACE_MODES = {"ijba": ("crop", "align", "aligned"), "ijbb": ("landmarks", "aligned"), "ijbc": ("landmarks", "aligned")}


@dataclass
class Face:
    path: Path
    box: tuple[float, float, float, float] | None = None   # x, y, width, height in the photo (IJB-A)
    points: np.ndarray | None = None                        # [5, 2] landmarks in the photo (IJB-B/C)


@dataclass
class Split:
    name: str
    templates: dict[int, list[str]]                  # template id -> face keys
    pairs: np.ndarray                                # [n, 2] template ids
    issame: np.ndarray                               # [n] bool
    missing: int = 0                                 # faces the protocol names that are not there
    notes: list[str] = field(default_factory=list)


def _split_folders(protocol_dir: Path) -> list[Path]:
    root = protocol_dir / "IJB-A_11_sets" if (protocol_dir / "IJB-A_11_sets").is_dir() else protocol_dir
    folders = [d for d in root.glob("split*") if d.is_dir() and d.name[5:].isdigit()]
    if not folders:
        raise StageError(f"{protocol_dir}: expected IJB-A_11_sets/split1 ... split10, found no split folder")
    return sorted(folders, key=lambda d: int(d.name[5:]))


def read_ijba(protocol_dir: Path, image_dir: Path, mode: str) -> tuple[list[Split], dict[str, Face]]:
    """The IJB-A 1:1 splits and every face they use, keyed by file and box (or subject and file
    for pre-aligned images, the layout of PFE's ijba_mtcnncaffe_aligned/<subject>/<img_N>.jpg)."""
    faces: dict[str, Face] = {}
    splits = []
    for folder in _split_folders(protocol_dir):
        n = folder.name[5:]
        meta, comparisons = folder / f"verify_metadata_{n}.csv", folder / f"verify_comparisons_{n}.csv"
        for f in (meta, comparisons):
            if not f.is_file():
                raise StageError(f"{f}: expected IJB-A's {f.name.rsplit('_', 1)[0]} file of {folder.name}, found nothing")
        templates, subject_of, missing = {}, {}, 0
        with open(meta, newline="", encoding="utf-8") as fh:
            rows = csv.reader(fh)
            header = [h.strip().upper() for h in next(rows, [])]
            need = ["TEMPLATE_ID", "SUBJECT_ID", "FILE"] + (["FACE_X", "FACE_Y", "FACE_WIDTH", "FACE_HEIGHT"]
                                                            if mode != "aligned" else [])
            if [c for c in need if c not in header]:
                raise StageError(f"{meta}:1: expected the columns {', '.join(need)}, found '{','.join(header)[:80]}'")
            col = {c: header.index(c) for c in need}
            for line, row in enumerate(rows, 2):
                if not row:
                    continue
                try:
                    tid, subject, file = int(row[col["TEMPLATE_ID"]]), int(row[col["SUBJECT_ID"]]), row[col["FILE"]].strip()
                    box = tuple(float(row[col[c]]) for c in need[3:]) if mode != "aligned" else None
                except (ValueError, IndexError):
                    raise StageError(f"{meta}:{line}: expected integer TEMPLATE_ID and SUBJECT_ID and numeric face "
                                     f"box, found '{','.join(row)[:80]}'") from None
                if box is not None and (box[2] <= 0 or box[3] <= 0):
                    raise StageError(f"{meta}:{line}: expected a face box of positive size, found {box}")
                if subject_of.setdefault(tid, subject) != subject:
                    raise StageError(f"{meta}:{line}: expected one subject per template, found template {tid} with "
                                     f"subjects {subject_of[tid]} and {subject}")
                templates.setdefault(tid, [])
                if mode == "aligned":  # PFE's aligned copies: <subject>/<FILE with its first / as _>
                    key = f"{subject}/{file.replace('/', '_', 1)}"
                    path = image_dir / key
                    if not path.is_file():
                        path = next((p for p in path.parent.glob(f"{path.stem}.*")), path)
                    if not path.is_file():  # alignment failed for it: PFE leaves it out too
                        missing += 1
                        continue
                else:
                    key = f"{file}|{','.join(f'{v:g}' for v in box)}"
                    path = image_dir / file
                    if not path.is_file():
                        raise StageError(f"{meta}:{line}: expected the image {path}, found nothing")
                faces.setdefault(key, Face(path, box))
                templates[tid].append(key)
        pairs = []
        for line, row in enumerate(comparisons.read_text().splitlines(), 1):
            if not row.strip():
                continue
            ids = row.replace(",", " ").split()
            if len(ids) < 2 or not all(x.isdigit() for x in ids[:2]) or int(ids[0]) not in templates \
                    or int(ids[1]) not in templates:
                raise StageError(f"{comparisons}:{line}: expected two template ids of {meta.name}, found '{row}'")
            pairs.append((int(ids[0]), int(ids[1])))
        pairs = np.array(pairs, np.int64).reshape(-1, 2)
        issame = np.array([subject_of[a] == subject_of[b] for a, b in pairs], bool)
        splits.append(Split(folder.name, templates, pairs, issame, missing))
    return splits, faces


def _meta_file(protocol_dir: Path, name: str) -> Path:
    for candidate in (protocol_dir / name, protocol_dir / "meta" / name):
        if candidate.is_file():
            return candidate
    raise StageError(f"{protocol_dir}: expected {name} (insightface's IJB layout, here or in meta/), found nothing")


def read_ijbc(protocol_dir: Path, image_dir: Path, name: str, mode: str) -> tuple[list[Split], dict[str, Face]]:
    """IJB-B or IJB-C 1:1 (one set of template pairs) in insightface's files."""
    tid_file = _meta_file(protocol_dir, f"{name}_face_tid_mid.txt")
    pair_file = _meta_file(protocol_dir, f"{name}_template_pair_label.txt")
    points = {}
    if mode == "landmarks":
        lmk_file = _meta_file(protocol_dir, f"{name}_name_5pts_score.txt")
        for line, row in enumerate(lmk_file.read_text().splitlines(), 1):
            fields = row.split()
            if not fields:
                continue
            try:
                if len(fields) != 12:
                    raise ValueError
                points[fields[0]] = np.array(fields[1:11], np.float64).reshape(5, 2)
            except ValueError:
                raise StageError(f"{lmk_file}:{line}: expected 'image x1 y1 ... x5 y5 score' (12 fields), found "
                                 f"'{row[:80]}'") from None
    faces: dict[str, Face] = {}
    templates: dict[int, list[str]] = {}
    for line, row in enumerate(tid_file.read_text().splitlines(), 1):
        fields = row.split()
        if not fields:
            continue
        if len(fields) < 2 or not fields[1].isdigit():
            raise StageError(f"{tid_file}:{line}: expected 'image template media', found '{row[:80]}'")
        image = fields[0]
        path = image_dir / image
        if not path.is_file():
            raise StageError(f"{tid_file}:{line}: expected the image {path}, found nothing")
        if mode == "landmarks" and image not in points:
            raise StageError(f"{tid_file}:{line}: expected landmarks for {image} in {name}_name_5pts_score.txt, found none")
        faces.setdefault(image, Face(path, points=points.get(image)))
        templates.setdefault(int(fields[1]), []).append(image)
    pairs, issame = [], []
    for line, row in enumerate(pair_file.read_text().splitlines(), 1):
        fields = row.split()
        if not fields:
            continue
        if len(fields) != 3 or not all(re.fullmatch(r"\d+", x) for x in fields) or fields[2] not in "01" \
                or int(fields[0]) not in templates or int(fields[1]) not in templates:
            raise StageError(f"{pair_file}:{line}: expected 'template1 template2 0|1' with templates of "
                             f"{tid_file.name}, found '{row[:80]}'")
        pairs.append((int(fields[0]), int(fields[1])))
        issame.append(fields[2] == "1")
    return [Split(name, templates, np.array(pairs, np.int64).reshape(-1, 2), np.array(issame, bool))], faces


def crop_box(rgb: np.ndarray, box, size=(96, 112)) -> np.ndarray:
    """The face box widened (or heightened) about its centre to the crop's aspect, cut out
    (black outside the photo) and resized to ``size`` (width, height)."""
    from PIL import Image

    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    aspect = size[0] / size[1]
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    region = tuple(int(round(v)) for v in (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    return np.asarray(Image.fromarray(rgb).crop(region).resize(size, Image.BILINEAR))


def load_face(face: Face, mode: str, detect=None) -> tuple[np.ndarray, bool]:
    """A 112x96 PFE crop of one face, and whether MTCNN found it (--faces align falls back to the
    box crop when it does not)."""
    from common.align import align, read_photo
    from common.images import load_rgb

    if mode == "aligned":
        return load_rgb(face.path, (112, 96), resize=True), True
    rgb = read_photo(face.path)
    if mode == "landmarks":
        return align(rgb, face.points, "pfe"), True
    if mode == "align":
        x, y, w, h = face.box  # look for the face in the box and a margin round it
        x0, y0 = max(0, int(x - 0.25 * w)), max(0, int(y - 0.25 * h))
        region = rgb[y0:int(y + 1.25 * h), x0:int(x + 1.25 * w)]
        found = detect(region) if region.size else []
        if found:
            return align(rgb, found[0].points + [x0, y0], "pfe"), True
    return crop_box(rgb, face.box), mode != "align"
