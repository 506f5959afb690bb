"""LFW .bin -> one msame input file per image: bin_input/<i>.bin, float32 (112,112,3).

    python -m mobilefacenet.image2bin --eval_dataset lfw.bin --output_dir bin_input/

Pixels are (x − 127.5)·0.0078125, RGB as training saw them; --bgr reproduces the Ascend
port's cv2 decode (its 98.7 % om figure was measured on BGR). Image i is pair i//2, side i%2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import add_overwrite, output_dir, parser, progress
from common.files import staged_dir


def main(argv=None) -> dict:
    p = parser("mobilefacenet image2bin", __doc__.strip().splitlines()[0])
    p.add_argument("--eval_dataset", default="lfw.bin", help="insightface verification .bin")
    p.add_argument("--output_dir", type=output_dir, default="bin_input/")
    p.add_argument("--bgr", action="store_true", help="the Ascend port's channel order")
    add_overwrite(p, "bins")
    a = p.parse_args(argv)
    from common.binio import write_bin
    from common.images import decode_rgb
    from mobilefacenet.data import normalize, read_verification_bin

    bins, issame = read_verification_bin(a.eval_dataset)
    out = Path(a.output_dir)
    with staged_dir(out, a.overwrite, ["*.bin"]) as tmp:
        for i, b in enumerate(progress(bins, desc="image2bin", unit="img")):
            rgb = decode_rgb(b, f"{a.eval_dataset}[image {i}]", (112, 112))
            write_bin(tmp / f"{i}.bin", normalize(rgb[..., ::-1] if a.bgr else rgb))
    print(f"wrote {len(bins)} images ({len(issame)} pairs, {'BGR' if a.bgr else 'RGB'}) to {out}")
    return {"images": len(bins), "pairs": len(issame), "output_dir": out}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
