"""The faces of a video as tracks of model outputs: what `pfe verify` fuses and `mobilefacenet
search` looks up.

A clip is read once (common.video), faces are detected every `--detect_every` frames and linked
into tracks (common.tracks), or read from a landmarks file; every tracked face is aligned onto the
model's template and run through the model, the faces of a few frames in one batch. Only the
outputs (an embedding, a variance) are kept per frame, never the pixels, so an hour of video costs
its embeddings. `draw_tracks` reads the clip a second time to draw each track's final label,
which is known only once the whole track has been seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from common.cli import StageError, positive_float, positive_int, progress

COLOURS = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240),
           (240, 50, 230), (128, 128, 0)]


@dataclass
class Track:
    """One face followed through a clip: per frame read where it was, and the model's outputs."""
    track: int
    frames: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    outputs: dict[str, np.ndarray] = field(default_factory=dict)  # name -> [len(frames), ...]

    @property
    def span(self) -> tuple[float, float]:
        return self.times[0], self.times[-1]


@dataclass
class ClipFaces:
    path: str
    tracks: list[Track]
    frames_read: int
    seconds: float  # wall time of the pass

    @property
    def frames_per_second(self) -> float | None:
        return self.frames_read / self.seconds if self.seconds > 0 else None


def add_video_args(p):
    """The flags every video stage shares: which frames to read, how often to detect, or a
    landmarks file. Returns the argument group, for a stage's own video flags."""
    v = p.add_argument_group("videos")
    v.add_argument("--every", type=positive_int, default=None, metavar="K", help="read every K-th frame")
    v.add_argument("--fps", type=positive_float, default=None, metavar="N", help="read N frames a second")
    v.add_argument("--detect_every", type=positive_int, default=5, metavar="K",
                   help="detect faces on every K-th frame read; the frames between keep the last boxes")
    v.add_argument("--min_score", type=float, default=0.9, help="drop detections below this MTCNN confidence")
    v.add_argument("--landmarks", default=None, metavar="FILE",
                   help="take each frame's face from this file instead of detecting: one line per frame, "
                        "'<clip>:<frame> x1..x5 y1..y5', the clip named by the end of its path (person/3.mp4)")
    return v


def read_clip_landmarks(path: str | Path) -> dict[str, np.ndarray]:
    """A landmarks file of clips: ``<clip>:<frame> x1 .. x5 y1 .. y5`` per line -> {key: [5, 2]}."""
    from common.align import read_landmarks

    path = Path(path)
    if not path.is_file():
        raise StageError(f"{path}: expected a landmarks file, found {'a folder' if path.exists() else 'nothing'}")

    def clip_and_frame(key: str) -> bool:
        clip, _, frame = key.rpartition(":")
        return bool(clip) and frame.isdigit()

    return read_landmarks(path, clip_and_frame, "<clip>:<frame>")


def landmark_key(clip: str | Path, landmarks: dict[str, np.ndarray] | None) -> str:
    """How a landmarks file names a clip: the longest tail of its path (``person/3.mp4``,
    ``3.mp4``) that the file lists, so a clip copied into another folder is still found."""
    if not landmarks:
        return ""
    named = {key.rpartition(":")[0] for key in landmarks}
    parts = Path(clip).resolve().parts
    for start in range(len(parts)):
        tail = "/".join(parts[start:])
        if tail in named:
            return tail
    return Path(clip).name


def _from_landmarks(frames, points: dict[str, np.ndarray], key: str):
    """(frame, [TrackedFace]) with the file's face as track 0 on each frame it lists."""
    from common.align import Face
    from common.tracks import TrackedFace

    for frame in frames:
        p = points.get(f"{key}:{frame.index}")
        if p is None:
            yield frame, []
            continue
        (x0, y0), (x1, y1) = p.min(axis=0), p.max(axis=0)
        side = 2.2 * max(x1 - x0, y1 - y0)  # the five points span about half a face
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        yield frame, [TrackedFace(0, Face((cx - side / 2, cy - 0.4 * side, side, side), 1.0, p), True)]


def tracked_frames(path: str, detect, *, fps=None, every=None, detect_every=5, min_score=0.9,
                   landmarks: dict[str, np.ndarray] | None = None) -> Iterator[tuple[object, list]]:
    """Each frame read with its tracked faces: detected and tracked, or from a landmarks file
    (the clip found in it by ``landmark_key``)."""
    from common.tracks import track_faces
    from common.video import read_frames

    frames = read_frames(path, fps, every)
    if landmarks is not None:
        return _from_landmarks(frames, landmarks, landmark_key(path, landmarks))
    return track_faces(frames, detect, detect_every, min_score)


def embed_tracks(path: str, model: Callable[[np.ndarray], dict[str, np.ndarray]], template: str, detect, *,
                 size: tuple[int, int] | None = None, fps=None, every=None, detect_every=5, min_score=0.9,
                 landmarks: dict[str, np.ndarray] | None = None, batch: int = 32) -> ClipFaces:
    """Every track of a clip with ``model``'s outputs for each of its faces: ``model`` takes aligned
    uint8 crops [N, h, w, 3] and returns {name: [N, ...]}. Faces are aligned onto ``template``."""
    from common.align import align
    from common.video import probe

    info = probe(path)
    expected = None if info.frames is None else (-(-info.frames // every) if every else None if fps else info.frames)
    tracks: dict[int, Track] = {}
    pending: list[tuple[Track, np.ndarray]] = []
    outputs: dict[int, dict[str, list]] = {}

    def flush():
        if not pending:
            return
        result = model(np.stack([crop for _, crop in pending]))
        for i, (track, _) in enumerate(pending):
            for name, values in result.items():
                outputs.setdefault(track.track, {}).setdefault(name, []).append(values[i])
        pending.clear()

    start, read = time.perf_counter(), 0
    bar = progress(total=expected, desc=Path(path).name, unit="frame")
    try:
        for frame, faces in tracked_frames(path, detect, fps=fps, every=every, detect_every=detect_every,
                                           min_score=min_score, landmarks=landmarks):
            read += 1
            bar.update()
            for face in faces:
                t = tracks.setdefault(face.track, Track(face.track))
                t.frames.append(frame.index)
                t.times.append(frame.time)
                t.boxes.append(tuple(float(v) for v in face.face.box))
                pending.append((t, align(frame.rgb, face.face.points, template, size)))
            if len(pending) >= batch:
                flush()
        flush()
    finally:
        bar.close()
    for t in tracks.values():
        t.outputs = {name: np.stack(values) for name, values in outputs[t.track].items()}
    return ClipFaces(str(path), sorted(tracks.values(), key=lambda t: t.track), read, time.perf_counter() - start)


def draw_tracks(path: str, out: str | Path, tracks: list[Track], labels: dict[int, str], *, fps=None,
                every=None) -> Path:
    """The clip again, as an H.264 .mp4 with each track's box and its label (``labels[track]``)
    drawn on every frame the track was seen; the frames are those the first pass read."""
    from common.video import VideoWriter, annotate, probe, read_frames

    info = probe(path)
    out_fps = fps or (info.fps / every if every else info.fps)
    at: dict[int, list] = {}
    for t in tracks:
        colour = COLOURS[t.track % len(COLOURS)]
        for index, box in zip(t.frames, t.boxes, strict=True):
            at.setdefault(index, []).append((box, labels.get(t.track, f"#{t.track}"), colour))
    with VideoWriter(out, out_fps) as writer:
        for frame in read_frames(path, fps, every):
            writer.write(annotate(frame.rgb, at.get(frame.index, []), f"{frame.time:6.2f} s  frame {frame.index}"))
    return Path(out)
