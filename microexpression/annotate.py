"""Write {train,valid,test}.txt (`path<TAB>label`) for a CASME II `classification2/` folder.

    python -m microexpression.annotate --data_root classification2 --split subject

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

from common.cli import StageError, parser, progress, write_text_atomic
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
    subjects = [subject_of(p) for _, p in items]
    counts = Counter(subjects)
    if len(counts) < 3:
        raise StageError(f"--split subject: expected at least 3 subjects, found {sorted(counts)}")
    target = {"train": 0.6, "valid": 0.2, "test": 0.2}
    filled = dict.fromkeys(SPLITS, 0)
    of_subject = {}
    for s in rng.permutation(sorted(counts)):  # each subject to the split furthest below its share
        chosen = min(SPLITS, key=lambda k: (filled[k] - target[k] * len(items)) / target[k])
        of_subject[s] = chosen
        filled[chosen] += counts[s]
    return [of_subject[s] for s in subjects]


def main(argv=None) -> dict:
    p = parser("microexpression annotate", __doc__.strip().splitlines()[0])
    p.add_argument("--data_root", default="classification2", help="folder with train/ valid/ test/ class folders")
    p.add_argument("--split", default="folders", choices=["folders", "random", "subject"])
    p.add_argument("--seed", type=int, default=0)
    cfg.add_arguments(p)
    a = p.parse_args(argv)
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
    width = max(len(c) for c in label_map)
    print(f"{'class'.ljust(width)} " + " ".join(f"{s:>6}" for s in SPLITS))
    for c in label_map:
        print(f"{c.ljust(width)} " + " ".join(f"{per_class[s][c]:>6}" for s in SPLITS))
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
