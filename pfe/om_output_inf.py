"""LFW cosine and MLS accuracy from msame outputs (the original om_output_acc.py).

    python -m pfe.om_output_inf --om_output output_bin/<timestamp> --image_list lfw_list.txt \
        --pairs_file lfw_pairs.txt

Row i of --image_list (inf_input2bin's list) is <i>_output_0.bin (mu, 512 float32) and
<i>_output_1.bin (sigma_sq); pairs are resolved by image basename. Prints
`Euclidean (cosine) accuracy: %.5f threshold: %.5f` and `MLS accuracy: %.5f threshold: %.5f`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common.cli import StageError, parser


def read_outputs(out_dir, count: int, embedding_size: int = 512, dtype: str = "float32"):
    """mu and sigma_sq [count, D] from an msame folder; one line naming the first missing file."""
    from common.binio import read_bin
    from common.msame import check_no_extra_outputs, resolve_output_dir

    out = resolve_output_dir(out_dir)
    mu, sigma_sq = [], []
    for i in range(count):
        for k, dest in ((0, mu), (1, sigma_sq)):
            f = out / f"{i}_output_{k}.bin"
            if not f.is_file():
                raise StageError(f"{f}: expected msame output {k} ({'mu' if k == 0 else 'sigma_sq'}) of image {i}, "
                                 f"found nothing")
            dest.append(read_bin(f, (embedding_size,), dtype))
    check_no_extra_outputs(out, {f"{i}_output_{k}.bin" for i in range(count) for k in (0, 1)}, f"{count} images")
    return np.stack(mu), np.stack(sigma_sq)


def main(argv=None) -> dict:
    p = parser("pfe om_output_inf", __doc__.strip().splitlines()[0])
    p.add_argument("--om_output", required=True, help="msame timestamp folder (or the root holding one)")
    p.add_argument("--image_list", required=True, help="inf_input2bin's index -> image list")
    p.add_argument("--pairs_file", required=True, help="lfw_pairs.txt")
    p.add_argument("--embedding_size", type=int, default=512)
    p.add_argument("--dtype", default="float32", choices=["float32", "float16"])
    a = p.parse_args(argv)
    from pfe.data import lfw_images
    from pfe.scoring import lfw_scores, report

    listing = Path(a.image_list)
    if not listing.is_file():
        raise StageError(f"{listing}: expected inf_input2bin's image list, found nothing")
    paths, pairs, index = lfw_images(None, a.pairs_file, listing, check_files=False)
    mu, sigma_sq = read_outputs(a.om_output, len(paths), a.embedding_size, a.dtype)
    return {**report(lfw_scores(mu, sigma_sq, index), pairs), "images": len(paths)}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
