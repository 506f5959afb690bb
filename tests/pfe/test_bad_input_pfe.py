"""PFE's stages on bad input: one line and exit 1 (usage: exit 2), never a traceback."""

import numpy as np
import pytest
from conftest import check_bad_inputs
from PIL import Image


@pytest.fixture
def bad(tmp_path):
    from common.lfw_pairs import write_pairs

    (tmp_path / "afile").write_text("not a folder")
    lfw = tmp_path / "lfw"
    for name in ("A", "B"):
        for i in (1, 2):
            (lfw / name).mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (96, 112)).save(lfw / name / f"{name}_{i:04d}.jpg")
    write_pairs(tmp_path / "pairs.txt", [("A", 1, "A", 2), ("A", 1, "B", 1)] * 2, [True, False] * 2, nfolds=2)
    (tmp_path / "list.txt").write_text("".join(f"{lfw}/{n}\n" for n in ("A/A_0001.jpg", "A/A_0002.jpg",
                                                                          "B/B_0001.jpg")))
    out = tmp_path / "om" / "2026_1_1_0_0_0_0"
    out.mkdir(parents=True)
    for i in range(3):
        for k in (0, 1):
            np.ones(512, np.float32).tofile(out / f"{i}_output_{k}.bin")
    extra = tmp_path / "om_extra" / "2026_1_1_0_0_0_1"
    extra.mkdir(parents=True)
    for f in out.iterdir():
        (extra / f.name).write_bytes(f.read_bytes())
    np.ones(512, np.float32).tofile(extra / "7_output_0.bin")
    (tmp_path / "stale").mkdir()
    (tmp_path / "stale" / "9.bin").write_bytes(b"\0")
    (tmp_path / "badpairs.txt").write_text("2 1\nA 1 2\nA 1 B\n")
    (tmp_path / "unbalanced.txt").write_text("2\t1\nA\t1\tB\t1\nA\t1\t2\nA\t1\t2\nA\t1\tB\t1\n")
    return tmp_path


def test_bad_inputs_fail_in_one_line(bad, record_property):
    f = bad / "afile"
    lfw = ["--lfw_dir", bad / "lfw", "--pairs_file", bad / "pairs.txt"]
    om = ["pfe", "om_output_inf", "--image_list", bad / "list.txt", "--pairs_file", bad / "pairs.txt", "--om_output"]
    cases = [
        (["pfe", "inf_input2bin", *lfw, "--output_dir", f], 2, ["--output_dir", "found a file"]),
        (["pfe", "inf_input2bin", *lfw, "--output_dir", f / "bins"], 2, ["--output_dir", "found the file"]),
        (["pfe", "inf_input2bin", *lfw, "--output_dir", bad / "b", "--image_list_out", bad], 2,
         ["--image_list_out", "found a folder"]),
        (["pfe", "inf_input2bin", *lfw, "--output_dir", bad / "stale"], 1, ["stale", "--overwrite"]),
        (["pfe", "inf_input2bin", "--lfw_dir", bad / "lfw", "--pairs_file", bad / "none.txt", "--output_dir",
          bad / "b"], 1, ["none.txt"]),
        (["pfe", "inf_input2bin", "--lfw_dir", bad / "lfw", "--pairs_file", bad / "badpairs.txt", "--output_dir",
          bad / "b"], 1, ["badpairs.txt"]),
        (["pfe", "inf_input2bin", "--lfw_dir", bad / "lfw", "--pairs_file", bad / "unbalanced.txt", "--output_dir",
          bad / "b"], 1, ["unbalanced.txt:2", "expected a genuine pair"]),
        (["pfe", "eval_lfw", "--ckpt_path", bad, *lfw, "--roc", bad], 2, ["--roc", "found a folder"]),
        (["pfe", "train_base", "--data_dir", bad / "lfw", "--models_dir", f], 2, ["--models_dir"]),
        (["pfe", "train", "--base_model", bad, "--data_dir", bad / "lfw", "--logs_dir", f / "x"], 2, ["--logs_dir"]),
        (["pfe", "ckpt2pb", "--ckpt_path", bad, "--output_path", f], 2, ["--output_path"]),
        (["pfe", "pb2om", "--model=x.pb", f"--output={bad}"], 2, ["--output"]),
        (["pfe", "om_inf", "--model", "m.onnx", "--output", f], 2, ["--output"]),
        (["pfe", "convert_checkpoint", "--ckpt_path", bad, "--output_dir", f], 2, ["--output_dir"]),
        (["pfe", "demo", "--workdir", f], 2, ["--workdir"]),
        ([*om, bad / "om_extra"], 1, ["7_output_0.bin", "another run"]),
        ([*om, bad / "none"], 1, ["none", "msame output folder"]),
        (["pfe", "om_output_inf", "--image_list", bad / "none.txt", "--pairs_file", bad / "pairs.txt",
          "--om_output", bad / "om"], 1, ["none.txt"]),
        ([*om, bad / "om", "--embedding_size", "256"], 1, ["_output_0.bin"]),
        (["pfe", "om_inf", "--model", bad / "none.onnx", "--output", bad / "o"], 1, ["none.onnx"]),
        (["pfe", "om_inf", "--model", "m.onnx", "--device", "3"], 1, ["--device"]),
    ]
    checked = check_bad_inputs(cases, bad)
    record_property("bad_inputs", checked)
    assert checked == 21


def test_om_scores_of_the_hand_made_outputs_are_right(bad):
    """The clean folder scores (all embeddings equal: every pair at the same distance)."""
    from pfe import om_output_inf

    result = om_output_inf.main(["--om_output", str(bad / "om"), "--image_list", str(bad / "list.txt"),
                                 "--pairs_file", str(bad / "pairs.txt")])
    assert result["pairs"] == 4 and result["images"] == 3
