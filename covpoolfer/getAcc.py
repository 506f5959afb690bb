"""Accuracy of msame outputs against pic2bin's reference labels (the original getAcc.py).

    python -m covpoolfer.getAcc --input_om_out out/20220117_165253/ --input_reference_out refs/

Reads every <k>_output_0.txt (last line, ints) or <k>_output_0.bin (int32) of an msame output
folder, compares it element-wise with refs/<k>.txt, and prints the accuracy of each file, the
overall accuracy (`总准确率`, as the original), the per-class accuracy and the confusion matrix;
--plot draws the matrix. Class names come from pic2bin's manifest.tsv when it is there.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.cli import StageError, output_file, parser
from covpoolfer.pic2bin import MANIFEST


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


@dataclass
class Score:
    """Predictions against reference labels over every scored image."""
    truth: np.ndarray
    predicted: np.ndarray
    class_names: list[str]
    batches: int

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.truth == self.predicted))

    @property
    def confusion(self) -> np.ndarray:
        from common.metrics import confusion

        return confusion(self.truth, self.predicted, len(self.class_names))


def msame_output_files(out_dir: Path) -> list[Path]:
    """The <k>_output_0 files of an msame timestamp folder (or of the root holding one run)."""
    from common.binio import numeric_stem_order
    from common.msame import resolve_output_dir

    out_dir = resolve_output_dir(out_dir)
    files = [out_dir / n for n in numeric_stem_order(
        f.name for f in out_dir.iterdir() if f.name.split("_output_")[-1] in ("0.txt", "0.bin"))]
    if not files:
        raise StageError(f"{out_dir}: expected <k>_output_0.txt or .bin files, found none")
    return files


def score(out_dir: Path, ref_dir: Path, echo=print, verbose: bool = False) -> Score:
    """Compare every msame output file with its reference; echo each file's accuracy."""
    from common.binio import read_reference

    files = msame_output_files(Path(out_dir))
    ref_dir = Path(ref_dir)
    manifest = read_manifest(ref_dir)
    listed = manifest[0] if manifest else None
    truth, predicted = [], []
    for k, f in enumerate(files):
        stem = f.name.split("_")[0]
        pred = read_predictions(f)
        ref = read_reference(ref_dir / f"{stem}.txt")
        if len(ref) > len(pred) or (len(ref) < len(pred) and k < len(files) - 1):
            # Only the last batch is padded: elsewhere labels and predictions pair one to one.
            raise StageError(f"{f}: expected {'at least ' if k == len(files) - 1 else ''}{len(ref)} predictions "
                             f"(from {ref_dir / stem}.txt), found {len(pred)}")
        if ref.size and ref.min() < 0:
            raise StageError(f"{ref_dir / stem}.txt: expected class ids of 0 or more, found {int(ref.min())}")
        if listed is not None and listed.get(stem, []) != ref.tolist():
            raise StageError(f"{ref_dir / stem}.txt: expected the labels {MANIFEST} lists for bin {stem} "
                             f"({len(listed.get(stem, []))} rows), found {len(ref)} other labels; is it another "
                             f"pic2bin run's file?")
        pred = pred[:len(ref)]  # a padded last batch carries fewer labels than predictions
        hits = int((pred == ref).sum())
        truth.append(ref)
        predicted.append(pred)
        echo(f"{f.name}: accuracy {hits / max(len(ref), 1):.4f} ({hits}/{len(ref)})")
        if verbose:
            echo(f"{f.name}: predicted {pred.tolist()}\n{f.name}: actual    {ref.tolist()}")
    missing = sorted({r.stem for r in ref_dir.glob("*.txt")} - {f.name.split("_")[0] for f in files})
    if missing:
        raise StageError(f"{files[0].parent}: expected outputs for every reference batch, missing {missing}")
    truth, predicted = np.concatenate(truth), np.concatenate(predicted)
    if truth.size == 0:
        raise StageError(f"{ref_dir}: expected labels in the reference files, found none")
    names = class_names(manifest[1] if manifest else {}, int(max(truth.max(), predicted.max())) + 1)
    return Score(truth, predicted, names, len(files))


def read_manifest(ref_dir: Path) -> tuple[dict[str, list[int]], dict[int, str]] | None:
    """pic2bin's manifest.tsv: {bin: labels in row order} and {label: class name}, or None when
    there is none."""
    manifest = ref_dir / MANIFEST
    if not manifest.is_file():
        return None
    labels: dict[str, list[int]] = {}
    names: dict[int, str] = {}
    for n, line in enumerate(manifest.read_text(encoding="utf-8").splitlines()[1:], start=2):
        fields = line.split("\t")
        if len(fields) < 4 or not fields[2].lstrip("-").isdigit():
            raise StageError(f"{manifest}:{n}: expected 'bin<TAB>row<TAB>label<TAB>class<TAB>path', found '{line[:60]}'")
        labels.setdefault(fields[0], []).append(int(fields[2]))
        names[int(fields[2])] = fields[3]
    return labels, names


def main(argv=None) -> Score:
    p = parser("covpoolfer getAcc", __doc__.strip().splitlines()[0])
    p.add_argument("--input_om_out", required=True,
                   help="msame timestamp folder, or the --output root holding just one")
    p.add_argument("--input_reference_out", required=True, help="pic2bin reference folder")
    p.add_argument("--verbose", action="store_true", help="print predicted/actual per batch")
    p.add_argument("--plot", type=output_file, default=None, metavar="PNG", help="draw the confusion matrix here")
    a = p.parse_args(argv)
    from common.metrics import format_confusion
    from common.plots import plot_confusion

    result = score(Path(a.input_om_out), Path(a.input_reference_out), verbose=a.verbose)
    correct, total = int((result.truth == result.predicted).sum()), len(result.truth)
    print(f"总准确率 {correct / total}")
    print(f"overall accuracy {correct / total:.4f} ({correct}/{total} images, {result.batches} batches)")
    print("confusion matrix (rows: true class, columns: predicted) and per-class accuracy:")
    print(format_confusion(result.confusion, result.class_names))
    if a.plot:
        plot_confusion(result.confusion, result.class_names, a.plot,
                       title=f"CovPoolFER, accuracy {result.accuracy:.4f}")
        print(f"confusion matrix drawn to {a.plot}")
    return result


def class_names(names: dict[int, str], at_least: int) -> list[str]:
    """Class names by label (the manifest's); label numbers where it names none."""
    count = max([at_least, *(k + 1 for k in names)])
    return [names.get(k, str(k)) for k in range(count)]


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
