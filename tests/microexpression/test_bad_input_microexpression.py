"""MicroExpression's stages on bad input: one line and exit 1 (usage: exit 2), never a traceback."""

import pytest
from conftest import check_bad_inputs
from PIL import Image

pytestmark = pytest.mark.paddle


@pytest.fixture
def bad(tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "notimage.jpg").write_text("this is text")
    Image.new("RGB", (64, 64)).save(tmp_path / "ok.jpg")
    root = tmp_path / "classification2" / "train" / "grumpy"
    root.mkdir(parents=True)
    Image.new("RGB", (64, 64)).save(root / "sub01_EP01_01_reg_img1.jpg")
    (tmp_path / "infer").mkdir()
    (tmp_path / "infer" / "M.json").write_text("{}")
    return tmp_path


def test_bad_inputs_fail_in_one_line(bad, record_property):
    f = bad / "afile"
    me = "microexpression"
    cases = [
        ([me, "train", "--data_root", bad, "--save_dir", f], 2, ["--save_dir", "found a file"]),
        ([me, "train", "--data_root", bad, "--log_dir", f / "x"], 2, ["--log_dir", "found the file"]),
        ([me, "train", "--data_root", bad, "--pretrained", bad / "none.pdparams"], 1, ["none.pdparams", "nothing"]),
        ([me, "train", "--data_root", bad, "--set", "epochs"], 1, ["epochs"]),
        ([me, "train", "--data_root", bad, "--config", bad / "none.json"], 1, ["none.json"]),
        ([me, "evaluate", "--model", bad / "none", "--plot", bad], 2, ["--plot", "found a folder"]),
        ([me, "evaluate", "--model", bad / "none", "--data_root", bad], 1, ["none"]),
        ([me, "predict", "--model", bad / "none", "--picture", bad], 2, ["--picture"]),
        ([me, "export", "--model", bad / "none", "--output", bad], 2, ["--output", "found a folder"]),
        ([me, "export", "--model", bad / "none", "--output", bad / "o" / "M"], 1, ["none"]),
        ([me, "onnx", "--model", bad / "infer" / "M", "--output", bad], 2, ["--output"]),
        ([me, "onnx", "--model", bad / "none", "--output", bad / "m.onnx"], 1, ["none"]),
        ([me, "infer", "--model", bad / "none", "--images", bad / "ok.jpg"], 1, ["none"]),
        ([me, "infer", "--model", bad / "infer" / "M", "--images", bad / "nothing"], 1, ["nothing"]),
        ([me, "train", "--data_root", bad, "--set", "image_shape=[3,0,0]", "--save_dir", bad / "c"], 1,
         ["image_shape", "[3, 0, 0]"]),
        ([me, "train", "--data_root", bad, "--set", "epochs=0"], 1, ["epochs", "at least 1"]),
        ([me, "train", "--data_root", bad, "--set", "LEARNING_RATE.params.lr=-1"], 1, ["LEARNING_RATE"]),
        ([me, "train", "--data_root", bad, "--set", "crop_scale=[0.9,0.1]"], 1, ["crop_scale"]),
        ([me, "lite", "--optimize_out", bad], 2, ["--optimize_out"]),
        ([me, "lite"], 1, ["paddle_lite_opt", "ONNX"]),
        ([me, "annotate", "--data_root", bad / "classification2"], 1, ["grumpy"]),
        ([me, "annotate", "--data_root", bad / "none"], 1, ["none"]),
        ([me, "msame", "--model", "m.onnx", "--output", f], 2, ["--output"]),
        ([me, "demo", "--workdir", f], 2, ["--workdir"]),
    ]
    checked = check_bad_inputs(cases, bad)
    record_property("bad_inputs", checked)
    assert checked == 24
