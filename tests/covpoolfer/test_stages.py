"""pic2bin's manifest, getAcc's per-class report and plot, and one-line errors on bad input."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import one_error_line
from PIL import Image

from common.binio import read_bin
from covpoolfer import getAcc, pic2bin


def _folders(root, counts):
    """Class folders of small RGB PNGs whose pixels encode (class, index)."""
    for c, n in counts.items():
        (root / c).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(np.full((100, 100, 3), 10 * i + len(c), np.uint8)).save(root / c / f"{i}.png")
    return root


def test_pic2bin_manifest_names_every_row(tmp_path):
    root = _folders(tmp_path / "val", {"Angry": 3, "Happy": 2})
    pic2bin.main(["--input_image_dir", str(root), "--output_bin_dir", str(tmp_path / "bins"),
                  "--output_reference_file", str(tmp_path / "refs"), "--batch_size", "4"])
    rows = [line.split("\t") for line in (tmp_path / "refs" / "manifest.tsv").read_text().splitlines()]
    assert rows[0] == ["bin", "row", "label", "class", "path"]
    # Labels are positions in SFEW's class list (Happy is 3), not among the folders present.
    assert [r[:4] for r in rows[1:]] == [["0", "0", "0", "Angry"], ["0", "1", "0", "Angry"],
                                         ["0", "2", "0", "Angry"], ["0", "3", "3", "Happy"],
                                         ["1", "0", "3", "Happy"]]
    # The manifest's path is the image whose pixels sit in that row; the padding rows are zero.
    second = read_bin(tmp_path / "bins" / "1.bin", (4, 100, 100, 3), np.float32)
    assert rows[5][4].endswith("Happy/1.png") and second[0, 0, 0, 0] == 10 + len("Happy")
    assert not second[1:].any()


def test_getacc_prints_per_class_confusion_and_plots(tmp_path, capsys):
    refs = tmp_path / "refs"
    refs.mkdir()
    (refs / "0.txt").write_text("0 0 1 1 ")
    (refs / "1.txt").write_text("2 ")
    (refs / "manifest.tsv").write_text("bin\trow\tlabel\tclass\tpath\n0\t0\t0\tAngry\ta\n0\t1\t0\tAngry\tb\n"
                                       "0\t2\t1\tHappy\tc\n0\t3\t1\tHappy\td\n1\t0\t2\tSad\te\n")
    out = tmp_path / "out" / "20261122_1_2_3_4"
    out.mkdir(parents=True)
    (out / "0_output_0.txt").write_text("0 1 1 1 ")
    (out / "1_output_0.txt").write_text("0 0 0 0 ")  # padded last batch: only its first value counts
    getAcc.main(["--input_om_out", str(out), "--input_reference_out", str(refs),
                 "--plot", str(tmp_path / "cm.png")])
    printed = capsys.readouterr().out
    assert "0_output_0.txt: accuracy 0.7500 (3/4)" in printed
    assert "1_output_0.txt: accuracy 0.0000 (0/1)" in printed
    assert "总准确率 0.6" in printed
    rows = {line.split()[0]: line.split()[1:] for line in printed.splitlines()
            if line.split() and line.split()[0] in ("Angry", "Happy", "Sad")}
    assert rows == {"Angry": ["1", "1", "0", "0.500"], "Happy": ["0", "2", "0", "1.000"],
                    "Sad": ["1", "0", "0", "0.000"]}
    with Image.open(tmp_path / "cm.png") as png:
        assert png.format == "PNG" and png.size[0] > 100


def test_getacc_result_matches_sklearn(tmp_path):
    from sklearn.metrics import accuracy_score, confusion_matrix

    rng = np.random.default_rng(0)
    truth, pred = rng.integers(0, 7, 300), rng.integers(0, 7, 300)
    (tmp_path / "refs").mkdir()
    (tmp_path / "out").mkdir()
    for k in range(3):
        (tmp_path / "refs" / f"{k}.txt").write_text("".join(f"{v} " for v in truth[k * 100:(k + 1) * 100]))
        (tmp_path / "out" / f"{k}_output_0.txt").write_text(" ".join(map(str, pred[k * 100:(k + 1) * 100])))
    result = getAcc.score(tmp_path / "out", tmp_path / "refs", echo=lambda s: None)
    assert result.accuracy == pytest.approx(accuracy_score(truth, pred))
    np.testing.assert_array_equal(result.confusion, confusion_matrix(truth, pred, labels=range(7)))
    assert result.class_names == [str(k) for k in range(7)]


def _one_line_failure(*argv):
    r = subprocess.run([sys.executable, "-m", "covpoolfer", *argv], capture_output=True, text=True)
    assert r.returncode == 1, r.stderr[-2000:]
    return one_error_line(r.stderr)


def test_pic2bin_corrupt_image_is_one_line(tmp_path):
    root = _folders(tmp_path / "val", {"Angry": 2})
    (root / "Angry" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    line = _one_line_failure("pic2bin", "--input_image_dir", str(root), "--output_bin_dir",
                             str(tmp_path / "b"), "--output_reference_file", str(tmp_path / "r"))
    assert "broken.png" in line and "expected" in line


def test_pic2bin_wrong_image_size_is_one_line(tmp_path):
    root = _folders(tmp_path / "val", {"Angry": 1})
    Image.fromarray(np.zeros((64, 80, 3), np.uint8)).save(root / "Angry" / "small.png")
    line = _one_line_failure("pic2bin", "--input_image_dir", str(root), "--output_bin_dir",
                             str(tmp_path / "b"), "--output_reference_file", str(tmp_path / "r"))
    assert "small.png" in line and "100" in line and "80" in line


def test_getacc_missing_msame_output_is_one_line(tmp_path):
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "0.txt").write_text("1 ")
    line = _one_line_failure("getAcc", "--input_om_out", str(tmp_path / "nothing_here"),
                             "--input_reference_out", str(tmp_path / "refs"))
    assert "nothing_here" in line and "msame output folder" in line
