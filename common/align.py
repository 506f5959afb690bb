"""Face detection and five-point alignment: raw photos in, the aligned crops each pipeline reads.

    python -m common.align --input photos/ --output aligned/ --template covpoolfer

Faces and their five landmarks come from the `mtcnn` package (weights inside its wheel; a
TensorFlow model, so never in the Paddle process). Each face is mapped onto a template by the
least-squares similarity transform of its five points (scikit-image) and a bilinear warp.
Templates (x, y; image-left eye, image-right eye, nose, left and right mouth corner):

- `pfe`: 96x112 (w x h), the SphereFace points PFE aligns LFW and CASIA with;
- `arcface`: 112x112, the same points 8 px to the right (insightface, MobileFaceNet);
- `covpoolfer`: 100x100, the arcface points scaled by 100/112 (our choice: SFEW and RAF ship
  their own crops, aligned by their authors).

A folder is mirrored (`Train/Angry/x.jpg` -> `OUT/Train/Angry/x.png`), so a raw dataset becomes
an aligned one in the layout the pipelines read; with --all_faces the second and later faces of
a photo are written as `x_1.png`, ... `OUT/landmarks.tsv` lists every face (box, score, the ten
coordinates) and `OUT/no_face.tsv` every photo without one, with the reason. --landmarks FILE
aligns with given points instead (PFE's `ldmark_lfw_mtcnncaffe.txt`: a path, then x1..x5 and
y1..y5), which reproduces the original crops exactly.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.cli import StageError, output_dir, parser, positive_int, progress
from common.files import write_bytes_atomic, write_text_atomic
from common.images import encode_image, load_rgb

_SPHEREFACE = [[30.2946, 51.6963], [65.5318, 51.5014], [48.0252, 71.7366], [33.5493, 92.3655], [62.7299, 92.2041]]
TEMPLATES = {  # name: ((width, height), five points in the crop)
    "pfe": ((96, 112), np.array(_SPHEREFACE)),
    "arcface": ((112, 112), np.array(_SPHEREFACE) + [8.0, 0.0]),
    "covpoolfer": ((100, 100), (np.array(_SPHEREFACE) + [8.0, 0.0]) * (100 / 112)),
}
KEYPOINTS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")  # mtcnn's names, image-left first


@dataclass
class Face:
    box: tuple[float, float, float, float]  # x, y, width, height in the photo
    score: float
    points: np.ndarray                       # [5, 2] (x, y) in the photo, in KEYPOINTS order

    @property
    def area(self) -> float:
        return self.box[2] * self.box[3]


def read_photo(path: str | Path) -> np.ndarray:
    """A photo as people have them, as RGB uint8: EXIF orientation applied; grayscale, RGBA, CMYK
    and 16-bit converted (common.images)."""
    return load_rgb(path, orient=True)


class Detector:
    """MTCNN with its default minimum face size; photos larger than ``max_side`` are scaled down
    for detection (mtcnn 1.0 fails with a larger min_face_size under Keras 3) and the boxes and
    points scaled back."""

    def __init__(self, max_side: int = 640):
        self.mtcnn, self.max_side = None, max_side  # loaded on the first photo: a run may need none

    def __call__(self, rgb: np.ndarray) -> list[Face]:
        """Faces, largest first."""
        from PIL import Image

        if self.mtcnn is None:
            import os

            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            from mtcnn import MTCNN

            self.mtcnn = MTCNN()

        scale = min(1.0, self.max_side / max(rgb.shape[:2]))
        small = rgb if scale == 1.0 else np.asarray(Image.fromarray(rgb).resize(
            (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale))), Image.BILINEAR))
        faces = []
        for d in self.mtcnn.detect_faces(small):
            points = np.array([d["keypoints"][k] for k in KEYPOINTS], np.float64) / scale
            faces.append(Face(tuple(float(v) / scale for v in d["box"]), float(d["confidence"]), points))
        return sorted(faces, key=lambda f: -f.area)


def fit(points: np.ndarray, template: str):
    """The similarity transform (least squares over the five points) from crop to photo
    coordinates; its ``inverse`` maps photo points into the crop."""
    from skimage.transform import SimilarityTransform

    reference = TEMPLATES[template][1]
    points = np.asarray(points, np.float64)
    if hasattr(SimilarityTransform, "from_estimate"):  # scikit-image >= 0.26
        to_photo = SimilarityTransform.from_estimate(reference, points)
    else:
        to_photo = SimilarityTransform()
        to_photo = to_photo if to_photo.estimate(reference, points) else None
    if not to_photo:
        raise StageError(f"landmarks {np.round(points, 1).tolist()}: expected five distinct points, found a "
                         f"degenerate set")
    return to_photo


def align(rgb: np.ndarray, points: np.ndarray, template: str, size: tuple[int, int] | None = None) -> np.ndarray:
    """The crop of ``template`` whose five points match ``points`` best, bilinear; resized to
    ``size`` (width, height) when a model takes another size than the template's."""
    from skimage.transform import warp

    width, height = TEMPLATES[template][0]
    to_photo = fit(points, template)  # warp samples the photo at to_photo(crop pixel)
    crop = np.clip(np.round(warp(rgb, to_photo, output_shape=(height, width), order=1, preserve_range=True)),
                   0, 255).astype(np.uint8)
    if size is not None and tuple(size) != (width, height):
        from PIL import Image

        crop = np.asarray(Image.fromarray(crop).resize(tuple(size), Image.BILINEAR))
    return crop


