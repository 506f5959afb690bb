"""Face tracks in a video: detect every K-th frame, link the detections by box overlap.

Detection (MTCNN, common.align) is the slow part, so it runs on every K-th frame read; the frames
between reuse the last detection's boxes and landmarks (at 25 frames/s and K = 5 a face is at most
0.16 s stale). Detections below a confidence (0.9) are dropped, and a track counts only once it
was detected twice, so a one-off false detection makes no track. Detections link to the open
track whose last box overlaps most (greedy, highest IoU first, at least ``min_iou``); a track that finds no detection for more than ``max_missed``
detection rounds ends, and a face that matches none starts a new track. No frame of a track is
invented: while a track is unmatched it yields nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from common.align import Face
from common.video import Frame


@dataclass
class TrackedFace:
    track: int  # from 0, in order of first appearance
    face: Face
    detected: bool  # found on this frame (False: the last detection's box, carried over)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


@dataclass
class Tracker:
    min_iou: float = 0.3
    max_missed: int = 2  # detection rounds a track may go unmatched before it ends
    _open: dict[int, tuple[Face, int]] = field(default_factory=dict)  # track -> (last face, rounds missed)
    _next: int = 0

    def update(self, faces: list[Face]) -> list[tuple[int, Face]]:
        """Link one detection round's faces to the tracks; returns (track, face) for each face."""
        pairs = sorted(((iou(last.box, f.box), t, k) for t, (last, _) in self._open.items()
                        for k, f in enumerate(faces)), reverse=True)
        matched, used_tracks, used_faces = [], set(), set()
        for overlap, t, k in pairs:
            if overlap < self.min_iou:
                break
            if t in used_tracks or k in used_faces:
                continue
            used_tracks.add(t)
            used_faces.add(k)
            matched.append((t, faces[k]))
        for k, f in enumerate(faces):
            if k not in used_faces:
                matched.append((self._next, f))
                self._next += 1
        for t, (last, missed) in list(self._open.items()):
            if t not in used_tracks:
                if missed + 1 > self.max_missed:
                    del self._open[t]
                else:
                    self._open[t] = (last, missed + 1)
        for t, f in matched:
            self._open[t] = (f, 0)
        return sorted(matched, key=lambda tf: tf[0])


def track_faces(frames: Iterable[Frame], detect: Callable[[object], list[Face]], detect_every: int = 5,
                min_score: float = 0.9, min_iou: float = 0.3, max_missed: int = 2, min_hits: int = 2
                ) -> Iterator[tuple[Frame, list[TrackedFace]]]:
    """Each frame with the tracked faces on it; ``detect`` runs on every ``detect_every``-th frame,
    and detections below ``min_score`` (MTCNN's confidence) are dropped.

    A track counts once it was detected in ``min_hits`` detection rounds (a one-off false
    detection never does): frames are held back until the next round says which of their tracks
    count, at most ``detect_every`` frames. Tracks are numbered from 0 in the order they count. A
    video with a single detection round keeps what that round found."""
    tracker = Tracker(min_iou, max_missed)
    hits: Counter[int] = Counter()
    public: dict[int, int] = {}
    current: list[tuple[int, Face]] = []
    pending: list[tuple[Frame, list[tuple[int, Face, bool]]]] = []
    rounds = 0

    def release(needed: int):
        for frame, faces in pending:
            kept = [(t, f, fresh) for t, f, fresh in faces if hits[t] >= needed]
            yield frame, [TrackedFace(public.setdefault(t, len(public)), f, fresh) for t, f, fresh in kept]

    for n, frame in enumerate(frames):
        fresh = n % detect_every == 0
        if fresh:
            current = tracker.update([f for f in detect(frame.rgb) if f.score >= min_score])
            hits.update(t for t, _ in current)
            rounds += 1
            yield from release(min_hits)
            pending = []
        pending.append((frame, [(t, f, fresh) for t, f in current]))
    yield from release(min_hits if rounds > 1 else 1)
