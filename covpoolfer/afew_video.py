"""AFEW 7.0 as distributed (`Train/`, `Val/`, one folder per emotion, `.avi` clips) into aligned
face frames: `OUT/<split>/<Emotion>/<clip>/<frame>.png`, the frames of the clip's main face track.

Each clip is read frame by frame (common.video); faces are detected every `detect_every` frames
and linked into tracks (common.tracks), or taken from a landmarks file (one line per frame,
`Train/Happy/000123.avi:7 x1..x5 y1..y5`). The clip's main face is its longest track; every frame
of it is aligned onto the CovPoolFER template. A clip with no face, or one that cannot be read,
is listed with the reason and the others go on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.cli import StageError
from common.video import VIDEO_SUFFIXES

AFEW_SPLITS = {"train": "Train", "val": "Val", "valid": "Val", "validation": "Val", "test": "Test"}


@dataclass
class Clip:
    path: Path
    key: str  # <split dir>/<emotion dir>/<file>, as landmarks files name it
    split: str  # Train, Val or Test
    emotion: str  # SFEW's spelling


def list_videos(root: Path, aliases: dict[str, str]) -> list[Clip]:
    """Every clip under ``root/<split>/<emotion>/``; emotion folders in any of ``aliases``' spellings."""
    if not root.is_dir():
        raise StageError(f"{root}: expected AFEW's folder with Train/ and Val/, found "
                         f"{'a file' if root.exists() else 'nothing'}")
    splits = {AFEW_SPLITS.get(d.name.lower()): d for d in sorted(root.iterdir()) if d.is_dir()}
    splits.pop(None, None)
    if not splits:
        raise StageError(f"{root}: expected Train/ and Val/ folders, found {sorted(d.name for d in root.iterdir())}")
    clips = []
    for split, folder in splits.items():
        for cls in sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")):
            emotion = aliases.get(cls.name.lower())
            if emotion is None:
                raise StageError(f"{cls}: expected an emotion folder ({', '.join(sorted(set(aliases.values())))}), "
                                 f"found '{cls.name}'")
            for path in sorted(cls.iterdir()):
                if path.suffix.lower() in VIDEO_SUFFIXES and not path.name.startswith("."):
                    clips.append(Clip(path, f"{folder.name}/{cls.name}/{path.name}", split, emotion))
    if not clips:
        raise StageError(f"{root}: expected video clips (.avi, .mp4, ...) in the emotion folders, found none")
    return clips


def clip_faces(clip: Clip, detect, detect_every: int, landmarks: dict[str, np.ndarray] | None, size: int
               ) -> tuple[dict[int, np.ndarray], int, int]:
    """The clip's main face aligned onto the CovPoolFER template at ``size``, by frame index; the
    frames read; the tracks seen. One pass over the clip: every track's crops are kept until the
    longest is known (an AFEW clip is seconds long: a few MB)."""
    from common.align import align
    from common.tracks import track_faces
    from common.video import read_frames

    frames = 0
    by_track: dict[int, dict[int, np.ndarray]] = {}
    if landmarks is not None:
        for frame in read_frames(clip.path):
            frames += 1
            if (points := landmarks.get(f"{clip.key}:{frame.index}")) is not None:
                by_track.setdefault(0, {})[frame.index] = align(frame.rgb, points, "covpoolfer", (size, size))
    else:
        for frame, faces in track_faces(read_frames(clip.path), detect, detect_every):
            frames += 1
            for face in faces:
                by_track.setdefault(face.track, {})[frame.index] = align(frame.rgb, face.face.points, "covpoolfer", (size, size))
    if not by_track:
        return {}, frames, 0
    main = max(by_track, key=lambda t: (len(by_track[t]), -t))
    return by_track[main], frames, len(by_track)
