"""Pack SFEW images into msame input batches: <k>.bin (raw pixels) + <k>.txt (labels).

    python -m covpoolfer.pic2bin --input_image_dir data/SFEW_100/val \
        --output_bin_dir bins/ --output_reference_file refs/

Each <k>.bin holds --batch_size images as float32 [B,100,100,3] raw 0..255 RGB (15,360,000 bytes
at B=128). Images are taken in sorted class/file order. The last partial batch is padded with
zero images and its <k>.txt lists only the real labels, so every image is scored once (the
original drops it, a third of SFEW val; --drop_last reproduces that). The reference folder
also gets manifest.tsv: bin, row, label, class and image path of every packed image, which
getAcc reads for class names. Labels are positions in --classes (SFEW's sorted seven, the
order training uses), so a missing class folder shifts nothing; it is reported in one line.
Output folders holding bins of an earlier run are refused unless --overwrite, and the bins
appear only when all are written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common.cli import StageError, add_overwrite, output_dir, parser, positive_int, progress
from common.files import staged_dir, write_text_atomic
from common.models import SFEW_CLASSES

MANIFEST = "manifest.tsv"


def build_parser():
    p = parser("covpoolfer pic2bin", __doc__.strip().splitlines()[0])
    p.add_argument("--input_image_dir", default="data/SFEW_100/val", help="class folders of images")
    p.add_argument("--output_bin_dir", type=output_dir, default="input_bin/")
    p.add_argument("--output_reference_file", type=output_dir, default="reference/", help="folder for <k>.txt labels")
    p.add_argument("--batch_size", type=positive_int, default=128)
    p.add_argument("--image_size", type=positive_int, default=100)
    p.add_argument("--drop_last", action="store_true", help="original quirk: drop the partial batch")
    p.add_argument("--classes", default=",".join(SFEW_CLASSES),
                   help="class names in label order (the trained model's; training sorts the folders)")
    add_overwrite(p, "bins and label files")
    return p


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    from common import binio
    from common.images import class_folders, list_images, load_rgb

    names = [c.strip() for c in a.classes.split(",") if c.strip()]
    folders = class_folders(a.input_image_dir)
    unknown = [f.name for f in folders if f.name not in names]
    if unknown:
        raise StageError(f"{a.input_image_dir}: expected class folders among {names} (--classes), found {unknown}")
    missing = [n for n in names if n not in {f.name for f in folders}]
    if missing:
        print(f"warning: {a.input_image_dir}: no folder for class(es) {missing}; the other labels keep their "
              f"positions in --classes", file=sys.stderr)
    items = [(f, names.index(folder.name)) for folder in folders for f in list_images(folder)]
    if not items:
        raise StageError(f"{a.input_image_dir}: expected images in the class folders, found none")
    n_batches = len(items) // a.batch_size if a.drop_last else -(-len(items) // a.batch_size)
    if n_batches == 0:
        raise StageError(f"{a.input_image_dir}: --drop_last with {len(items)} images leaves no full "
                         f"batch of {a.batch_size}")
    bins, refs = Path(a.output_bin_dir), Path(a.output_reference_file)
    rows = ["bin\trow\tlabel\tclass\tpath"]
    with staged_dir(bins, a.overwrite, ["*.bin"]) as bins_tmp, \
            staged_dir(refs, a.overwrite, ["*.txt", MANIFEST]) as refs_tmp:
        for k in progress(range(n_batches), desc="pic2bin", unit="bin"):
            chunk = items[k * a.batch_size:(k + 1) * a.batch_size]
            batch = np.zeros((a.batch_size, a.image_size, a.image_size, 3), np.float32)
            for i, (f, _) in enumerate(chunk):
                batch[i] = load_rgb(f, (a.image_size, a.image_size))
            binio.write_bin(bins_tmp / f"{k}.bin", batch)
            binio.write_reference(refs_tmp / f"{k}.txt", [label for _, label in chunk])
            rows += [f"{k}\t{i}\t{label}\t{names[label]}\t{f}" for i, (f, label) in enumerate(chunk)]
        write_text_atomic(refs_tmp / MANIFEST, "\n".join(rows) + "\n")
    used = min(len(items), n_batches * a.batch_size)
    print(f"wrote {n_batches} bins of {a.batch_size} images to {bins} and labels to {refs}: "
          f"{used} of {len(items)} images ({len(items) - used} dropped), classes {names}; "
          f"row-by-row list in {refs / MANIFEST}")
    return {"bins": n_batches, "images": used, "dropped": len(items) - used, "bin_dir": bins, "reference_dir": refs,
            "classes": names}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
