"""Accuracy of msame outputs against pic2bin's reference labels (the original getAcc.py).

    python -m covpoolfer.getAcc --input_om_out out/20220117_165253/ --input_reference_out refs/

Reads every <k>_output_0.txt (last line, ints) or <k>_output_0.bin (int32) of an msame output
folder, compares it element-wise with refs/<k>.txt, and prints the overall accuracy.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common.cli import StageError, parser


def read_predictions(path: Path) -> np.ndarray:
    if path.suffix == ".bin":
        return np.fromfile(path, np.int32)
    lines = path.read_text().splitlines()
    if not lines:
        raise StageError(f"{path}: expected predicted class ids, found an empty file")
    try:
        return np.array([int(v) for v in lines[-1].split()], np.int64)  # the last line, as the original
    except ValueError:
        raise StageError(f"{path}: expected integer class ids (the int32 `output` node), found "
                         f"'{lines[-1][:40]}'") from None


def main(argv=None) -> int:
    p = parser("covpoolfer getAcc", __doc__.strip().splitlines()[0])
    p.add_argument("--input_om_out", required=True,
                   help="msame timestamp folder, or the --output root holding just one")
    p.add_argument("--input_reference_out", required=True, help="pic2bin reference folder")
    p.add_argument("--verbose", action="store_true", help="print predicted/actual per batch")
    a = p.parse_args(argv)
    from common.binio import read_reference

    out_dir, ref_dir = Path(a.input_om_out), Path(a.input_reference_out)
    if not out_dir.is_dir():
        raise StageError(f"{out_dir}: expected an msame output folder, found nothing")
    subdirs = [d for d in out_dir.iterdir() if d.is_dir()]
    if not any(out_dir.glob("*_output_*")) and len(subdirs) == 1:
        out_dir = subdirs[0]  # the --output root of one msame run: use its timestamp folder
    files = sorted(f for f in out_dir.iterdir() if f.name.split("_output_")[-1] in ("0.txt", "0.bin"))
    if not files:
        raise StageError(f"{out_dir}: expected <k>_output_0.txt or .bin files, found none")
    correct = total = 0
    for f in files:
        stem = f.name.split("_")[0]
        pred = read_predictions(f)
        ref = read_reference(ref_dir / f"{stem}.txt")
        if len(ref) > len(pred):
            raise StageError(f"{f}: expected at least {len(ref)} predictions (from {ref_dir / stem}.txt), "
                             f"found {len(pred)}")
        pred = pred[:len(ref)]  # a padded last batch carries fewer labels than predictions
        correct += int((pred == ref).sum())
        total += len(ref)
        if a.verbose:
            print(f"{f.name}: predicted {pred.tolist()}\n{f.name}: actual    {ref.tolist()}")
    missing = sorted({r.stem for r in ref_dir.glob("*.txt")} - {f.name.split("_")[0] for f in files})
    if missing:
        raise StageError(f"{out_dir}: expected outputs for every reference batch, missing {missing}")
    print(f"总准确率 {correct / total}")
    print(f"overall accuracy {correct / total:.4f} ({correct}/{total} images, {len(files)} batches)")
    return 0


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
