"""YouTube Faces (YTF) as distributed: its video pairs, its frames and their face boxes.

`splits.txt`: a header line, then `split number, pair id, first name, second name, is same` per
pair, 5,000 pairs in 10 splits, names like `Aaron_Eckhart/4` (person/video). Frames:
`frame_images_DB/<person>/<video>/<video>.<frame>.jpg`, boxed by `frame_images_DB/<person>.
labeled_faces.txt`, one line per frame: `<person>\\<video>\\<video>.<frame>.jpg,<unused>,x,y,w,h,...`
with backslashes in the path and the box given by its centre (x, y), width and height (a line of
the name and the four box numbers is read too). `aligned_images_DB/<person>/<video>/
aligned_detect_<video>.<frame>.jpg`: the same frames with the face centred.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.cli import StageError
from pfe.ijb import Face

FACE_MODES = {"frame_images_DB": ("align", "crop"), "aligned_images_DB": ("aligned",)}


@dataclass
class Pairs:
    videos: np.ndarray  # [n, 2] video names, person/video
    issame: np.ndarray  # [n] bool
    splits: np.ndarray  # [n] split number: the folds


def read_splits(path: Path) -> Pairs:
    """The pairs of splits.txt; one line with file and line number for anything malformed."""
    if not path.is_file():
        raise StageError(f"{path}: expected YouTube Faces' splits.txt, found {'a folder' if path.exists() else 'nothing'}")
    videos, issame, splits = [], [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = [f.strip() for f in line.split(",")]
        if not line.strip() or (n == 1 and not fields[0].isdigit()):  # the header
            continue
        if len(fields) < 5 or not fields[0].isdigit() or not fields[1].isdigit() or fields[4] not in ("0", "1") \
                or not all(re.fullmatch(r"[^/\s]+/[^/\s]+", f) for f in fields[2:4]):
            raise StageError(f"{path}:{n}: expected 'split, pair, person/video, person/video, 0|1', found '{line[:80]}'")
        videos.append(fields[2:4])
        issame.append(fields[4] == "1")
        splits.append(int(fields[0]))
    if not videos:
        raise StageError(f"{path}: expected pairs after the header, found none")
    return Pairs(np.array(videos).reshape(-1, 2), np.array(issame, bool), np.array(splits))


def read_labeled_faces(path: Path) -> dict[str, tuple[float, float, float, float]]:
    """{'<video>/<frame file>': (x, y, width, height) with x, y the top-left corner} of one person."""
    boxes = {}
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(",")]
        numbers = fields[2:6] if len(fields) >= 6 else fields[1:5]
        parts = fields[0].replace("\\", "/").split("/")
        try:
            cx, cy, w, h = (float(v) for v in numbers)
            if len(numbers) != 4 or len(parts) < 3 or w <= 0 or h <= 0:
                raise ValueError
        except ValueError:
            raise StageError(f"{path}:{n}: expected '<person>\\<video>\\<frame>.jpg,0,x,y,width,height,...' with a "
                             f"box of positive size, found '{line[:80]}'") from None
        boxes[f"{parts[-2]}/{parts[-1]}"] = (cx - w / 2, cy - h / 2, w, h)
    return boxes


def _frame_number(path: Path) -> int:
    digits = re.findall(r"\d+", path.stem)
    return int(digits[-1]) if digits else 0


def sample_frames(frames: list, every: int, max_frames: int | None) -> list:
    """Every ``every``-th frame, then at most ``max_frames`` of them spread evenly (first and last kept)."""
    frames = frames[::every]
    if max_frames and len(frames) > max_frames:
        frames = [frames[i] for i in np.unique(np.round(np.linspace(0, len(frames) - 1, max_frames)).astype(int))]
    return frames


def video_faces(ytf_dir: Path, db: str, pairs: Pairs, splits_file: Path, every: int, max_frames: int | None
                ) -> tuple[dict[str, list[str]], dict[str, Face]]:
    """For every video the pairs name: its sampled face keys; and each key's Face (path and box)."""
    root = ytf_dir / db
    if not root.is_dir():
        raise StageError(f"{root}: expected YouTube Faces' {db} folder, found nothing")
    lines = {}
    for n, line in enumerate(splits_file.read_text(encoding="utf-8").splitlines(), start=1):
        for name in [f.strip() for f in line.split(",")][2:4]:
            lines.setdefault(name, n)
    boxes: dict[str, dict] = {}
    videos, faces, unlabelled = {}, {}, 0
    for name in sorted(set(pairs.videos.ravel())):
        person, video = name.split("/")
        folder = root / person / video
        if not folder.is_dir():
            raise StageError(f"{splits_file}:{lines.get(name, '?')}: expected the video {folder}, found nothing")
        if db == "aligned_images_DB":
            frames = sorted(folder.glob("aligned_detect_*.jpg"), key=_frame_number)
            entries = [(f, None) for f in frames]
        else:
            if person not in boxes:
                labels = root / f"{person}.labeled_faces.txt"
                if not labels.is_file():
                    raise StageError(f"{labels}: expected the face boxes of {person}'s frames, found nothing")
                boxes[person] = read_labeled_faces(labels)
            frames = sorted(folder.glob("*.jpg"), key=_frame_number)
            entries = [(f, boxes[person][f"{video}/{f.name}"]) for f in frames if f"{video}/{f.name}" in boxes[person]]
            unlabelled += len(frames) - len(entries)
        if not entries:
            raise StageError(f"{folder}: expected frames{' with a labelled face' if db == 'frame_images_DB' else ''}, "
                             f"found none")
        keys = []
        for path, box in sample_frames(entries, every, max_frames):
            key = f"{db}/{person}/{video}/{path.name}"
            faces[key] = Face(path, box)
            keys.append(key)
        videos[name] = keys
    if unlabelled:
        print(f"{unlabelled} frame(s) of the listed videos have no box in their labeled_faces.txt and are left out")
    return videos, faces


def load_ytf_face(face: Face, mode: str, detect, aligned_crop: float) -> tuple[np.ndarray, bool]:
    """A 112x96 PFE crop: aligned_images_DB centre-cropped to a box of ``aligned_crop`` of the
    height, or a frame's labelled box cropped (crop) or searched by MTCNN (align, as IJB-A's)."""
    from common.align import read_photo
    from pfe.ijb import crop_box, load_face

    if mode == "aligned":
        rgb = read_photo(face.path)
        h, w = rgb.shape[:2]
        side = aligned_crop * h
        return crop_box(rgb, ((w - side) / 2, (h - side) / 2, side, side)), True
    return load_face(face, mode, detect)
