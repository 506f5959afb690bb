"""Write {train,valid,test}.txt (`path<TAB>label`) for a CASME II `classification2/` folder, or
build one from CASME II / SAMM as distributed, with a subject column for LOSO.

    python -m microexpression.annotate --data_root classification2 --split subject
    python -m microexpression.annotate --casme2_raw CASME2/Cropped --coding CASME2-coding-20140508.xlsx \
        --data_root casme2_apex --frames apex --classes 5
    python -m microexpression.annotate --casme2_raw CASME2/Cropped --coding CASME2-coding.xlsx \
        --samm SAMM --samm_coding SAMM_Micro_FACS_Codes_v2.xlsx --data_root megc --classes 3

From the raw datasets (see microexpression.coding for their layouts) the chosen frames of every
coded clip are copied to <data_root>/<class>/<dataset>_<subject>_<clip>_<frame>.jpg, and written:
all.txt (`path<TAB>label<TAB>subject<TAB>dataset`, what `microexpression loso` reads), train/valid/
test.txt split by subject, and config.json (num_classes, LABEL_MAP) for --config. Clips whose
emotion the class set does not use are counted per emotion, not copied.

--split folders keeps the train/valid/test folders as they are (the original notebook);
random re-splits all frames 6:2:2 (what the published project did: frames of one clip and
subject land in every split, so its accuracy is inflated); subject puts each subject's frames
in one split only (subjects from the `subXX_` file-name prefix). Paths are relative to
--data_root. Non-RGB images are kept (the dataset converts them); unreadable files are listed
and counted, never silently dropped. The split is reported per class and per subject.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from common.cli import StageError, add_overwrite, parser, progress
from common.files import staged_dir, write_text_atomic
from common.metrics import format_counts
from microexpression import config as cfg

SPLITS = ("train", "valid", "test")
SUBJECT = re.compile(r"^(sub\d+)", re.IGNORECASE)


def collect(root: Path, label_map: list[str]) -> list[tuple[str, Path]]:
    """(split folder, image path) for every file under <root>/<split>/<class>/."""
    from common.images import list_images

    items = []
    for split in SPLITS:
        folder = root / split
        if not folder.is_dir():
            raise StageError(f"{folder}: expected the {split} folder of classification2/, found nothing")
        for cls in sorted(d for d in folder.iterdir() if d.is_dir()):
            if cls.name not in label_map:
                raise StageError(f"{cls}: expected a class folder named one of {label_map}, found '{cls.name}'")
            files = list_images(cls)
            if not files:
                raise StageError(f"{cls}: expected images in the class folder, found none (remove the empty folder)")
            items += [(split, f) for f in files]
    if not items:
        raise StageError(f"{root}: expected images in <split>/<class>/ folders, found none")
    return items


def check(path: Path) -> str:
    """'rgb', 'converted' (readable, not RGB) or 'unreadable: <reason>'."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            return "rgb" if img.mode == "RGB" else f"converted from {img.mode}"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        return f"unreadable: {err}"


def subject_of(path: Path) -> str:
    m = SUBJECT.match(path.name)
    if not m:
        raise StageError(f"{path}: --split subject expects file names starting with subXX_, found '{path.name}'")
    return m.group(1).lower()


def assign(items: list[tuple[str, Path]], how: str, seed: int) -> list[str]:
    """The split of every item: as foldered, random frames 6:2:2, or whole subjects 6:2:2."""
    rng = np.random.default_rng(seed)
    if how == "folders":
        return [s for s, _ in items]
    if how == "random":
        order = rng.permutation(len(items))
        cut1, cut2 = int(round(0.6 * len(items))), int(round(0.8 * len(items)))
        split = np.empty(len(items), object)
        split[order[:cut1]], split[order[cut1:cut2]], split[order[cut2:]] = "train", "valid", "test"
        return list(split)
    return split_by_subject([subject_of(p) for _, p in items], rng)


