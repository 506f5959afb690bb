"""Aligned LFW -> input_bin/<i>.bin (float32 (112,96,3), (x − 127.5)/128) plus the image list.

    python -m pfe.inf_input2bin --lfw_dir data/lfw_mtcnncaffe_aligned --pairs_file lfw_pairs.txt \
        --output_dir input_bin/ --image_list_out lfw_list.txt

Row i of the list is <i>.bin. With --image_list (the original's lfw_nooverlap.txt, one path per
line) every listed image is written in that order; without it, every image the pairs file
names, in order of first use. RGB, no flip (test preprocessing).
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import add_overwrite, output_dir, output_file, parser, progress
from common.files import staged_dir, write_text_atomic


def main(argv=None) -> dict:
    p = parser("pfe inf_input2bin", __doc__.strip().splitlines()[0])
    p.add_argument("--lfw_dir", required=True, help="aligned LFW: <Name>/<Name>_0001.jpg")
    p.add_argument("--pairs_file", required=True, help="lfw_pairs.txt")
    p.add_argument("--image_list", default=None, help="explicit image list (paths, relative to --lfw_dir)")
    p.add_argument("--output_dir", type=output_dir, default="input_bin/")
    p.add_argument("--image_list_out", type=output_file, default=None, help="where to write the index -> image list "
                   "(default: <output_dir>/../lfw_list.txt)")
    add_overwrite(p, "bins")
    a = p.parse_args(argv)
    from common.binio import write_bin
    from common.images import load_rgb
    from pfe.data import IMAGE_SIZE, lfw_images, standardize

    paths, pairs, _ = lfw_images(a.lfw_dir, a.pairs_file, a.image_list)
    out = Path(a.output_dir)
    with staged_dir(out, a.overwrite, ["*.bin"]) as tmp:
        for i, path in enumerate(progress(paths, desc="inf_input2bin", unit="img")):
            write_bin(tmp / f"{i}.bin", standardize(load_rgb(path, IMAGE_SIZE)))
    listing = Path(a.image_list_out) if a.image_list_out else out.resolve().parent / "lfw_list.txt"
    write_text_atomic(listing, "".join(f"{Path(p).resolve()}\n" for p in paths))
    print(f"wrote {len(paths)} images ({len(pairs.issame)} pairs) to {out}; index -> image list in {listing}")
    return {"images": len(paths), "pairs": len(pairs.issame), "output_dir": out, "image_list": listing}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
