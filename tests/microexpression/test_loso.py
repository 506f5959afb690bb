"""CASME II / SAMM as distributed -> annotate (class sets, frames, subjects) -> LOSO with UF1/UAR."""

import json

import numpy as np
import pytest
from conftest import check_bad_inputs
from PIL import Image

paddle = pytest.importorskip("paddle")
pytestmark = pytest.mark.paddle

from common import synthetic  # noqa: E402
from common.metrics import uf1_uar  # noqa: E402
from microexpression import annotate, coding, loso  # noqa: E402

HEADER = ["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Action Units", "Estimated Emotion"]


def _clip(root, subject, name, frames, prefix="reg_img"):
    folder = root / subject / name
    folder.mkdir(parents=True, exist_ok=True)
    for n in frames:
        Image.new("RGB", (40, 48), (n % 256, 90, 90)).save(folder / f"{prefix}{n}.jpg")


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp("raw")
    return (synthetic.make_casme2_raw(root / "c", subjects=4, clips_per_subject=5, frames_per_clip=5),
            synthetic.make_samm(root / "s", subjects=2, clips_per_subject=4, frames_per_clip=5))


def test_a_hand_made_coding_sheet_reads_clips_and_estimates_a_missing_apex(tmp_path):
    cropped = tmp_path / "Cropped"
    _clip(cropped, "sub01", "EP02_01f", range(46, 53))
    _clip(cropped, "sub03", "EP01_2", range(10, 15))
    sheet = tmp_path / "coding.xlsx"
    synthetic._write_sheet(sheet, HEADER, [[1, "EP02_01f", 46, 49, 52, "4", "Happiness"],
                                           ["03", "EP01_2", 10, "/", 14, "1+2", "surprise"]])
    clips = coding.read_clips("casme2", cropped, sheet)
    assert [(c.subject, c.name, c.emotion, c.apex, c.apex_estimated) for c in clips] == [
        ("sub01", "EP02_01f", "happiness", 49, False), ("sub03", "EP01_2", "surprise", 12, True)]
    assert [n for n, _ in coding.frames_of(clips[0], "onset_apex")] == [46, 49]
    assert [p.name for _, p in coding.frames_of(clips[1], "all")] == [f"reg_img{n}.jpg" for n in range(10, 15)]


def test_class_sets_map_each_dataset_as_the_field_does(raw, tmp_path):
    casme2, samm = raw
    counts = {}
    for k in (7, 5, 3):
        out = tmp_path / f"c{k}"
        r = annotate.main(["--casme2_raw", str(casme2 / "Cropped"), "--coding", str(casme2 / "CASME2-coding-20140508.xlsx"),
                           "--samm", str(samm), "--samm_coding", str(samm / "SAMM_Micro_FACS_Codes_v2.xlsx"),
                           "--data_root", str(out), "--classes", str(k)])
        counts[k] = r
        assert json.loads((out / "config.json").read_text()) == {"num_classes": k, "LABEL_MAP": coding.CLASS_SETS[k]}
        lines = [ln.split("\t") for ln in (out / "all.txt").read_text().splitlines()]
        assert len(lines) == r["samples"] and all(len(f) == 4 for f in lines)
        for path, label, subject, dataset in lines:  # the file sits in its class's folder, named by its subject
            assert path.split("/")[0] == coding.CLASS_SETS[k][int(label)]
            assert path.split("/")[1].startswith(subject.replace("/", "_")) and subject.startswith(dataset)
        by_split = {s: {ln.split("\t")[2] for ln in (out / f"{s}.txt").read_text().splitlines()}
                    for s in ("train", "valid", "test")}
        assert not (by_split["train"] & by_split["test"]) and not (by_split["train"] & by_split["valid"])
    # 20 CASME II + 8 SAMM clips, one apex frame each; the sets drop what the field drops:
    assert counts[7]["clips"] == 28 and counts[7]["left_out"] == {"samm anger": 1, "samm contempt": 1}
    assert counts[3]["left_out"]["casme2 others"] == 4 and counts[3]["left_out"]["samm other"] == 1
    assert counts[3]["samples"] == 28 - 4 - 1 - counts[3]["left_out"].get("casme2 sadness", 0) \
        - counts[3]["left_out"].get("casme2 fear", 0)
    assert counts[3]["subjects"] == {"casme2": 4, "samm": 2}


def test_frames_all_copies_every_frame_of_each_clip(raw, tmp_path):
    casme2, _ = raw
    r = annotate.main(["--casme2_raw", str(casme2 / "Cropped"), "--coding", str(casme2 / "CASME2-coding-20140508.xlsx"),
                       "--data_root", str(tmp_path / "all"), "--frames", "all"])
    assert r["samples"] == 20 * 5 and r["apex_estimated"] == 1


