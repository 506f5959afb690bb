"""The expression of every face in your own photos or videos: detect, align, classify, draw.

    covpoolfer predict --ckpt_path models/<run> photo.jpg [more.jpg ...] --picture faces.png --json faces.json
    covpoolfer predict --ckpt_path models/<run> clip.mp4 --csv frames.csv --json tracks.json --video_out annotated.mp4

Each face is found by MTCNN, aligned to the 100x100 covpoolfer template (common.align) and
classified by the checkpoint (a training run, a converted or an original TF1 checkpoint). Prints
every face's box, its expression and the class probabilities; --picture draws the boxes and
labels on the photos, --json writes the same figures. A photo without a face is reported; no face
in any photo is an error.

Videos (.mp4, .avi, .mov, .mkv, ...) and folders of frames: faces are detected every
--detect_every frames read and followed as tracks between (covpoolfer.predict_video); --csv writes
a row per face per frame (video, frame, time, track, box x/y/width/height, detected, label, the
seven probabilities), --json a summary per track (mean probabilities, label, first and last frame,
frames seen), --video_out the annotated video (H.264 .mp4, one frame per frame read, at the rate
read). --every K reads every K-th frame, --fps N N frames a second.
"""

from __future__ import annotations

import sys

import numpy as np

from common.cli import (
    StageError,
    add_checkpoint_args,
    output_file,
    parser,
    positive_int,
)
from common.face_tracks import add_video_args
from common.files import write_json_atomic
from common.models import SFEW_CLASSES


def build_parser():
    p = parser("covpoolfer predict", __doc__.strip().splitlines()[0])
    add_checkpoint_args(p, "covpoolfer")
    p.add_argument("images", nargs="+", help="photos, or videos and folders of frames")
    p.add_argument("--picture", type=output_file, default=None, metavar="PNG", help="photos: draw boxes and labels here")
    p.add_argument("--json", type=output_file, default=None,
                   help="write every face's figures here (videos: a summary per track)")
    p.add_argument("--max_side", type=positive_int, default=640, help="scale larger images down for detection")
    v = add_video_args(p)
    v.add_argument("--csv", type=output_file, default=None, help="one row per face per frame read")
    v.add_argument("--video_out", type=output_file, default=None, metavar="MP4",
                   help="the video with boxes, track numbers and labels drawn (one video input)")
    return p


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    from common.video import is_video, sample

    videos = [path for path in a.images if is_video(path)]
    if videos:
        if len(videos) != len(a.images):
            raise StageError(f"{', '.join(a.images)}: expected photos or videos, found both; run them apart")
        sample(a.fps, a.every)  # both flags at once stop here, before the model loads
        from covpoolfer.predict_video import run_videos

        return run_videos(a, videos)
    for flag in ("csv", "video_out", "every", "fps", "landmarks"):
        if getattr(a, flag):
            raise StageError(f"--{flag}: expected a video input, found photos")
    import tensorflow as tf

    from common.align import Detector, align, read_photo
    from covpoolfer.models.checkpoints import restore_model
    from covpoolfer.trainer import predict

    model, config, prefix = restore_model(a.ckpt_path, a.use_ema)
    names = config.get("classes") or SFEW_CLASSES
    size = int(config["image_size"])
    detect = Detector(a.max_side)
    results, photos = [], []
    for path in a.images:
        rgb = read_photo(path)
        faces = detect(rgb)
        photos.append(rgb)
        crops = [align(rgb, f.points, "covpoolfer", (size, size)) for f in faces]
        probs = tf.nn.softmax(predict(model, np.stack(crops), 128)["logits"]).numpy() if crops else []
        entry = {"photo": str(path), "faces": []}
        print(f"{path}: {len(faces)} face(s)")
        for k, (face, p) in enumerate(zip(faces, probs, strict=True)):
            best = int(np.argmax(p))
            entry["faces"].append({"box": [round(v, 1) for v in face.box], "detection_score": round(face.score, 4),
                                   "expression": names[best], "probabilities": dict(zip(names, map(float, p),
                                                                                         strict=True))})
            others = ", ".join(f"{names[i]} {p[i]:.2f}" for i in np.argsort(-p)[1:4])
            print(f"  face {k}: box {[round(v) for v in face.box]}  {names[best]} {p[best]:.2f}  ({others})")
        results.append(entry)
    if not any(r["faces"] for r in results):
        raise StageError(f"{', '.join(a.images)}: expected a face, found none in {len(a.images)} photo(s)")
    if a.json:
        write_json_atomic(a.json, {"checkpoint": prefix, "photos": results})
        print(f"figures written to {a.json}")
    if a.picture:
        draw(photos, results, a.picture)
        print(f"boxes and labels drawn to {a.picture}")
    return {"checkpoint": prefix, "photos": results}


def draw(photos: list[np.ndarray], results: list[dict], path: str) -> None:
    """The photos side by side at one height, each face boxed and labelled."""
    from PIL import Image, ImageDraw

    height = min(max(p.shape[0] for p in photos), 720)
    panels = []
    for rgb, entry in zip(photos, results, strict=True):
        scale = height / rgb.shape[0]
        img = Image.fromarray(rgb).resize((max(1, round(rgb.shape[1] * scale)), height), Image.BILINEAR)
        pen = ImageDraw.Draw(img)
        for face in entry["faces"]:
            x, y, w, h = (v * scale for v in face["box"])
            pen.rectangle([x, y, x + w, y + h], outline=(255, 40, 40), width=3)
            label = f"{face['expression']} {face['probabilities'][face['expression']]:.2f}"
            pen.rectangle([x, max(0, y - 16), x + 8 * len(label), max(0, y - 16) + 16], fill=(255, 40, 40))
            pen.text((x + 3, max(0, y - 15)), label, fill="white")
        panels.append(img)
    canvas = Image.new("RGB", (sum(p.width for p in panels), height), "white")
    x = 0
    for p in panels:
        canvas.paste(p, (x, 0))
        x += p.width
    from common.files import atomic_path

    with atomic_path(path, ".png") as tmp:
        canvas.save(tmp, format="PNG")


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
