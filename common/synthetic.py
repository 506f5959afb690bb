"""Embedded demo datasets, written in the real datasets' layouts from procedural faces.

    python -m common.synthetic LAYOUT --out DIR [--seed N] [the layout's flags]
    python -m common.synthetic --help              # the layouts (LAYOUTS below: writer, help, flags)

Same seed, same bytes. Every number measured on these data is synthetic.
"""

from __future__ import annotations

import argparse
import io
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from common import facegen, recordio, tfrecord
from common.cli import StageError, parser, positive_int, progress
from common.files import staged_dir, write_bytes_atomic
from common.images import encode_image
from common.lfw_pairs import write_pairs
from common.models import CASME2_CLASSES, SFEW_CLASSES

_CASME2_TEMPLATE = {"sadness": "sad", "happiness": "happy"}
_LAYOUT_CODES = {"sfew": 1, "casia": 2, "lfw": 3, "ms1m": 4, "lfw_bin": 5, "casme2": 6, "rafdb": 7,
                 "fer2013": 8, "sfew_raw": 9, "ijba": 10, "ijbc": 11, "casme2_raw": 12, "samm": 13, "ijbb": 14, "afew": 15, "video": 16, "ytf": 17}

_FIRST = ["Ada", "Bela", "Cyrus", "Dana", "Emil", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai",
          "Lena", "Milo", "Nia", "Oren", "Pia", "Quin", "Rosa", "Sami", "Tova", "Udo", "Vera",
          "Wren", "Xia", "Yuri", "Zoe"]
_LAST = ["Abbot", "Brandt", "Castro", "Dufour", "Eklund", "Ferro", "Gallo", "Haddad", "Ibarra",
         "Jansen", "Kowal", "Lindqvist", "Moreau", "Novak", "Okafor", "Petrov", "Quist", "Rossi",
         "Sato", "Tanaka", "Uribe", "Varga", "Weber", "Xu", "Yilmaz", "Zeller"]


def _rng(seed: int, layout: str, *keys: int) -> np.random.Generator:
    """An independent stream per (seed, layout, item): the order of generation never matters."""
    return np.random.default_rng([seed, _LAYOUT_CODES[layout], *keys])


def _face(seed, layout, ident_key, image_key, expression="neutral", amplitude=1.0,
          size=(112, 96), jitter=0.12, nuisance=1.0) -> tuple[np.ndarray, int]:
    """Render one face; returns the pixels and a JPEG quality drawn for it."""
    ident = facegen.sample_identity(_rng(seed, layout, 0, ident_key))
    rng = _rng(seed, layout, 1, ident_key, image_key)
    expr = facegen.sample_expression(rng, expression, amplitude, jitter)
    nuis = facegen.sample_nuisance(rng, nuisance)
    return facegen.render(ident, expr, nuis, *size), int(rng.integers(70, 96))