def split_by_subject(subjects: list[str], rng: np.random.Generator) -> list[str]:
    """Whole subjects to train/valid/test, each to the split furthest below its 6:2:2 share."""
    counts = Counter(subjects)
    if len(counts) < 3:
        raise StageError(f"--split subject: expected at least 3 subjects, found {sorted(counts)}")
    target = {"train": 0.6, "valid": 0.2, "test": 0.2}
    filled = dict.fromkeys(SPLITS, 0)
    of_subject = {}
    for s in rng.permutation(sorted(counts)):
        chosen = min(SPLITS, key=lambda k: (filled[k] - target[k] * len(subjects)) / target[k])
        of_subject[s] = chosen
        filled[chosen] += counts[s]
    return [of_subject[s] for s in subjects]


def annotate_raw(a) -> dict:
    """CASME II and/or SAMM as distributed -> class folders, all.txt with subjects, a subject split."""
    import json
    import shutil

    from microexpression.coding import CLASS_SETS, EMOTIONS, frames_of, read_clips

    sources = []
    if a.casme2_raw:
        sources.append(("casme2", a.casme2_raw, a.coding))
    if a.samm:
        sources.append(("samm", a.samm, a.samm_coding or (a.coding if not a.casme2_raw else None)))
    for name, _, sheet in sources:
        if not sheet:
            flag = "--samm_coding" if name == "samm" and a.casme2_raw else "--coding"
            raise StageError(f"{flag}: expected the {name} coding sheet (.xlsx), found none given")
    clips = [c for name, root, sheet in sources for c in read_clips(name, Path(root), Path(sheet))]
    names = CLASS_SETS[a.classes]
    samples, left_out, estimated = [], Counter(), 0
    for clip in clips:
        cls = EMOTIONS[clip.dataset][a.classes][clip.emotion]
        if cls is None:
            left_out[f"{clip.dataset} {clip.emotion}"] += 1
            continue
        estimated += clip.apex_estimated
        for number, path in frames_of(clip, a.frames):
            rel = f"{cls}/{clip.dataset}_{clip.subject}_{clip.name}_{number}{path.suffix.lower()}"
            samples.append((rel, names.index(cls), f"{clip.dataset}/{clip.subject}", clip.dataset, path))
    if not samples:
        raise StageError(f"--classes {a.classes}: expected clips with emotions of {names}, found none")
    splits = split_by_subject([s[2] for s in samples], np.random.default_rng(a.seed))
    with staged_dir(a.data_root, a.overwrite, ["**/*.jpg", "**/*.jpeg", "**/*.png", "**/*.bmp", "*.txt",
                                               "config.json"]) as tmp:
        for rel, *_, path in progress(samples, desc="annotate", unit="img"):
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, tmp / rel)
        rows = [f"{rel}\t{label}\t{subject}\t{dataset}\n" for rel, label, subject, dataset, _ in samples]
        (tmp / "all.txt").write_text("".join(rows))
        for split in SPLITS:
            (tmp / f"{split}.txt").write_text("".join(r for r, s in zip(rows, splits, strict=True) if s == split))
        (tmp / "config.json").write_text(json.dumps({"num_classes": len(names), "LABEL_MAP": names}) + "\n")
    datasets = sorted({s[3] for s in samples})
    per = {d: Counter(names[s[1]] for s in samples if s[3] == d) for d in datasets}
    subjects = {d: len({s[2] for s in samples if s[3] == d}) for d in datasets}
    print(f"{len(clips)} coded clips; {a.classes} classes; frames: {a.frames}; "
          + ", ".join(f"{d} {subjects[d]} subjects" for d in datasets))
    print(format_counts(names, datasets, per, width=7))
    if left_out:
        print("clips left out (emotion not in this class set): " + ", ".join(f"{k} {v}" for k, v in sorted(left_out.items())))
    if estimated:
        print(f"apex frame missing in the sheet for {estimated} clip(s): the middle of onset..offset used")
    print(f"wrote {len(samples)} frames, {Path(a.data_root) / 'all.txt'} (with subjects, for loso), "
          f"train/valid/test.txt by subject and config.json")
    return {"samples": len(samples), "clips": len(clips), "classes": names, "subjects": subjects,
            "left_out": dict(left_out), "apex_estimated": estimated}