@pytest.mark.slow
def test_two_loso_folds_score_uf1_uar_and_resume_fold_by_fold(raw, tmp_path, capsys):
    casme2, _ = raw
    data = tmp_path / "casme2_5"
    annotate.main(["--casme2_raw", str(casme2 / "Cropped"), "--coding", str(casme2 / "CASME2-coding-20140508.xlsx"),
                   "--data_root", str(data), "--classes", "5"])
    args = ["--data_root", str(data), "--arch", "resnet18", "--set", "image_shape=[3,32,32]", "--set", "epochs=1",
            "--set", "batch_size=8"]
    first = loso.main([*args, "--folds", "1"])
    assert first["folds"] == 1 and (data / "loso" / "casme2_sub01" / "predictions.tsv").is_file()
    assert not (data / "loso" / "casme2_sub01" / "chk").exists()
    assert list((data / "loso" / "casme2_sub01" / "visualdl_log").glob("vdlrecords.*.log"))
    capsys.readouterr()
    result = loso.main([*args, "--folds", "2"])
    assert "fold 1/2 casme2/sub01: done earlier, kept" in capsys.readouterr().out
    rows = [r for s in ("casme2_sub01", "casme2_sub02")
            for r in loso.read_predictions(data / "loso" / s / "predictions.tsv")]
    true, pred = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    assert result["samples"] == len(rows) == 10  # five apex frames per subject
    assert (result["UF1"], result["UAR"]) == uf1_uar(true, pred)
    assert np.array(result["confusion"]).sum() == 10
    assert json.loads((data / "loso" / "summary.json").read_text())["UF1"] == result["UF1"]


def test_bad_sheets_and_folders_stop_with_the_row(tmp_path, record_property):
    cropped = tmp_path / "Cropped"
    _clip(cropped, "sub01", "EP01", range(1, 6))
    sheets = {
        "no_column": (HEADER[:-1], [[1, "EP01", 1, 3, 5, "4"]]),
        "no_frame": (HEADER, [[1, "EP01", 1, 3, 5, "4", "others"], [1, "EP01", 1, 9, 5, "4", "others"]]),
        "no_clip": (HEADER, [[1, "EP01", 1, 3, 5, "4", "others"], [1, "EP07", 1, 3, 5, "4", "others"]]),
        "emotion": (HEADER, [[1, "EP01", 1, 3, 5, "4", "grumpy"]]),
        "no_apex": (HEADER, [[1, "EP01", 1, "/", "/", "4", "others"]]),
    }
    for name, (header, rows) in sheets.items():
        synthetic._write_sheet(tmp_path / f"{name}.xlsx", header, rows)
    (tmp_path / "text.xlsx").write_text("not a workbook")
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "all.txt").write_text("a.jpg\t0\n")
    raw_args = ["microexpression", "annotate", "--casme2_raw", cropped, "--data_root", tmp_path / "out", "--coding"]
    cases = [
        ([*raw_args, tmp_path / "no_column.xlsx"], 1, ["no_column.xlsx:1", "estimatedemotion"]),
        ([*raw_args, tmp_path / "no_frame.xlsx"], 1, ["no_frame.xlsx:3", "apex frame 9"]),
        ([*raw_args, tmp_path / "no_clip.xlsx"], 1, ["no_clip.xlsx:3", "EP07"]),
        ([*raw_args, tmp_path / "emotion.xlsx"], 1, ["emotion.xlsx:2", "grumpy"]),
        ([*raw_args, tmp_path / "no_apex.xlsx"], 1, ["no_apex.xlsx:2", "ApexFrame"]),
        ([*raw_args, tmp_path / "text.xlsx"], 1, ["text.xlsx", "openpyxl"]),
        ([*raw_args, tmp_path / "none.xlsx"], 1, ["none.xlsx", "found nothing"]),
        (["microexpression", "annotate", "--casme2_raw", cropped, "--data_root", tmp_path / "out"], 1, ["--coding"]),
        (["microexpression", "loso", "--data_root", tmp_path / "plain"], 1, ["all.txt", "subject"]),
        (["microexpression", "loso", "--data_root", tmp_path / "nothing"], 1, ["all.txt", "annotate"]),
        (["microexpression", "loso", "--data_root", tmp_path / "plain", "--folds", "x"], 1, ["--folds", "'x'"]),
    ]
    checked = check_bad_inputs(cases, tmp_path)
    record_property("bad_inputs", checked)
    assert not (tmp_path / "out").exists()


def test_uf1_uar_equal_scikit_learns_macro_scores():
    from sklearn.metrics import f1_score, recall_score

    rng = np.random.default_rng(0)
    true, pred = rng.integers(0, 5, 300), rng.integers(0, 5, 300)
    pred[:100] = true[:100]
    true[true == 4] = 3  # a class no sample has is not counted as zero
    uf1, uar = uf1_uar(true, pred)
    present = np.unique(true)
    assert uf1 == pytest.approx(f1_score(true, pred, labels=present, average="macro"), abs=1e-12)
    assert uar == pytest.approx(recall_score(true, pred, labels=present, average="macro"), abs=1e-12)
