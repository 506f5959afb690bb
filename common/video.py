"""Video in and out: frames decoded one at a time, sampled by rate or stride, written back as a
browser-playable H.264 .mp4.

PyAV (FFmpeg's libraries in one wheel, libx264 included) rather than OpenCV: it gives each frame's
presentation time (variable frame rate stays right), the rotation a phone records as a display
matrix, decode errors as exceptions rather than a silent end, and an H.264 encoder that browsers
play (OpenCV's wheel writes mp4v). Nothing here holds more than one decoded frame.

A folder of images (a frame dump, AFEW's extracted frames) reads as a video too, at 25 frames/s
in file-name order (`--fps` and `--every` sample it as they sample a video).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from common.cli import StageError
from common.files import atomic_path
from common.images import list_images, load_rgb

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp")
FOLDER_FPS = 25.0  # a folder of frames carries no rate


@dataclass
class Frame:
    index: int  # the frame's number in the video (decode order of displayed frames), from 0
    time: float  # seconds from the start (the frame's presentation time)
    rgb: np.ndarray  # [height, width, 3] uint8, upright


@dataclass
class VideoInfo:
    path: str
    fps: float  # the stream's average rate
    frames: int | None  # as the container states it (None: unknown)
    duration: float | None  # seconds
    width: int
    height: int  # after rotation
    rotation: int  # degrees counter-clockwise applied to every frame


def is_video(path: str | os.PathLike) -> bool:
    """A video file (by suffix) or a folder of frames."""
    p = Path(path)
    return p.is_dir() or p.suffix.lower() in VIDEO_SUFFIXES


def _open(path: Path):
    import av

    if not path.is_file():
        raise StageError(f"{path}: expected a video file, found {'a folder' if path.is_dir() else 'nothing'}")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as err:
        raise StageError(f"{path}: expected a video (mp4, avi, mov, mkv, ...), found a file FFmpeg cannot read "
                         f"({err.__class__.__name__})") from None
    if not container.streams.video:
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
        container.close()
        raise StageError(f"{path}: expected a video stream, found {kinds}")
    return container


def probe(path: str | os.PathLike) -> VideoInfo:
    """What the container says about its first video stream (one frame is decoded, for its
    rotation), or of a folder of frames (its first image)."""
    p = Path(path)
    if p.is_dir():
        files = list_images(p)
        if not files:
            raise StageError(f"{p}: expected a video file or a folder of frames, found no images")
        h, w = load_rgb(files[0]).shape[:2]
        return VideoInfo(str(p), FOLDER_FPS, len(files), len(files) / FOLDER_FPS, w, h, 0)
    with _open(p) as container:
        s = container.streams.video[0]
        rate = s.average_rate or s.guessed_rate or s.base_rate
        fps = float(rate) if rate else FOLDER_FPS
        duration = float(s.duration * s.time_base) if s.duration and s.time_base else (
            container.duration / 1e6 if container.duration else None)
        frames = s.frames or (round(duration * fps) if duration else None)
        w, h = s.codec_context.width, s.codec_context.height
        rotation = _first_rotation(container)
        if rotation % 180:
            w, h = h, w
        return VideoInfo(str(p), fps, frames, duration, w, h, rotation)


def _first_rotation(container) -> int:
    """The display-matrix rotation of the first frame (degrees counter-clockwise, a multiple of 90):
    PyAV exposes it per frame, so one frame is decoded."""
    import av

    try:
        for frame in container.decode(container.streams.video[0]):
            return round((frame.rotation or 0) / 90) * 90 % 360
    except av.error.FFmpegError:
        pass
    return 0


def _upright(rgb: np.ndarray, rotation: float) -> np.ndarray:
    """Apply the display matrix: rotate counter-clockwise by ``rotation`` degrees (a multiple of 90)."""
    quarter = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, quarter)) if quarter else rgb


def sample(fps: float | None, every: int | None):
    """A predicate on (frame index, time) that keeps every ``every``-th frame, or one frame per
    1/``fps`` seconds of presentation time (right under a variable frame rate), or all."""
    if fps and every:
        raise StageError("--every and --fps: expected one of them, found both")
    if every:
        return lambda index, time: index % every == 0
    if fps:
        state = {"next": None}

        def keep(index, time):
            if state["next"] is None or time >= state["next"] - 1e-6:
                state["next"] = (time if state["next"] is None else state["next"]) + 1.0 / fps
                while state["next"] <= time:
                    state["next"] += 1.0 / fps
                return True
            return False

        return keep
    return lambda index, time: True


def read_frames(path: str | os.PathLike, fps: float | None = None, every: int | None = None) -> Iterator[Frame]:
    """The frames of a video (or a folder of frames), upright, decoded lazily, keeping those that
    ``sample(fps, every)`` selects. A video that breaks off after some frames gives those frames
    and one warning; one with no decodable frame is an error."""
    p = Path(path)
    keep = sample(fps, every)
    if p.is_dir():
        files = list_images(p)
        if not files:
            raise StageError(f"{p}: expected a video file or a folder of frames, found no images")
        for index, file in enumerate(files):
            if keep(index, index / FOLDER_FPS):
                yield Frame(index, index / FOLDER_FPS, load_rgb(file))
        return
    import av

    index = 0
    with _open(p) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                time = float(frame.time) if frame.time is not None else index / float(stream.average_rate or FOLDER_FPS)
                if keep(index, time):
                    yield Frame(index, time, _upright(frame.to_ndarray(format="rgb24"), frame.rotation or 0))
                index += 1
        except av.error.FFmpegError as err:
            if index == 0:
                raise StageError(f"{p}: expected video frames, found none that decode ({err.__class__.__name__})") from None
            print(f"warning: {p}: the video breaks off after frame {index - 1} ({err.__class__.__name__}); "
                  f"using the {index} frame(s) before it", file=sys.stderr)
            return
        stated = stream.frames
    if index == 0:
        raise StageError(f"{p}: expected video frames, found none")
    if stated and index < stated - 1:  # a cut-short file often just ends: say so rather than stop quietly
        print(f"warning: {p}: the container states {stated} frames, found {index} that decode (a truncated or "
              f"damaged file); using those", file=sys.stderr)


class VideoWriter:
    """An H.264 .mp4 (yuv420p, +faststart: a browser plays it while it loads), or another codec's
    file (``codec="mpeg4"`` for .avi), written under a temporary name and renamed onto ``path``
    only when the block ends without error (common.files.atomic_path). Odd sizes are padded by a
    pixel (4:2:0 needs even sides)."""

    def __init__(self, path: str | os.PathLike, fps: float, crf: int = 23, codec: str = "libx264"):
        self.path, self.fps, self.crf, self.codec = Path(path), fps, crf, codec
        self.frames = 0
        self._container = self._stream = None
        self._stack = ExitStack()

    def __enter__(self):
        self._tmp = self._stack.enter_context(atomic_path(self.path))
        return self

    def write(self, rgb: np.ndarray) -> None:
        import av

        h, w = rgb.shape[:2]
        if self._container is None:
            mp4 = self.path.suffix.lower() in (".mp4", ".m4v", ".mov")
            self._container = av.open(str(self._tmp), "w", options={"movflags": "+faststart"} if mp4 else {})
            self._stream = self._container.add_stream(self.codec, rate=Fraction(self.fps).limit_denominator(1001))
            self._stream.width, self._stream.height = w + w % 2, h + h % 2
            self._stream.pix_fmt = "yuv420p"
            if self.codec == "libx264":
                self._stream.options = {"crf": str(self.crf), "preset": "veryfast"}
            else:
                self._stream.bit_rate = 4_000_000
        if (h + h % 2, w + w % 2) != (self._stream.height, self._stream.width):
            raise StageError(f"{self.path}: expected frames of {self._stream.width}x{self._stream.height}, "
                             f"found {w}x{h}")
        if h % 2 or w % 2:
            rgb = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb, np.uint8), format="rgb24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def __exit__(self, kind, value, tb):
        try:
            if self._container is not None:
                try:
                    if kind is None:
                        for packet in self._stream.encode():
                            self._container.mux(packet)
                finally:
                    self._container.close()
            elif kind is None:
                raise StageError(f"{self.path}: expected frames to write, found none")
        except BaseException:
            self._stack.__exit__(*sys.exc_info())
            raise
        return self._stack.__exit__(kind, value, tb)


def annotate(rgb: np.ndarray, faces: list[tuple[tuple[float, float, float, float], str, tuple[int, int, int]]],
             caption: str = "") -> np.ndarray:
    """The frame with each face's box (x, y, w, h) and label drawn in its colour, and a caption
    (e.g. the time) in the top-left corner."""
    from PIL import Image, ImageDraw

    img = Image.fromarray(rgb)
    pen = ImageDraw.Draw(img)
    for (x, y, w, h), label, colour in faces:
        pen.rectangle([x, y, x + w, y + h], outline=colour, width=max(2, round(min(img.size) / 180)))
        top = max(0, y - 14)
        pen.rectangle([x, top, x + 6 * len(label) + 6, top + 14], fill=colour)
        pen.text((x + 3, top + 1), label, fill="white")
    if caption:
        pen.rectangle([0, 0, 6 * len(caption) + 6, 14], fill=(0, 0, 0))
        pen.text((3, 1), caption, fill="white")
    return np.asarray(img)