def main(argv=None) -> dict:
    p = parser("microexpression annotate", __doc__.strip().splitlines()[0])
    p.add_argument("--data_root", default="classification2",
                   help="folder with train/ valid/ test/ class folders; with --casme2_raw/--samm the output folder")
    p.add_argument("--split", default="folders", choices=["folders", "random", "subject"])
    p.add_argument("--seed", type=int, default=0)
    raw = p.add_argument_group("from the datasets as distributed")
    raw.add_argument("--casme2_raw", default=None, metavar="DIR",
                     help="CASME II RAW_selected/ or Cropped/ (subXX/EPxx_yy/img46.jpg or reg_img46.jpg)")
    raw.add_argument("--samm", default=None, metavar="DIR", help="SAMM (006/006_1_2/006_05562.jpg)")
    raw.add_argument("--coding", default=None, metavar="XLSX", help="the coding sheet of --casme2_raw (or of --samm alone)")
    raw.add_argument("--samm_coding", default=None, metavar="XLSX", help="SAMM's coding sheet beside --casme2_raw")
    raw.add_argument("--frames", default="apex", choices=["apex", "onset_apex", "all"],
                     help="frames per clip: the apex, onset and apex, or every frame onset..offset")
    raw.add_argument("--classes", type=int, default=7, choices=[7, 5, 3],
                     help="CASME II's 7, its published 5 (happiness surprise disgust repression others) or MEGC's 3 "
                          "(negative positive surprise)")
    add_overwrite(raw, "the frames and annotations")
    cfg.add_arguments(p)
    a = p.parse_args(argv)
    if a.casme2_raw or a.samm:
        return annotate_raw(a)
    config = cfg.load(a.config, a.set)
    label_map = config["LABEL_MAP"]
    root = Path(a.data_root)
    items = collect(root, label_map)
    status = [check(f) for _, f in progress(items, desc="annotate", unit="img")]
    bad = [(f, s) for (_, f), s in zip(items, status, strict=True) if s.startswith("unreadable")]
    converted = sum(s.startswith("converted") for s in status)
    keep = [(sp, f) for (sp, f), s in zip(items, status, strict=True) if not s.startswith("unreadable")]
    splits = assign(keep, a.split, a.seed)
    lines = {s: [] for s in SPLITS}
    per_class = {s: Counter() for s in SPLITS}
    subjects = {s: set() for s in SPLITS}
    for split, (_, f) in zip(splits, keep, strict=True):
        label = label_map.index(f.parent.name)
        lines[split].append(f"{f.relative_to(root).as_posix()}\t{label}")
        per_class[split][f.parent.name] += 1
        m = SUBJECT.match(f.name)
        if m:
            subjects[split].add(m.group(1).lower())
    for s in SPLITS:
        write_text_atomic(root / f"{s}.txt", "".join(line + "\n" for line in lines[s]))
    print(f"split '{a.split}': " + ", ".join(f"{s} {len(lines[s])}" for s in SPLITS)
          + f" images; {converted} non-RGB converted on load; {len(bad)} unreadable left out")
    print(format_counts(label_map, list(SPLITS), per_class))
    if any(subjects.values()):
        shared = (subjects["train"] & subjects["valid"]) | (subjects["train"] & subjects["test"]) \
            | (subjects["valid"] & subjects["test"])
        print("subjects per split: " + ", ".join(f"{s} {len(subjects[s])}" for s in SPLITS)
              + f"; in more than one split: {len(shared)}" + (" (leaky: frame-level accuracy is inflated)" if shared else ""))
    for f, s in bad:
        print(f"unreadable: {f} ({s.split(': ', 1)[1]})")
    print(f"wrote {', '.join(str(root / f'{s}.txt') for s in SPLITS)}")
    return {"images": {s: len(lines[s]) for s in SPLITS}, "unreadable": len(bad),
            "subjects": {s: len(subjects[s]) for s in SPLITS}}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
