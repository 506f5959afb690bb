"""Turn RAF-DB, FER2013 or SFEW 2.0 as distributed into the folders CovPoolFER trains on.

    python -m covpoolfer.prepare --dataset rafdb --input RAF-DB/basic --output data/RAFDB_100
    python -m covpoolfer.prepare --dataset fer2013 --input fer2013/fer2013.csv --output data/FER2013_100
    python -m covpoolfer.prepare --dataset sfew --input SFEW_2 --output data/SFEW_100
    python -m covpoolfer.prepare --dataset afew --input AFEW --output data/AFEW_faces

writes OUTPUT/{Train,val}/<Expression>/<name>.png (FER2013's PrivateTest also OUTPUT/test/), the
seven classes spelled as SFEW spells them (Angry Disgust Fear Happy Neutral Sad Surprise: sorted,
so every dataset gets the same label numbers), image_size x image_size RGB, and
OUTPUT/classes.json with the dataset's own label -> class mapping and the counts per split.

* rafdb: RAF-DB basic, EmoLabel/list_patition_label.txt (`train_00001.jpg 5`, labels 1..7 =
  Surprise Fear Disgust Happiness Sadness Anger Neutral) with Image/aligned/*_aligned.jpg, or
  Image/original/ (faces found and aligned by common.align). train_* -> Train, test_* -> val.
* fer2013: fer2013.csv (emotion,pixels,Usage; 48x48 grey; 0..6 = Angry Disgust Fear Happy Sad
  Surprise Neutral), upsampled bicubically; Training -> Train, PublicTest -> val, PrivateTest -> test.
* sfew: Train/ and Val/ (any case) with one folder per expression (Angry or angry, Surprise or
  Surprised, ...), mixed .png/.jpg; --align detects and aligns faces in raw frames.
* afew: AFEW 7.0's Train/ and Val/ emotion folders of .avi clips -> OUTPUT/{Train,Val}/<Expression>/
  <clip>/<frame>.png, the aligned frames of each clip's main face track (covpoolfer.afew_video;
  faces detected every --detect_every frames, or read from --landmarks). Clips without a face,
  and clips that cannot be read, are listed in OUTPUT/no_face.tsv with the reason.
A label or class folder outside the seven stops with its line or path.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from common.cli import StageError, add_overwrite, output_dir, parser, positive_int, progress
from common.files import staged_dir
from common.images import encode_image, list_images, load_rgb
from common.metrics import format_counts
from common.models import SFEW_CLASSES

RAFDB_LABELS = {1: "Surprise", 2: "Fear", 3: "Disgust", 4: "Happy", 5: "Sad", 6: "Angry", 7: "Neutral"}
FER2013_LABELS = {0: "Angry", 1: "Disgust", 2: "Fear", 3: "Happy", 4: "Sad", 5: "Surprise", 6: "Neutral"}
FER2013_SPLITS = {"Training": "Train", "PublicTest": "val", "PrivateTest": "test"}
# Spellings met in SFEW copies and other expression datasets, lower-cased.
ALIASES = {"angry": "Angry", "anger": "Angry", "disgust": "Disgust", "disgusted": "Disgust",
           "fear": "Fear", "fearful": "Fear", "happy": "Happy", "happiness": "Happy",
           "neutral": "Neutral", "sad": "Sad", "sadness": "Sad", "surprise": "Surprise",
           "surprised": "Surprise"}
SFEW_SPLITS = {"train": "Train", "val": "val", "valid": "val", "validation": "val", "test": "test"}

# One sample: (split, expression, output file stem, a function returning its RGB pixels or None
# when no face is found).
Sample = tuple[str, str, str, Callable[[], "np.ndarray | None"]]


def _resize(rgb: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    if rgb.shape[:2] == (size, size):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.BICUBIC))


def _aligner(detect) -> Callable[[Path], np.ndarray | None]:
    """Largest face of a photo aligned onto the CovPoolFER template, or None without a face."""
    from common.align import align, read_photo

    def load(path: Path):
        rgb = read_photo(path)
        faces = detect(rgb)
        return align(rgb, faces[0].points, "covpoolfer") if faces else None

    return load


def _detector():
    try:
        from common.align import Detector

        return Detector()
    except ImportError as err:
        raise StageError(f"face alignment: expected the mtcnn package (pip install -e '.[tf]'), found {err}") from None


def rafdb(root: Path, align: bool = False) -> Iterator[Sample]:
    labels = root / "EmoLabel" / "list_patition_label.txt"
    if not labels.is_file():
        raise StageError(f"{labels}: expected RAF-DB basic's label list (EmoLabel/list_patition_label.txt), found nothing")
    aligned, original = root / "Image" / "aligned", root / "Image" / "original"
    use_original = align or not aligned.is_dir()
    if use_original and not original.is_dir():
        raise StageError(f"{root / 'Image'}: expected RAF-DB's aligned/ or original/ image folder, found neither")
    load_face = _aligner(_detector()) if use_original else None
    seen = set()
    for n, line in enumerate(labels.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2 or not fields[1].isdigit() or int(fields[1]) not in RAFDB_LABELS \
                or not fields[0].startswith(("train_", "test_")):
            raise StageError(f"{labels}:{n}: expected '<train_|test_>NNNNN.jpg LABEL' with LABEL 1..7, found '{line.strip()}'")
        name, label = fields[0], int(fields[1])
        if name in seen:
            raise StageError(f"{labels}:{n}: expected each image once, found {name} again")
        seen.add(name)
        stem = Path(name).stem
        path = original / name if use_original else aligned / f"{stem}_aligned{Path(name).suffix}"
        if not path.is_file():
            raise StageError(f"{labels}:{n}: expected the image {path}, found nothing")
        split = "Train" if name.startswith("train_") else "val"
        loader = (lambda p=path: load_face(p)) if use_original else (lambda p=path: load_rgb(p))
        yield split, RAFDB_LABELS[label], stem, loader


def fer2013(csv_path: Path) -> Iterator[Sample]:
    if not csv_path.is_file():
        raise StageError(f"{csv_path}: expected fer2013.csv (emotion,pixels,Usage), found nothing")
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        header = [h.strip() for h in next(rows, [])]
        if header[:3] != ["emotion", "pixels", "Usage"]:
            raise StageError(f"{csv_path}:1: expected the header 'emotion,pixels,Usage', found '{','.join(header)}'")
        for n, row in enumerate(rows, 2):
            if not row:
                continue
            problem = None
            if len(row) != 3 or not row[0].strip().isdigit() or int(row[0]) not in FER2013_LABELS:
                problem = "an emotion 0..6, 2304 pixels and a Usage"
            elif row[2].strip() not in FER2013_SPLITS:
                problem = f"Usage one of {', '.join(FER2013_SPLITS)}"
            else:
                pixels = row[1].split()
                if len(pixels) != 48 * 48 or not all(p.isdigit() and int(p) < 256 for p in pixels):
                    problem = "2304 pixel values 0..255 (48x48)"
            if problem:
                raise StageError(f"{csv_path}:{n}: expected {problem}, found '{','.join(row)[:60]}'")
            grey = np.array(pixels, np.uint8).reshape(48, 48)
            yield (FER2013_SPLITS[row[2].strip()], FER2013_LABELS[int(row[0])], f"fer{n - 1:05d}",
                   lambda g=grey: np.repeat(g[..., None], 3, axis=2))


def sfew(root: Path, align: bool = False) -> Iterator[Sample]:
    if not root.is_dir():
        raise StageError(f"{root}: expected SFEW's folder with Train/ and Val/, found nothing")
    splits = {SFEW_SPLITS.get(d.name.lower()): d for d in sorted(root.iterdir()) if d.is_dir()}
    splits.pop(None, None)
    if "Train" not in splits or "val" not in splits:
        raise StageError(f"{root}: expected Train/ and Val/ folders, found {sorted(d.name for d in root.iterdir())}")
    load_face = _aligner(_detector()) if align else None
    for split, folder in splits.items():
        for cls in sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")):
            name = ALIASES.get(cls.name.lower())
            if name is None:
                raise StageError(f"{cls}: expected an expression folder ({', '.join(SFEW_CLASSES)}), found '{cls.name}'")
            for path in list_images(cls):
                loader = (lambda p=path: load_face(p)) if align else (lambda p=path: load_rgb(p))
                yield split, name, path.stem, loader


def build_parser():
    p = parser("covpoolfer prepare", __doc__.strip().splitlines()[0])
    p.add_argument("--dataset", required=True, choices=["rafdb", "fer2013", "sfew", "afew"])
    p.add_argument("--input", required=True,
                   help="RAF-DB's basic/ folder, fer2013.csv, or SFEW's or AFEW's folder with Train/ and Val/")
    p.add_argument("--output", required=True, type=output_dir, help="folder for {Train,val}/<Expression>/")
    p.add_argument("--image_size", type=positive_int, default=100, help="side of the square RGB images written")
    p.add_argument("--align", action="store_true",
                   help="detect and align faces (MTCNN) instead of resizing the images as they are "
                        "(automatic for RAF-DB's Image/original/)")
    p.add_argument("--detect_every", type=positive_int, default=1,
                   help="afew: run the face detector on every K-th frame (the frames between keep its landmarks)")
    p.add_argument("--landmarks", default=None,
                   help="afew: five points per frame instead of detection ('Train/Happy/000123.avi:7 x1..x5 y1..y5')")
    add_overwrite(p, "the images and classes.json")
    return p


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    source = Path(a.input)
    if a.dataset == "afew":
        return prepare_afew(a, source)
    if a.landmarks or a.detect_every != 1:
        raise StageError("--landmarks and --detect_every: expected --dataset afew, found --dataset " + a.dataset)
    if a.dataset == "rafdb":
        samples, mapping = rafdb(source, a.align), RAFDB_LABELS
    elif a.dataset == "fer2013":
        if a.align:
            raise StageError("--align: FER2013's 48x48 crops are already aligned; leave the flag out")
        samples, mapping = fer2013(source), FER2013_LABELS
    else:
        samples, mapping = sfew(source, a.align), {}
    counts: dict[str, Counter] = {}
    no_face, names = [], set()
    with staged_dir(a.output, a.overwrite, ["**/*.png", "classes.json", "no_face.tsv"]) as tmp:
        for split, expression, stem, load in progress(samples, desc=f"prepare {a.dataset}", unit="img"):
            target = tmp / split / expression / f"{stem}.png"
            if target in names:
                raise StageError(f"{source}: expected one image per name, found {split}/{expression}/{stem} twice "
                                 f"(a .png and a .jpg of one name?)")
            names.add(target)
            rgb = load()
            if rgb is None:
                no_face.append(f"{split}/{expression}/{stem}")
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(encode_image(_resize(rgb, a.image_size), "png"))
            counts.setdefault(split, Counter())[expression] += 1
        if not counts:
            raise StageError(f"{source}: expected at least one labelled image, found none")
        summary = {"dataset": a.dataset, "source": str(source), "image_size": a.image_size,
                   "classes": SFEW_CLASSES, "mapping": {str(k): v for k, v in mapping.items()},
                   "counts": {s: {c: counts[s][c] for c in SFEW_CLASSES} for s in counts},
                   "no_face": len(no_face)}
        (tmp / "classes.json").write_text(json.dumps(summary, indent=1) + "\n")
        if no_face:
            (tmp / "no_face.tsv").write_text("".join(f"{x}\tno face found\n" for x in no_face))
    if mapping:
        print(f"{a.dataset} labels -> classes: " + ", ".join(f"{k}={v}" for k, v in mapping.items()))
    splits = [s for s in ("Train", "val", "test") if s in counts]
    print(format_counts(SFEW_CLASSES, splits, counts))
    missing = [f"{s}/{c}" for s in ("Train", "val") if s in counts for c in SFEW_CLASSES if not counts[s][c]]
    if missing:
        print(f"warning: no images for {', '.join(missing)}; train and getAcc number the classes they find, so "
              f"pass --classes to pic2bin")
    if no_face:
        print(f"{len(no_face)} image(s) without a face, listed in {Path(a.output) / 'no_face.tsv'}")
    print(f"wrote {sum(sum(c.values()) for c in counts.values())} images to {a.output} "
          f"({', '.join(f'{s} {sum(counts[s].values())}' for s in splits)}) and {Path(a.output) / 'classes.json'}")
    return summary


def prepare_afew(a, source: Path) -> dict:
    """AFEW clips -> aligned face frames per clip; faceless or unreadable clips listed, not fatal."""
    from common.align import read_landmarks
    from covpoolfer.afew_video import clip_faces, list_videos

    clips = list_videos(source, ALIASES)
    landmarks = read_landmarks(a.landmarks) if a.landmarks else None
    detect = None if landmarks is not None else _detector()
    counts: dict[str, Counter] = {}
    skipped, frames_read, frames_written = [], 0, 0
    with staged_dir(a.output, a.overwrite, ["**/*.png", "classes.json", "no_face.tsv"]) as tmp:
        for clip in progress(clips, desc="prepare afew", unit="clip"):
            try:
                crops, frames, tracks = clip_faces(clip, detect, a.detect_every, landmarks, a.image_size)
            except StageError as err:  # an unreadable clip: listed, the others go on
                skipped.append((clip.key, str(err).removeprefix(f"{clip.path}: ").replace("\t", " ")))
                continue
            frames_read += frames
            if not crops:
                skipped.append((clip.key, f"no face found in {frames} frame(s)"))
                continue
            folder = tmp / clip.split / clip.emotion / clip.path.stem
            folder.mkdir(parents=True, exist_ok=True)
            for index, crop in crops.items():
                (folder / f"{index:05d}.png").write_bytes(encode_image(crop, "png"))
            frames_written += len(crops)
            counts.setdefault(clip.split, Counter())[clip.emotion] += 1
        if not counts:
            raise StageError(f"{source}: expected at least one clip with a face, found none in {len(clips)} clip(s) "
                             f"({skipped[0][0]}: {skipped[0][1]})")
        summary = {"dataset": "afew", "source": str(source), "image_size": a.image_size, "classes": SFEW_CLASSES,
                   "clips": {s: {c: counts[s][c] for c in SFEW_CLASSES} for s in counts},
                   "frames_read": frames_read, "face_frames": frames_written, "no_face": len(skipped),
                   "aligned_with": "landmarks file" if landmarks is not None else
                   f"MTCNN every {a.detect_every} frame(s), longest track"}
        (tmp / "classes.json").write_text(json.dumps(summary, indent=1) + "\n")
        if skipped:
            (tmp / "no_face.tsv").write_text("".join(f"{k}\t{why}\n" for k, why in skipped))
    splits = [s for s in ("Train", "Val", "Test") if s in counts]
    print(format_counts(SFEW_CLASSES, splits, counts))
    if skipped:
        print(f"{len(skipped)} clip(s) without a usable face, listed in {Path(a.output) / 'no_face.tsv'}")
    print(f"wrote {frames_written} face frames of {sum(sum(c.values()) for c in counts.values())} clips "
          f"({frames_read} frames read) to {a.output} and {Path(a.output) / 'classes.json'}")
    return summary


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