def _names(count: int) -> list[str]:
    names = []
    for i in range(count):
        first, last = _FIRST[i % len(_FIRST)], _LAST[(i // len(_FIRST) + 7 * i) % len(_LAST)]
        names.append(f"{first}_{last}" + (f"{i // (len(_FIRST) * len(_LAST))}" if i >= 676 else ""))
    return names


# ---------------------------------------------------------------------------- layouts


def _expression_faces(seed, layout, per_class: dict[str, int], identities: int, size, amplitude=1.0,
                      nuisance=1.0):
    """(split, class index, i, pixels) for ``per_class[split]`` faces of each SFEW class per split.

    The first split's faces come from the first two thirds of the people, the other splits share
    the rest (disjoint people, as SFEW's movies and the splits of RAF-DB and FER2013 are)."""
    splits = list(per_class)
    first = identities * 2 // 3
    rest = np.array_split(np.arange(first, identities), max(1, len(splits) - 1))
    split_ids = {s: (range(0, first) if k == 0 else rest[k - 1]) for k, s in enumerate(splits)}
    jobs = [(split, c, i) for split, n in per_class.items() for c in range(len(SFEW_CLASSES)) for i in range(n)]
    for split, c, i in progress(jobs, desc=layout, unit="img"):
        ids = split_ids[split]
        key = (c * 100003 + i) * (2, 3, 5)[splits.index(split)]
        ident = ids[int(_rng(seed, layout, 2, key).integers(len(ids)))]
        arr, _ = _face(seed, layout, ident, key, SFEW_CLASSES[c].lower(), amplitude=amplitude, size=size,
                       nuisance=nuisance)
        yield split, c, i, arr


def make_sfew(out, train_per_class=40, val_per_class=12, size=100, seed=0,
              identities=60, nuisance=1.0, amplitude=1.0) -> Path:
    """SFEW_100: ``{Train,val}/<Expression>/<Expression>_<i>.png``, 7 classes, RGB size x size.

    Faces of ``identities`` people; train and val use disjoint people, as SFEW's movies do.
    ``nuisance`` scales pose, light, noise and blur (1 = the default difficulty); ``amplitude``
    the expressions' strength (1 = the templates; larger is easier to tell apart).
    """
    out = Path(out)
    for split, c, i, arr in _expression_faces(seed, "sfew", {"Train": train_per_class, "val": val_per_class},
                                              identities, (size, size), amplitude, nuisance):
        name = SFEW_CLASSES[c]
        write_bytes_atomic(out / split / name / f"{name}_{i:04d}.png", encode_image(arr, "png"))
    return out


# RAF-DB basic numbers its seven classes 1..7 in this order; FER2013 0..6 in this one.
RAFDB_ORDER = ["Surprise", "Fear", "Disgust", "Happy", "Sad", "Angry", "Neutral"]
FER2013_ORDER = ["Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"]


def make_rafdb(out, train_per_class=20, test_per_class=6, identities=60, seed=0, amplitude=1.0,
               nuisance=1.0) -> Path:
    """RAF-DB basic: ``basic/EmoLabel/list_patition_label.txt`` (``train_00001.jpg 5``, labels 1..7)
    and ``basic/Image/aligned/train_00001_aligned.jpg`` (100x100 JPEG)."""
    out = Path(out) / "basic"
    lines, numbers = [], {"train": 0, "test": 0}
    for split, c, _, arr in _expression_faces(seed, "rafdb", {"train": train_per_class, "test": test_per_class},
                                              identities, (100, 100), amplitude, nuisance):
        numbers[split] += 1
        name = f"{split}_{numbers[split]:05d}.jpg"
        lines.append(f"{name} {RAFDB_ORDER.index(SFEW_CLASSES[c]) + 1}\n")
        write_bytes_atomic(out / "Image" / "aligned" / name.replace(".jpg", "_aligned.jpg"),
                           encode_image(arr, "jpg", 95))
    write_bytes_atomic(out / "EmoLabel" / "list_patition_label.txt", "".join(lines).encode())
    return out


def make_fer2013(out, train_per_class=20, public_per_class=6, private_per_class=6, identities=60, seed=0,
                 amplitude=1.0) -> Path:
    """``fer2013.csv``: emotion (0..6), 2304 space-separated grey pixels (48x48), Usage."""
    out = Path(out)
    rows = ["emotion,pixels,Usage\n"]
    for split, c, _, arr in _expression_faces(
            seed, "fer2013", {"Training": train_per_class, "PublicTest": public_per_class,
                              "PrivateTest": private_per_class}, identities, (48, 48), amplitude):
        grey = np.asarray(Image.fromarray(arr).convert("L"))
        rows.append(f"{FER2013_ORDER.index(SFEW_CLASSES[c])},{' '.join(map(str, grey.ravel()))},{split}\n")
    write_bytes_atomic(out / "fer2013.csv", "".join(rows).encode())
    return out


def make_sfew_raw(out, train_per_class=12, val_per_class=4, identities=40, seed=0, amplitude=1.0) -> Path:
    """SFEW 2.0 as distributed: ``Train/<Expression>/`` and ``Val/<expression>/`` with the spellings
    of different copies (Val's folders lower case, ``surprised``), 181x143 crops, .png and .jpg mixed."""
    out = Path(out)
    for split, c, i, arr in _expression_faces(seed, "sfew_raw", {"Train": train_per_class, "Val": val_per_class},
                                              identities, (181, 143), amplitude):
        name = SFEW_CLASSES[c] if split == "Train" else {"Surprise": "surprised"}.get(
            SFEW_CLASSES[c], SFEW_CLASSES[c].lower())
        fmt = "png" if i % 2 else "jpg"
        write_bytes_atomic(out / split / name / f"{SFEW_CLASSES[c][:3]}_{i:03d}.{fmt}", encode_image(arr, fmt, 92))
    return out


def make_casia(out, identities=20, images_per_identity=12, height=112, width=96, seed=0) -> Path:
    """CASIA-WebFace style: ``<0000id>/<nnn>.jpg``, aligned 112x96 faces."""
    out = Path(out)
    jobs = [(i, k) for i in range(identities) for k in range(images_per_identity)]
    for i, k in progress(jobs, desc="casia", unit="img"):
        expr = facegen.EXPRESSIONS_FOR_IDENTITY[k % len(facegen.EXPRESSIONS_FOR_IDENTITY)]
        arr, q = _face(seed, "casia", i, k, expr, amplitude=0.5, size=(height, width))
        write_bytes_atomic(out / f"{i:07d}" / f"{k + 1:03d}.jpg", encode_image(arr, "jpg", q))
    return out


def _verification_pairs(rng, names_per_fold, counts, per, nfolds):
    """Identity-disjoint folds of ``per`` genuine then ``per`` impostor pairs (LFW's layout)."""
    pairs, issame = [], []
    for f in range(nfolds):
        people = names_per_fold[f]
        multi = [p for p in people if counts[p] >= 2]
        for _ in range(per):
            p = multi[int(rng.integers(len(multi)))]
            i, j = rng.choice(np.arange(1, counts[p] + 1), 2, replace=False)
            pairs.append((p, int(min(i, j)), p, int(max(i, j))))
            issame.append(True)
        for _ in range(per):
            a, b = rng.choice(len(people), 2, replace=False)
            pa, pb = people[int(a)], people[int(b)]
            pairs.append((pa, int(rng.integers(1, counts[pa] + 1)), pb,
                          int(rng.integers(1, counts[pb] + 1))))
            issame.append(False)
    return pairs, issame


def make_lfw(out, identities=60, pairs_per_fold=10, folds=10, height=112, width=96, seed=0) -> Path:
    """``lfw_mtcnncaffe_aligned/<Name>/<Name>_0001.jpg`` plus ``lfw_pairs.txt`` (official format)."""
    out = Path(out)
    if identities < 2 * folds:
        raise StageError(f"lfw: expected at least {2 * folds} identities for {folds} folds, found {identities}")
    names = _names(identities)
    rng = _rng(seed, "lfw", 9)
    counts = {n: int(rng.integers(2, 6)) for n in names}
    per_fold = [names[f::folds] for f in range(folds)]
    pairs, issame = _verification_pairs(rng, per_fold, counts, pairs_per_fold, folds)
    jobs = [(i, n, k) for i, n in enumerate(names) for k in range(1, counts[n] + 1)]
    for i, name, k in progress(jobs, desc="lfw", unit="img"):
        arr, q = _face(seed, "lfw", i, k, _identity_expression(seed, "lfw", i, k), 0.5,
                       size=(height, width))
        write_bytes_atomic(out / "lfw_mtcnncaffe_aligned" / name / f"{name}_{k:04d}.jpg",
                           encode_image(arr, "jpg", q))
    write_pairs(out / "lfw_pairs.txt", pairs, issame, folds)
    return out


def _identity_expression(seed, layout, i, k) -> str:
    options = facegen.EXPRESSIONS_FOR_IDENTITY
    return options[int(_rng(seed, layout, 3, i, k).integers(len(options)))]


def make_lfw_bin(out, pairs_per_fold=10, folds=10, identities=60, size=112, seed=0) -> Path:
    """insightface verification ``.bin``: pickle of (list of 2N JPEG bytes, list of N issame)."""
    out = Path(out)
    if identities < 2 * folds:
        raise StageError(f"lfw_bin: expected at least {2 * folds} identities for {folds} folds, found {identities}")
    names = list(range(identities))
    rng = _rng(seed, "lfw_bin", 9)
    counts = {n: int(rng.integers(2, 6)) for n in names}
    per_fold = [names[f::folds] for f in range(folds)]
    pairs, issame = _verification_pairs(rng, per_fold, counts, pairs_per_fold, folds)
    cache: dict[tuple[int, int], bytes] = {}
    bins = []
    for n1, i1, n2, i2 in progress(pairs, desc="lfw_bin", unit="pair"):
        for n, i in ((n1, i1), (n2, i2)):
            if (n, i) not in cache:
                arr, q = _face(seed, "lfw_bin", n, i, _identity_expression(seed, "lfw_bin", n, i),
                               0.5, size=(size, size))
                cache[(n, i)] = encode_image(arr, "jpg", q)
            bins.append(cache[(n, i)])
    write_bytes_atomic(out, pickle.dumps((bins, [bool(s) for s in issame]), protocol=2))
    return out


def make_ms1m(out, identities=30, images_per_identity=10, size=112, seed=0) -> Path:
    """InsightFace MS1M: ``train.rec``/``train.idx`` (header records included), ``property``,
    and the same images as ``train.tfrecords`` (``image_raw`` JPEG bytes, ``label`` int64)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    n_images = identities * images_per_identity
    records, examples = [], []
    jobs = [(i, k) for i in range(identities) for k in range(images_per_identity)]
    for key, (i, k) in enumerate(progress(jobs, desc="ms1m", unit="img"), start=1):
        arr, q = _face(seed, "ms1m", i, k, _identity_expression(seed, "ms1m", i, k), 0.5,
                       size=(size, size))
        jpeg = encode_image(arr, "jpg", q)
        records.append((key, recordio.pack(recordio.IRHeader(0, float(i), key, 0), jpeg)))
        examples.append(tfrecord.encode_example({"image_raw": jpeg, "label": i}))
    first_id = n_images + 1
    header = recordio.IRHeader(0, np.array([first_id, first_id + identities], np.float32), 0, 0)
    id_records = [(first_id + i, recordio.pack(recordio.IRHeader(
        0, np.array([1 + i * images_per_identity, 1 + (i + 1) * images_per_identity], np.float32),
        first_id + i, 0), b"")) for i in range(identities)]
    recordio.write_indexed(out / "train.rec", out / "train.idx",
                           [(0, recordio.pack(header, b""))] + records + id_records)
    (out / "property").write_text(f"{identities},{size},{size}\n")
    tfrecord.write_records(out / "train.tfrecords", examples)
    return out


def make_casme2(out, subjects=8, clips_per_subject=7, frames_per_clip=6, height=170, width=140,
                amplitude=0.45, seed=0, nuisance=0.4) -> Path:
    """``classification2/{train,valid,test}/<class>/subXX_EPYY_ZZ_reg_imgN.jpg``.

    Like the published project, frames are spread 6:2:2 at random over the splits (subjects
    leak across splits); the subject id in every file name lets ``annotate`` re-split by subject.
    Micro-expressions: the expression at ``amplitude`` of full strength, ramping over the clip.
    ``nuisance`` scales each clip's pose, light, background and noise (CASME II is filmed in a lab:
    0.4 by default, lower for a steadier setting).
    """
    out = Path(out) / "classification2"
    rng = _rng(seed, "casme2", 9)
    jobs = []
    for s in range(subjects):
        for c in range(clips_per_subject):
            cls = CASME2_CLASSES[int(rng.integers(len(CASME2_CLASSES)))] if c >= len(CASME2_CLASSES) \
                else CASME2_CLASSES[(c + s) % len(CASME2_CLASSES)]
            for f in range(frames_per_clip):
                split = ("train", "valid", "test")[int(rng.choice(3, p=[0.6, 0.2, 0.2]))]
                jobs.append((s, c, f, cls, split))
    for s, c, f, cls, split in progress(jobs, desc="casme2", unit="img"):
        ramp = 0.6 + 0.4 * (f + 1) / frames_per_clip  # onset -> apex
        template = _CASME2_TEMPLATE.get(cls, cls)
        ident = facegen.sample_identity(_rng(seed, "casme2", 0, s))
        clip_rng = _rng(seed, "casme2", 1, s, c)
        nuis = facegen.sample_nuisance(clip_rng, nuisance)   # lab conditions: one camera per clip
        nuis["seed"] = int(_rng(seed, "casme2", 2, s, c, f).integers(2**31))
        expr = facegen.sample_expression(_rng(seed, "casme2", 3, s, c), template, amplitude * ramp, 0.05)
        arr = facegen.render(ident, expr, nuis, height, width)
        name = f"sub{s + 1:02d}_EP{c + 1:02d}_{f + 1:02d}_reg_img{100 + f}.jpg"
        write_bytes_atomic(out / split / cls / name, encode_image(arr, "jpg", 92))
    return out


def _loose_face(seed, layout, subject, k, canvas=(160, 150)) -> tuple[np.ndarray, float, tuple[int, int]]:
    """A 112x96 face scaled by 0.9-1.3 and pasted into a larger photo: (photo, scale, (x, y) offset)."""
    arr, _ = _face(seed, layout, subject, k, _identity_expression(seed, layout, subject, k), 0.5, size=(112, 96))
    rng = _rng(seed, layout, 4, subject, k)
    scale = float(rng.uniform(0.9, 1.3))
    face = Image.fromarray(arr).resize((round(96 * scale), round(112 * scale)), Image.BILINEAR)
    height, width = max(canvas[0], face.height + 8), max(canvas[1], face.width + 8)
    photo = Image.new("RGB", (width, height), tuple(int(v) for v in rng.integers(40, 200, 3)))
    x, y = int(rng.integers(0, width - face.width + 1)), int(rng.integers(0, height - face.height + 1))
    photo.paste(face, (x, y))
    return np.asarray(photo), face.width / 96, (x, y)


def _templates(rng, images: list[int]) -> list[list[int]]:
    """A subject's images dealt into two templates of one or more images each."""
    order = [int(i) for i in rng.permutation(images)]
    cut = int(rng.integers(1, len(order)))
    return [order[:cut], order[cut:]]


def make_ijba(out, subjects=30, images_per_subject=5, splits=10, subjects_per_split=12, seed=0) -> Path:
    """IJB-A 1:1: ``IJB-A_11_sets/split{1..N}/verify_metadata_N.csv`` (TEMPLATE_ID, SUBJECT_ID, FILE,
    MEDIA_ID, SIGHTING_ID, FRAME, FACE_X, FACE_Y, FACE_WIDTH, FACE_HEIGHT) and
    ``verify_comparisons_N.csv`` (every pair of the split's templates), photos in ``images/img/``
    with the face somewhere inside and its box in the metadata."""
    out = Path(out)
    boxes = {}
    jobs = [(s, k) for s in range(subjects) for k in range(images_per_subject)]
    for s, k in progress(jobs, desc="ijba", unit="img"):
        photo, scale, (x, y) = _loose_face(seed, "ijba", s, k)
        number = 1000 + s * images_per_subject + k
        boxes[(s, k)] = (f"img/{number}.jpg", x, y, round(96 * scale), round(112 * scale))
        write_bytes_atomic(out / "images" / "img" / f"{number}.jpg", encode_image(photo, "jpg", 92))
    for split in range(1, splits + 1):
        rng = _rng(seed, "ijba", 5, split)
        rows = ["TEMPLATE_ID,SUBJECT_ID,FILE,MEDIA_ID,SIGHTING_ID,FRAME,FACE_X,FACE_Y,FACE_WIDTH,FACE_HEIGHT\n"]
        templates = []
        for s in sorted(int(v) for v in rng.choice(subjects, min(subjects_per_split, subjects), replace=False)):
            for images in _templates(rng, list(range(images_per_subject))):
                tid = split * 10000 + len(templates) + 1
                templates.append((tid, s))
                for k in images:
                    file, x, y, w, h = boxes[(s, k)]
                    rows.append(f"{tid},{100 + s},{file},{s * 100 + k},{s * 100 + k},,{x},{y},{w},{h}\n")
        pairs = [f"{a},{b}\n" for i, (a, _) in enumerate(templates) for b, _ in templates[i + 1:]]
        folder = out / "IJB-A_11_sets" / f"split{split}"
        write_bytes_atomic(folder / f"verify_metadata_{split}.csv", "".join(rows).encode())
        write_bytes_atomic(folder / f"verify_comparisons_{split}.csv", "".join(pairs).encode())
    return out


def make_ijbc(out, subjects=30, images_per_subject=4, impostors_per_subject=6, name="ijbc", seed=0) -> Path:
    """IJB-B/C 1:1 in insightface's files: ``meta/<name>_face_tid_mid.txt``, ``meta/<name>_template_pair_label.txt``,
    ``meta/<name>_name_5pts_score.txt`` (the five points of each face in its photo) and ``loose_crop/N.jpg``."""
    out = Path(out)
    reference = np.array([[30.2946, 51.6963], [65.5318, 51.5014], [48.0252, 71.7366], [33.5493, 92.3655],
                          [62.7299, 92.2041]])  # the PFE crop's five points (common.align's "pfe")
    tid_rows, lmk_rows, pair_rows, templates = [], [], [], []
    jobs = [(s, k) for s in range(subjects) for k in range(images_per_subject)]
    for s, k in progress(jobs, desc=name, unit="img"):
        photo, scale, (x, y) = _loose_face(seed, name, s, k)
        image = f"{1 + s * images_per_subject + k}.jpg"
        points = reference * scale + [x, y]
        lmk_rows.append(f"{image} " + " ".join(f"{v:.2f}" for v in points.ravel()) + " 0.99\n")
        write_bytes_atomic(out / "loose_crop" / image, encode_image(photo, "jpg", 92))
    rng = _rng(seed, name, 5)
    for s in range(subjects):
        for images in _templates(rng, list(range(images_per_subject))):
            tid = len(templates) + 1
            templates.append((tid, s))
            tid_rows += [f"{1 + s * images_per_subject + k}.jpg {tid} {s * 100 + k}\n" for k in images]
        pair_rows.append(f"{templates[-2][0]} {templates[-1][0]} 1\n")
    for tid, s in templates[::2]:
        for j in rng.choice(len(templates), impostors_per_subject, replace=False):
            other, t = templates[int(j)]
            if t != s:
                pair_rows.append(f"{tid} {other} 0\n")
    write_bytes_atomic(out / "meta" / f"{name}_face_tid_mid.txt", "".join(tid_rows).encode())
    write_bytes_atomic(out / "meta" / f"{name}_name_5pts_score.txt", "".join(lmk_rows).encode())
    write_bytes_atomic(out / "meta" / f"{name}_template_pair_label.txt", "".join(pair_rows).encode())
    return out


# CASME II's and SAMM's "Estimated Emotion" values and the face each is drawn with.
CASME2_EMOTIONS = ["happiness", "surprise", "disgust", "repression", "others", "sadness", "fear"]
SAMM_EMOTIONS = ["Anger", "Contempt", "Disgust", "Fear", "Happiness", "Other", "Sadness", "Surprise"]
_MICRO_FACE = {"happiness": "happy", "sadness": "sad", "anger": "angry", "contempt": "disgust", "other": "others"}


def _micro_clip(seed, layout, subject, clip, emotion, frames, amplitude, nuisance, size=(170, 140)):
    """The frames of one clip: the expression rises from the onset to the apex (the middle) and
    falls back by the offset; one camera setting for the clip, fresh sensor noise per frame."""
    ident = facegen.sample_identity(_rng(seed, layout, 0, subject))
    nuis = facegen.sample_nuisance(_rng(seed, layout, 1, subject, clip), nuisance)
    template = _MICRO_FACE.get(emotion.lower(), emotion.lower())
    expr_rng_key = (seed, layout, 3, subject, clip)
    apex = frames // 2
    for f in range(frames):
        ramp = 1.0 - abs(f - apex) / max(apex, 1)
        expr = facegen.sample_expression(_rng(*expr_rng_key), template, amplitude * max(ramp, 0.0), 0.05)
        nuis = dict(nuis, seed=int(_rng(seed, layout, 2, subject, clip, f).integers(2**31)))
        yield f, facegen.render(ident, expr, nuis, *size)


def _write_sheet(path: Path, header: list[str], rows: list[list], title_rows: list[list] = ()) -> None:
    """An .xlsx coding sheet (openpyxl), written atomically."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in [*title_rows, header, *rows]:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    write_bytes_atomic(path, buf.getvalue())


def make_casme2_raw(out, subjects=6, clips_per_subject=5, frames_per_clip=7, amplitude=0.8, seed=0,
                    nuisance=0.3) -> Path:
    """CASME II as distributed: ``CASME2/Cropped/sub01/EP02_01f/reg_img46.jpg`` and the coding sheet
    ``CASME2/CASME2-coding-20140508.xlsx`` (Subject, Filename, OnsetFrame, ApexFrame, OffsetFrame,
    Action Units, Estimated Emotion). The last clip's ApexFrame is '/', as some real rows are."""
    out = Path(out) / "CASME2"
    rng = _rng(seed, "casme2_raw", 9)
    rows, jobs = [], []
    for s in range(subjects):
        for c in range(clips_per_subject):
            emotion = CASME2_EMOTIONS[(s + c) % 5] if c < 5 else CASME2_EMOTIONS[int(rng.integers(7))]
            onset = int(rng.integers(20, 200))
            name = f"EP{c + 1:02d}_{int(rng.integers(1, 20)):02d}f"
            rows.append([s + 1, name, onset, onset + frames_per_clip // 2, onset + frames_per_clip - 1, "4+7", emotion])
            jobs.append((s, c, name, onset, emotion))
    rows[-1][3] = "/"
    for s, c, name, onset, emotion in progress(jobs, desc="casme2_raw", unit="clip"):
        for f, arr in _micro_clip(seed, "casme2_raw", s, c, emotion, frames_per_clip, amplitude, nuisance):
            write_bytes_atomic(out / "Cropped" / f"sub{s + 1:02d}" / name / f"reg_img{onset + f}.jpg",
                               encode_image(arr, "jpg", 92))
    _write_sheet(out / "CASME2-coding-20140508.xlsx", ["Subject", "Filename", "OnsetFrame", "ApexFrame",
                 "OffsetFrame", "Action Units", "Estimated Emotion"], rows)
    return out


def make_samm(out, subjects=4, clips_per_subject=5, frames_per_clip=7, amplitude=0.8, seed=0,
              nuisance=0.3) -> Path:
    """SAMM as distributed: ``SAMM/006/006_1_2/006_05562.jpg`` and ``SAMM/SAMM_Micro_FACS_Codes_v2.xlsx``
    (title rows above the header: Subject, Filename, Inducement Code, Onset Frame, Apex Frame, Offset
    Frame, Duration, Type, Action Units, Notes, Estimated Emotion)."""
    out = Path(out) / "SAMM"
    rng = _rng(seed, "samm", 9)
    rows, jobs = [], []
    for s in range(subjects):
        subject = 6 + s
        for c in range(clips_per_subject):
            emotion = SAMM_EMOTIONS[(s * clips_per_subject + c) % len(SAMM_EMOTIONS)]
            onset = int(rng.integers(1000, 9000))
            name = f"{subject:03d}_{c + 1}_{int(rng.integers(1, 6))}"
            rows.append([subject, name, c + 1, onset, onset + frames_per_clip // 2, onset + frames_per_clip - 1,
                         frames_per_clip, "Micro - 1/2", "AU4", "", emotion])
            jobs.append((s, c, subject, name, onset, emotion))
    for s, c, subject, name, onset, emotion in progress(jobs, desc="samm", unit="clip"):
        for f, arr in _micro_clip(seed, "samm", s, c, emotion, frames_per_clip, amplitude, nuisance):
            write_bytes_atomic(out / f"{subject:03d}" / name / f"{subject:03d}_{onset + f:05d}.jpg",
                               encode_image(arr, "jpg", 92))
    _write_sheet(out / "SAMM_Micro_FACS_Codes_v2.xlsx",
                 ["Subject", "Filename", "Inducement Code", "Onset Frame", "Apex Frame", "Offset Frame", "Duration",
                  "Type", "Action Units", "Notes", "Estimated Emotion"], rows,
                 title_rows=[["SAMM micro-movement FACS codes (synthetic stand-in)"], []])
    return out


def make_preview(out, seed=0, per_row=7) -> Path:
    """A grid: one row per person, one column per SFEW expression, plus micro-expressions."""
    rows = []
    for person in range(4):
        row = [_face(seed, "sfew", person, col, c.lower(), size=(100, 100))[0]
               for col, c in enumerate(SFEW_CLASSES)]
        rows.append(np.concatenate(row, axis=1))
    micro = []
    for col, c in enumerate(CASME2_CLASSES):
        template = _CASME2_TEMPLATE.get(c, c)
        micro.append(_face(seed, "casme2", 99, col, template, amplitude=0.45, size=(100, 100),
                           jitter=0.05, nuisance=0.4)[0])
    rows.append(np.concatenate(micro, axis=1))
    grid = np.concatenate(rows, axis=0)
    from PIL import ImageDraw

    img = Image.fromarray(grid).resize((grid.shape[1] * 2, grid.shape[0] * 2), Image.NEAREST)
    canvas = Image.new("RGB", (img.width, img.height + 40), "white")
    canvas.paste(img, (0, 40))
    d = ImageDraw.Draw(canvas)
    for col, c in enumerate(SFEW_CLASSES):
        d.text((col * 200 + 8, 6), f"{c}/{CASME2_CLASSES[col]}", fill="black")
    d.text((8, 22), "rows 1-4: SFEW classes, four people; row 5: CASME II micro-expressions (synthetic)",
           fill="black")
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    write_bytes_atomic(out, buf.getvalue())
    return Path(out)


# ---------------------------------------------------------------------------- videos


def _moving_face(seed, layout, key, emotion, frames, size, amplitude=1.0):
    """A face that drifts across a plain background while its expression rises from neutral to the
    apex (the middle frame) and falls back (``_micro_clip``'s onset -> apex -> offset at full
    strength). Yields each frame and the five points of the face in it: the generator draws faces
    as aligned crops, so the points are the covpoolfer template's, scaled and moved with the face."""
    from common.align import TEMPLATES

    height, width = size
    rng = _rng(seed, layout, 5, key)
    side = max(24, round(0.6 * height))
    start = rng.uniform([0, 0], [width - side, height - side])
    end = np.clip(start + rng.uniform(-0.15, 0.15, 2) * [width, height], 0, [width - side, height - side])
    background = tuple(int(v) for v in rng.integers(40, 200, 3))
    (crop_w, _), template = TEMPLATES["covpoolfer"]
    for f, arr in _micro_clip(seed, layout, key, key, emotion, frames, amplitude, 0.3, size=(side, side)):
        x, y = np.round(start + (end - start) * f / max(frames - 1, 1))
        photo = Image.new("RGB", (width, height), background)
        photo.paste(Image.fromarray(arr), (int(x), int(y)))
        yield np.asarray(photo), template * side / crop_w + [x, y]


def make_video(out, emotion="happy", frames=50, width=640, height=360, fps=25, seed=0) -> Path:
    """One clip (.mp4, H.264) of a synthetic face moving and changing expression over time."""
    from common.video import VideoWriter

    if emotion.capitalize() not in SFEW_CLASSES:
        raise StageError(f"--emotion: expected one of {', '.join(SFEW_CLASSES)}, found '{emotion}'")
    with VideoWriter(out, fps) as writer:
        for rgb, _ in _moving_face(seed, "video", 0, emotion.lower(), frames, (height, width)):
            writer.write(rgb)
    return Path(out)


# AFEW 7.0 spells its emotion folders as SFEW's Train does; copies differ in case and in
# "Surprised" for "Surprise", which `covpoolfer prepare --dataset afew` accepts.
_AFEW_VAL_SPELLING = {"Surprise": "Surprised"}


def make_afew(out, train_per_class=3, val_per_class=2, frames=16, faceless=1, width=240, height=180,
              fps=25, amplitude=1.0, seed=0) -> Path:
    """AFEW as distributed: ``Train/<Emotion>/<number>.avi`` and ``Val/<emotion>/<number>.avi``
    (MPEG-4 in AVI, numbered clips; Val's folders lower case, ``surprised``), one moving face per
    clip whose expression rises and falls, and ``faceless`` clips in Val/neutral with no face.
    ``landmarks.txt`` has the five points of every face the generator drew, one line per frame
    (``Train/Happy/000004123.avi:7 x1..x5 y1..y5``): MTCNN finds few of these drawn faces, so the
    synthetic chain aligns with them (`covpoolfer prepare --dataset afew --landmarks`)."""
    from common.video import VideoWriter

    out = Path(out)
    jobs = [(split, c, i) for split, n in (("Train", train_per_class), ("Val", val_per_class))
            for c in range(len(SFEW_CLASSES)) for i in range(n)]
    number, lines = 4000, []
    for split, c, i in progress(jobs, desc="afew", unit="clip"):
        number += int(_rng(seed, "afew", 6, c, i, split == "Val").integers(1, 900))
        name = SFEW_CLASSES[c]
        folder = name if split == "Train" else _AFEW_VAL_SPELLING.get(name, name).lower()
        clip = f"{split}/{folder}/{number:09d}.avi"
        with VideoWriter(out / clip, fps, codec="mpeg4") as writer:
            key = c * 1000 + i + (500 if split == "Val" else 0)
            for f, (rgb, points) in enumerate(_moving_face(seed, "afew", key, name.lower(), frames, (height, width),
                                                                  amplitude)):
                writer.write(rgb)
                lines.append(f"{clip}:{f} " + " ".join(f"{v:.2f}" for v in (*points[:, 0], *points[:, 1])) + "\n")
    for k in range(faceless):
        background = tuple(int(v) for v in _rng(seed, "afew", 7, k).integers(40, 200, 3))
        with VideoWriter(out / "Val" / "neutral" / f"{999000 + k:09d}.avi", fps, codec="mpeg4") as writer:
            for _ in range(frames):
                writer.write(np.full((height, width, 3), background, np.uint8))
    write_bytes_atomic(out / "landmarks.txt", "".join(lines).encode())
    return out


_YTF_DEGRADATIONS = ("blur", "turn", "occlusion")


def _ytf_video(seed, person, video, frames, size, degraded):
    """One YouTube Faces video of ``person``: the face drifts a little and changes expression mildly;
    about ``degraded`` of the frames are blurred, turned away or half covered. Yields each frame,
    the face's square box (x, y, side) and its five points (the covpoolfer template, scaled)."""
    from common.align import TEMPLATES

    height, width = size
    ident = facegen.sample_identity(_rng(seed, "ytf", 0, person))
    rng = _rng(seed, "ytf", 1, person, video)
    camera = facegen.sample_nuisance(rng, 0.4)
    side = round(0.6 * height)
    start = rng.uniform([0.1 * width, 0.1 * height], [width - side - 0.1 * width, height - side - 0.1 * height])
    drift = rng.uniform(-0.05, 0.05, 2) * [width, height]
    bad = set(rng.choice(frames, max(1, round(degraded * frames)), replace=False).tolist()) if degraded > 0 else set()
    background = tuple(int(v) for v in rng.integers(40, 200, 3))
    (crop_w, _), template = TEMPLATES["covpoolfer"]
    for f in range(frames):
        frng = _rng(seed, "ytf", 2, person, video, f)
        expr = facegen.sample_expression(frng, _identity_expression(seed, "ytf", person, video), 0.4, 0.05)
        nuis = dict(camera, seed=int(frng.integers(2**31)))
        kind = _YTF_DEGRADATIONS[int(frng.integers(len(_YTF_DEGRADATIONS)))] if f in bad else None
        if kind == "blur":
            nuis["blur"] = 3.0
        elif kind == "turn":
            nuis["yaw"] = float(frng.choice([-1, 1])) * 0.35
        face = Image.fromarray(facegen.render(ident, expr, nuis, side, side))
        if kind == "occlusion":  # a hand or a scarf over the top or the bottom half
            from PIL import ImageDraw

            top = int(frng.integers(2)) * side // 2
            ImageDraw.Draw(face).rectangle([0, top, side, top + side // 2], fill=tuple(int(v) for v in frng.integers(0, 255, 3)))
        x, y = np.round(start + drift * f / max(frames - 1, 1))
        photo = Image.new("RGB", (width, height), background)
        photo.paste(face, (int(x), int(y)))
        yield np.asarray(photo), (float(x), float(y), float(side)), template * side / crop_w + [x, y], kind


def make_ytf(out, identities=30, videos_per_identity=3, frames=10, splits=10, pairs_per_split=5, width=160,
             height=120, degraded=0.3, aligned_crop=0.6, fps=25, seed=0) -> Path:
    """YouTube Faces as distributed: ``frame_images_DB/<person>/<video>/<video>.<frame>.jpg`` with
    ``frame_images_DB/<person>.labeled_faces.txt`` (``<person>\\<video>\\<video>.<frame>.jpg,0,x,y,w,h,0,0``:
    the box by its centre, width and height), ``aligned_images_DB/<person>/<video>/
    aligned_detect_<video>.<frame>.jpg`` (the face centred, its side ``aligned_crop`` of the
    height) and ``splits.txt`` (a header, then ``split, pair, first, second, same`` for person-disjoint
    splits). The same videos as .mp4 clips are in ``clips/<person>/<video>.mp4`` with
    ``clips/landmarks.txt`` (the five points of each frame's face) for `pfe verify` and
    `mobilefacenet search` on clips, and ``degraded.txt`` lists the blurred, turned and covered frames."""
    from common.video import VideoWriter

    out = Path(out)
    if identities < 2 * splits or videos_per_identity < 2:
        raise StageError(f"ytf: expected at least {2 * splits} identities and 2 videos each for {splits} splits, "
                         f"found {identities} and {videos_per_identity}")
    names = _names(identities)
    labels: dict[str, list[str]] = {n: [] for n in names}
    landmark_lines, degraded_lines = [], []
    jobs = [(i, v) for i in range(identities) for v in range(1, videos_per_identity + 1)]
    for i, v in progress(jobs, desc="ytf", unit="video"):
        name = names[i]
        with VideoWriter(out / "clips" / name / f"{v}.mp4", fps) as writer:
            for f, (rgb, (x, y, side), points, kind) in enumerate(
                    _ytf_video(seed, i, v, frames, (height, width), degraded)):
                frame = f"{v}.{f + 1}.jpg"
                write_bytes_atomic(out / "frame_images_DB" / name / str(v) / frame, encode_image(rgb, "jpg", 92))
                labels[name].append(f"{name}\\{v}\\{frame},0,{x + side / 2:.0f},{y + side / 2:.0f},"
                                    f"{side:.0f},{side:.0f},0,0\n")
                half = side / aligned_crop / 2  # the aligned image: the face centred, as big as asked
                cx, cy = x + side / 2, y + side / 2
                aligned = Image.fromarray(rgb).crop(tuple(round(c) for c in (
                    cx - half * width / height, cy - half, cx + half * width / height, cy + half))
                ).resize((width, height), Image.BILINEAR)
                write_bytes_atomic(out / "aligned_images_DB" / name / str(v) / f"aligned_detect_{frame}",
                                   encode_image(np.asarray(aligned), "jpg", 92))
                writer.write(rgb)
                landmark_lines.append(f"{name}/{v}.mp4:{f} " + " ".join(
                    f"{c:.2f}" for c in (*points[:, 0], *points[:, 1])) + "\n")
                if kind:
                    degraded_lines.append(f"{name}/{v}/{frame}\t{kind}\n")
    for name, lines in labels.items():
        write_bytes_atomic(out / "frame_images_DB" / f"{name}.labeled_faces.txt", "".join(lines).encode())
    rng = _rng(seed, "ytf", 9)
    per_split = [names[s::splits] for s in range(splits)]
    pairs, issame = _verification_pairs(rng, per_split, {n: videos_per_identity for n in names}, pairs_per_split, splits)
    rows = ["split number, pair id, first name, second name, is same\n"]
    for k, ((pa, va, pb, vb), same) in enumerate(zip(pairs, issame, strict=True)):
        rows.append(f"{k // (2 * pairs_per_split) + 1}, {k % (2 * pairs_per_split) + 1}, {pa}/{va}, {pb}/{vb}, "
                    f"{int(same)}\n")
    write_bytes_atomic(out / "splits.txt", "".join(rows).encode())
    write_bytes_atomic(out / "clips" / "landmarks.txt", "".join(landmark_lines).encode())
    write_bytes_atomic(out / "degraded.txt", "".join(degraded_lines).encode())
    return out


def make_panzoom(out, photo="", frames=50, width=640, height=360, fps=25, zoom=1.4, seed=0) -> Path:
    """A clip made from one real photo by a camera that pans and zooms in (default: scikit-image's
    astronaut.png, public domain): real footage of one face, for tests and the benchmark."""
    from common.images import load_rgb
    from common.video import VideoWriter

    del seed  # the path is fixed
    rgb = Image.fromarray(load_rgb(photo or astronaut_path()))
    with VideoWriter(out, fps) as writer:
        for f in range(frames):
            x, y, win_w, win_h = panzoom_window(f, frames, (rgb.height, rgb.width), (height, width), zoom)
            writer.write(np.asarray(rgb.resize((width, height), Image.BILINEAR, box=(x, y, x + win_w, y + win_h))))
    return Path(out)


def panzoom_window(f: int, frames: int, photo_size: tuple[int, int], size=(360, 640), zoom=1.4):
    """The photo window (x, y, width, height) frame ``f`` of ``make_panzoom`` shows: it narrows by
    ``zoom`` and slides from the left towards the right."""
    h, w = photo_size
    t = f / max(frames - 1, 1)
    win_w = min(w, h * size[1] / size[0]) / (1 + (zoom - 1) * t)
    win_h = win_w * size[0] / size[1]
    return (w - win_w) * (0.1 + 0.5 * t), (h - win_h) * 0.2, win_w, win_h


def astronaut_path() -> str:
    """scikit-image's astronaut.png (Eileen Collins, NASA, public domain): a real face, no download."""
    import os

    import skimage

    return os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png")


# ---------------------------------------------------------------------------- CLI

# What a data layout run writes, and so what --overwrite replaces in --out.
DATA_FILES = [f"**/*{suffix}" for suffix in (".png", ".jpg", ".txt", ".rec", ".idx", ".lst", ".tfrecords",
                                                   ".json", ".bin", ".csv", ".xlsx", ".avi", ".mp4")] + ["**/property"]


@dataclass(frozen=True)
class Layout:
    """One synthetic dataset layout: its writer, what it is, and its own flags (name -> type,
    default, help); the writer takes ``out``, ``seed`` and those flags as keywords."""
    writer: Callable[..., Path]
    help: str
    flags: dict[str, tuple] = field(default_factory=dict)
    single_file: bool = False  # one file, written atomically, instead of a folder
    from_photo: bool = False  # made from a real photo, not generated


def _fer2013(out, train_per_class, test_per_class, amplitude, seed):
    return make_fer2013(out, train_per_class, test_per_class, test_per_class, seed=seed, amplitude=amplitude)


_AMPLITUDE = (float, 1.0, "expression strength (1 = the templates)")
_NUISANCE = (float, 1.0, "pose/light/noise/blur strength")


def _ijb_name(text: str) -> str:
    if text not in ("ijbc", "ijbb"):
        raise argparse.ArgumentTypeError(f"expected ijbc or ijbb, found '{text}'")
    return text


def _micro(subjects: int) -> dict[str, tuple]:
    return {"subjects": (positive_int, subjects, ""), "clips_per_subject": (positive_int, 5, ""),
            "frames_per_clip": (positive_int, 7, ""), "amplitude": (float, 0.8, "expression strength at the apex")}


LAYOUTS: dict[str, Layout] = {
    "sfew": Layout(make_sfew, "SFEW_100 expression folders (7 classes, 100x100 PNG)", {
        "train_per_class": (positive_int, 40, ""), "val_per_class": (positive_int, 12, ""),
        "size": (positive_int, 100, ""), "identities": (positive_int, 60, ""), "nuisance": _NUISANCE,
        "amplitude": _AMPLITUDE}),
    "casia": Layout(make_casia, "CASIA-WebFace style identity folders (112x96 JPEG)", {
        "identities": (positive_int, 20, ""), "images_per_identity": (positive_int, 12, "")}),
    "lfw": Layout(make_lfw, "aligned LFW folders + lfw_pairs.txt (10 folds)", {
        "identities": (positive_int, 60, ""), "pairs_per_fold": (positive_int, 10, "genuine (= impostor) pairs per fold"),
        "folds": (positive_int, 10, "")}),
    "ms1m": Layout(make_ms1m, "MS1M RecordIO (.rec/.idx) and TFRecord, 112x112", {
        "identities": (positive_int, 30, ""), "images_per_identity": (positive_int, 10, "")}),
    "lfw_bin": Layout(make_lfw_bin, "insightface verification lfw.bin (112x112)", {
        "identities": (positive_int, 60, ""), "pairs_per_fold": (positive_int, 10, ""),
        "folds": (positive_int, 10, "")}, single_file=True),
    "casme2": Layout(make_casme2, "CASME II classification2/{train,valid,test}/<class>/", {
        "subjects": (positive_int, 8, ""), "clips_per_subject": (positive_int, 7, ""),
        "frames_per_clip": (positive_int, 6, ""),
        "amplitude": (float, 0.45, "expression strength (1 = a full expression)"),
        "nuisance": (float, 0.4, "pose/light/background/noise strength per clip")}),
    "rafdb": Layout(make_rafdb, "RAF-DB basic: EmoLabel/list_patition_label.txt + Image/aligned/ (100x100)", {
        "train_per_class": (positive_int, 20, ""), "test_per_class": (positive_int, 6, ""),
        "identities": (positive_int, 60, "people (2/3 train, 1/3 test)"), "amplitude": _AMPLITUDE,
        "nuisance": _NUISANCE}),
    "fer2013": Layout(_fer2013, "fer2013.csv (emotion, 48x48 grey pixels, Usage)", {
        "train_per_class": (positive_int, 20, ""),
        "test_per_class": (positive_int, 6, "per class in PublicTest and in PrivateTest"), "amplitude": _AMPLITUDE}),
    "sfew_raw": Layout(make_sfew_raw, "SFEW 2.0 as distributed: Train/ Val/ expression folders, mixed spellings "
                                      "and formats", {
        "train_per_class": (positive_int, 12, ""), "val_per_class": (positive_int, 4, ""), "amplitude": _AMPLITUDE}),
    "ijba": Layout(make_ijba, "IJB-A 1:1 protocol files (10 splits) and photos with face boxes", {
        "subjects": (positive_int, 30, ""), "images_per_subject": (positive_int, 5, "")}),
    "ijbc": Layout(make_ijbc, "IJB-B/C 1:1 in insightface's files: templates, pairs, five points, loose crops", {
        "subjects": (positive_int, 30, ""), "images_per_subject": (positive_int, 4, ""),
        "name": (_ijb_name, "ijbc", "file-name prefix: ijbc or ijbb")}),
    "casme2_raw": Layout(make_casme2_raw, "CASME II Cropped/ frames and its coding sheet (.xlsx)", _micro(6)),
    "samm": Layout(make_samm, "SAMM frames and its FACS coding sheet (.xlsx)", _micro(4)),
    "preview": Layout(make_preview, "a PNG grid of samples per class and identity", single_file=True),
    "afew": Layout(make_afew, "AFEW 7.0 as distributed: Train/ Val/ emotion folders of numbered .avi clips", {
        "train_per_class": (positive_int, 3, ""), "val_per_class": (positive_int, 2, ""),
        "frames": (positive_int, 16, "frames per clip"), "faceless": (int, 1, "clips with no face, in Val/neutral"),
        "amplitude": _AMPLITUDE}),
    "video": Layout(make_video, "one .mp4 of a synthetic face that moves and changes expression", {
        "emotion": (str, "happy", ""), "frames": (positive_int, 50, ""), "width": (positive_int, 640, ""),
        "height": (positive_int, 360, ""), "fps": (positive_int, 25, "")}, single_file=True),
    "ytf": Layout(make_ytf, "YouTube Faces as distributed: frame_images_DB/, aligned_images_DB/, splits.txt; and "
                            "the videos as .mp4 clips", {
        "identities": (positive_int, 30, ""), "videos_per_identity": (positive_int, 3, ""),
        "frames": (positive_int, 10, "frames per video"), "splits": (positive_int, 10, ""),
        "pairs_per_split": (positive_int, 5, "same-person (= different-person) pairs per split"),
        "width": (positive_int, 160, ""), "height": (positive_int, 120, ""),
        "degraded": (float, 0.3, "share of frames blurred, turned away or half covered"),
        "aligned_crop": (float, 0.6, "aligned_images_DB: the face's side as a share of the image height")}),
    "panzoom": Layout(make_panzoom, "one .mp4 panned and zoomed over a real photo (default: the astronaut)", {
        "photo": (str, "", "the photo (default: scikit-image's astronaut.png)"), "frames": (positive_int, 50, ""),
        "width": (positive_int, 640, ""), "height": (positive_int, 360, ""), "fps": (positive_int, 25, ""),
        "zoom": (float, 1.4, "how far the camera zooms in by the last frame")}, single_file=True, from_photo=True),
}


def build_parser():
    p = parser("python -m common.synthetic", "Write embedded demo datasets in the real layouts.")
    sub = p.add_subparsers(dest="layout", required=True, metavar="LAYOUT")
    for name, layout in LAYOUTS.items():
        s = sub.add_parser(name, help=layout.help, formatter_class=p.formatter_class)
        s.add_argument("--out", required=True, help="output " + ("file" if layout.single_file else "folder"))
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--overwrite", action="store_true",
                       help="replace the data of an earlier run in --out (without it a non-empty --out is refused)")
        for flag, (kind, default, help_) in layout.flags.items():
            s.add_argument(f"--{flag}", type=kind, default=default, help=help_ or None)
    return p


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    layout = LAYOUTS[a.layout]
    flags = {flag: getattr(a, flag) for flag in layout.flags}
    if layout.single_file:  # written atomically by the writer
        if Path(a.out).is_dir():
            raise StageError(f"{a.out}: expected a file to write, found a folder")
        path = layout.writer(a.out, seed=a.seed, **flags)
    else:
        if Path(a.out).is_file():
            raise StageError(f"{a.out}: expected a folder to write into, found a file")
        with staged_dir(a.out, a.overwrite, DATA_FILES) as tmp:
            made = layout.writer(tmp, seed=a.seed, **flags)
        path = Path(a.out) / Path(made).relative_to(tmp)
    print(f"wrote {a.layout} to {path} " + ("(a real photo, panned and zoomed)" if layout.from_photo else
                                            f"(synthetic data, seed {a.seed})"))
    return {"layout": a.layout, "path": path}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))

