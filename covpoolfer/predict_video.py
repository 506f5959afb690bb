"""`covpoolfer predict` on videos and frame folders: faces tracked over time, every tracked face of
every frame read classified, per-frame rows, a summary per track, and an annotated video.

Faces are detected every `--detect_every` frames read and linked into tracks (common.tracks), or
read from a `--landmarks` file (common.face_tracks); each tracked face is aligned onto the
CovPoolFER template and classified on every frame read, the faces of `--detect_every` frames in
one batch. A track's label is the argmax of its mean probabilities
over the frames it was seen on.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from common.cli import StageError, progress


def classify_faces(model, size: int):
    """A compiled function: aligned uint8 crops [N, size, size, 3] -> softmax probabilities [N, C]."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32)], reduce_retracing=True)
    def probabilities(x):
        return tf.nn.softmax(model(x, training=False)["logits"])

    return lambda crops: probabilities(np.asarray(crops, np.float32)).numpy()


def predict_video(path: str, classify, names: list[str], size: int, detect, *, fps: float | None,
                  every: int | None, detect_every: int, min_score: float, rows: csv.writer | None, writer_for,
                  landmarks: dict | None = None) -> dict:
    """One video: per-frame rows into ``rows``, annotated frames into the writer ``writer_for(fps)``
    returns (None: none), and the per-track summary returned."""
    from common.align import align
    from common.face_tracks import COLOURS, tracked_frames
    from common.video import annotate, probe

    info = probe(path)
    out_fps = fps or (info.fps / every if every else info.fps)
    expected = None if info.frames is None else (
        -(-info.frames // every) if every else round(info.frames * min(1.0, fps / info.fps)) if fps else info.frames)
    tracks: dict[int, dict] = {}
    read = 0
    start = time.perf_counter()
    writer = writer_for(out_fps)
    bar = progress(total=expected, desc=Path(path).name, unit="frame")

    def finish(chunk):
        """Classify every face of a run of frames in one batch, then record and draw each frame."""
        crops = [align(frame.rgb, face.face.points, "covpoolfer", (size, size)) for frame, faces in chunk
                 for face in faces]
        probs = iter(classify(np.stack(crops)) if crops else [])
        for frame, faces in chunk:
            drawn = []
            for face in faces:
                p = next(probs)
                best = int(np.argmax(p))
                t = tracks.setdefault(face.track, {"track": face.track, "first_frame": frame.index,
                                                   "first_time": frame.time, "sum": np.zeros(len(names)),
                                                   "frames_seen": 0, "detections": 0})
                t.update(last_frame=frame.index, last_time=frame.time)
                t["sum"] += p
                t["frames_seen"] += 1
                t["detections"] += int(face.detected)
                x, y, w, h = face.face.box
                if rows is not None:
                    rows.writerow([path, frame.index, f"{frame.time:.3f}", face.track, f"{x:.1f}", f"{y:.1f}",
                                   f"{w:.1f}", f"{h:.1f}", int(face.detected), names[best],
                                   *(f"{v:.5f}" for v in p)])
                drawn.append(((x, y, w, h), f"#{face.track} {names[best]} {p[best]:.2f}",
                              COLOURS[face.track % len(COLOURS)]))
            if writer is not None:
                writer.write(annotate(frame.rgb, drawn, f"{frame.time:6.2f} s  frame {frame.index}"))
            bar.update()

    try:
        chunk = []  # frames since the last detection: one batch for the classifier
        for frame, faces in tracked_frames(path, detect, fps=fps, every=every, detect_every=detect_every,
                                           min_score=min_score, landmarks=landmarks):
            read += 1
            chunk.append((frame, faces))
            if len(chunk) == detect_every:
                finish(chunk)
                chunk = []
        finish(chunk)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    summary = []
    for t in tracks.values():
        mean = t.pop("sum") / t["frames_seen"]
        summary.append({**t, "label": names[int(np.argmax(mean))],
                        "probabilities": {n: round(float(v), 5) for n, v in zip(names, mean, strict=True)}})
    return {"video": str(path), "fps": info.fps, "frames_read": read, "output_fps": out_fps,
            "rotation": info.rotation, "frames_per_second": read / seconds if seconds > 0 else None,
            "tracks": summary}


def run_videos(a, paths: list[str]) -> dict:
    """`covpoolfer predict` with videos: every video, then the CSV, JSON and annotated video."""
    from contextlib import ExitStack

    from common.align import Detector
    from common.face_tracks import read_clip_landmarks
    from common.files import atomic_path, write_json_atomic
    from common.models import SFEW_CLASSES
    from common.video import VideoWriter
    from covpoolfer.models.checkpoints import restore_model

    if a.picture:
        raise StageError("--picture: expected photos, found videos; use --video_out FILE.mp4 for videos")
    if a.video_out and len(paths) != 1:
        raise StageError(f"--video_out: expected one video to annotate, found {len(paths)}")
    from common.video import probe

    for path in paths:  # every input is a readable video before the model loads
        probe(path)
    points = read_clip_landmarks(a.landmarks) if a.landmarks else None
    model, config, prefix = restore_model(a.ckpt_path, a.use_ema)
    names = list(config.get("classes") or SFEW_CLASSES)
    size = int(config["image_size"])
    classify = classify_faces(model, size)
    detect = Detector(a.max_side)
    results = []
    with ExitStack() as stack:
        rows = None
        if a.csv:
            handle = open(stack.enter_context(atomic_path(a.csv)), "w", newline="", encoding="utf-8")
            stack.enter_context(handle)
            rows = csv.writer(handle)
            rows.writerow(["video", "frame", "time", "track", "x", "y", "width", "height", "detected", "label", *names])

        def writer_for(fps):
            return stack.enter_context(VideoWriter(a.video_out, fps)) if a.video_out else None

        for path in paths:
            result = predict_video(path, classify, names, size, detect, fps=a.fps, every=a.every, landmarks=points,
                                   detect_every=a.detect_every, min_score=a.min_score, rows=rows, writer_for=writer_for)
            results.append(result)
            rate = f", {result['frames_per_second']:.1f} frames/s" if result["frames_per_second"] else ""
            print(f"{path}: {result['frames_read']} frames read{rate}, {len(result['tracks'])} face track(s)")
            for t in result["tracks"]:
                p = t["probabilities"][t["label"]]
                print(f"  track {t['track']}: frames {t['first_frame']}-{t['last_frame']} "
                      f"({t['first_time']:.2f}-{t['last_time']:.2f} s, seen on {t['frames_seen']})  "
                      f"{t['label']} {p:.2f}")
        if not any(r["tracks"] for r in results):
            raise StageError(f"{', '.join(paths)}: expected a face, found none in "
                             f"{sum(r['frames_read'] for r in results)} frame(s) read")
    if a.csv:
        print(f"per-frame rows written to {a.csv}")
    if a.video_out:
        print(f"annotated video written to {a.video_out}")
    report = {"checkpoint": prefix, "videos": results}
    if a.json:
        write_json_atomic(a.json, report)
        print(f"per-track summary written to {a.json}")
    return report