def largest_faces(photos: list, detect: Detector, template: str, echo=print,
                  skipped: list | None = None) -> tuple[list[np.ndarray], list]:
    """Aligned crops of the largest face of each photo, and the photos that had one; a photo with
    no face, or with several, is reported in one line. With a ``skipped`` list, a photo that
    cannot be read is added to it as (photo, reason) and the rest go on, instead of stopping;
    so is a photo without a face."""
    crops, used = [], []
    for photo in photos:
        try:
            rgb = read_photo(photo)
        except StageError as err:
            if skipped is None:
                raise
            reason = str(err).removeprefix(f"{photo}: ")
            echo(f"{photo}: skipped, {reason}")
            skipped.append((photo, reason))
            continue
        faces = detect(rgb)
        if not faces:
            echo(f"{photo}: no face")
            if skipped is not None:
                skipped.append((photo, "no face found"))
            continue
        if len(faces) > 1:
            echo(f"{photo}: {len(faces)} faces, using the largest")
        crops.append(align(rgb, faces[0].points, template))
        used.append(photo)
    return crops, used


def read_landmarks(path: str | Path, key_ok=lambda key: True, name: str = "path") -> dict[str, np.ndarray]:
    """PFE's landmark file: ``relpath x1 x2 x3 x4 x5 y1 y2 y3 y4 y5`` per line -> {relpath: [5, 2]}
    (``key_ok`` checks the first field, which a line-numbered error calls ``name``)."""
    out = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            values = [float(v) for v in fields[1:]]
        except ValueError:
            values = []
        if len(values) != 10 or not key_ok(fields[0]):
            raise StageError(f"{path}:{n}: expected '{name} x1 x2 x3 x4 x5 y1 y2 y3 y4 y5', found '{line[:80]}'")
        out[fields[0]] = np.array(values).reshape(2, 5).T
    return out


def photos(root: Path) -> list[Path]:
    """Every image file under a folder (or the file itself), sorted."""
    from common.images import IMAGE_SUFFIXES

    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))


def build_parser():
    p = parser("python -m common.align", __doc__.strip().splitlines()[0])
    p.add_argument("--input", nargs="+", required=True, help="photos, or folders of photos (mirrored into --output)")
    p.add_argument("--output", type=output_dir, required=True, help="folder for the aligned faces and the reports")
    p.add_argument("--template", default="covpoolfer", choices=sorted(TEMPLATES))
    p.add_argument("--all_faces", action="store_true", help="write every face of a photo, not only the largest")
    p.add_argument("--landmarks", default=None, help="align with these points instead of detecting (PFE's format)")
    p.add_argument("--max_side", type=positive_int, default=640, help="scale larger photos down for detection")
    return p


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    out = Path(a.output)
    jobs = []  # (photo, path relative to the output)
    for item in map(Path, a.input):
        if not item.exists():
            raise StageError(f"{item}: expected a photo or a folder of photos, found nothing")
        jobs += [(f, f.relative_to(item) if item.is_dir() else Path(f.name)) for f in photos(item)]
    if not jobs:
        raise StageError(f"{', '.join(a.input)}: expected photos, found none")
    given = read_landmarks(a.landmarks) if a.landmarks else None
    detect = None if given is not None else Detector(a.max_side)
    rows, missing, faces_written = [], [], 0
    started = time.perf_counter()
    for photo, rel in progress(jobs, desc="align", unit="photo"):
        try:
            rgb = read_photo(photo)
        except StageError as err:
            missing.append((photo, f"not a readable image ({str(err).split(': ', 1)[-1]})"))
            continue
        if given is not None:
            key = next((k for k in (rel.as_posix(), str(photo), photo.name) if k in given), None)
            if key is None:
                missing.append((photo, f"no landmarks in {a.landmarks}"))
                continue
            found = [Face((0.0, 0.0, float(rgb.shape[1]), float(rgb.shape[0])), 1.0, given[key])]
        else:
            found = detect(rgb)
            if not found:
                missing.append((photo, "no face detected"))
                continue
        for k, face in enumerate(found if a.all_faces else found[:1]):
            target = out / rel.with_name(rel.stem + (f"_{k}" if k else "") + ".png")
            write_bytes_atomic(target, encode_image(align(rgb, face.points, a.template)))
            faces_written += 1
            rows.append("\t".join([str(photo), str(k), *(f"{v:.1f}" for v in face.box), f"{face.score:.4f}",
                                   *(f"{v:.2f}" for v in face.points[:, 0]), *(f"{v:.2f}" for v in face.points[:, 1]),
                                   str(target)]))
    ms_per_photo = (time.perf_counter() - started) * 1000 / len(jobs)
    header = "photo\tface\tx\ty\twidth\theight\tscore\t" + "\t".join(
        [f"x{i}" for i in range(1, 6)] + [f"y{i}" for i in range(1, 6)]) + "\taligned"
    write_text_atomic(out / "landmarks.tsv", "\n".join([header, *rows]) + "\n")
    write_text_atomic(out / "no_face.tsv", "photo\treason\n" + "".join(f"{p}\t{r}\n" for p, r in missing))
    print(f"{len(jobs)} photos, {faces_written} faces aligned to the {a.template} template "
          f"({TEMPLATES[a.template][0][0]}x{TEMPLATES[a.template][0][1]}) in {out}; {len(missing)} without a face "
          f"(listed in {out / 'no_face.tsv'}); {ms_per_photo:.0f} ms per photo (read, detect, warp, write)")
    return {"photos": len(jobs), "faces": faces_written, "without_face": len(missing), "output": out,
            "ms_per_photo": ms_per_photo}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
