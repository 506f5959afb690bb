"""The shared tools (synthetic data, portable msame, atc) on bad input: one line and exit 1
(usage: exit 2), never a traceback; a failed msame run leaves no partial output folder."""

import numpy as np
import pytest
from conftest import check_bad_inputs


@pytest.fixture
def bad(tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "Train").mkdir()
    (tmp_path / "old" / "Train" / "x.png").write_bytes(b"\x89PNG")
    (tmp_path / "bins").mkdir()
    np.zeros(4, np.float32).tofile(tmp_path / "bins" / "0.bin")
    (tmp_path / "bins" / "noext").write_bytes(b"\0")
    (tmp_path / "m.pb").write_bytes(b"not a graph")
    return tmp_path


def test_bad_inputs_fail_in_one_line(bad, record_property):
    f = bad / "afile"
    syn = ["common.synthetic"]
    cases = [
        ([*syn, "sfew", "--out", f], 1, ["afile", "expected a folder"]),
        ([*syn, "sfew", "--out", f / "sub"], 1, ["afile"]),
        ([*syn, "sfew", "--out", bad / "old"], 1, ["old", "--overwrite"]),
        ([*syn, "preview", "--out", bad], 1, ["expected a file", "found a folder"]),
        ([*syn, "sfew", "--out", bad / "s", "--train_per_class", "-1"], 2, ["--train_per_class"]),
        ([*syn, "sfew", "--out", bad / "s", "--identities", "0"], 2, ["--identities"]),
        ([*syn, "lfw", "--out", bad / "l", "--identities", "8"], 1, ["identities", "folds"]),
        ([*syn, "casme2", "--out", bad / "c", "--subjects", "0"], 2, ["--subjects"]),
        ([*syn, "nope", "--out", bad / "c"], 2, ["nope"]),
        (["common.msame", "--model", "m.onnx", "--output", f], 2, ["--output", "found a file"]),
        (["common.msame", "--model", "m.onnx", "--output", f / "o"], 2, ["--output", "found the file"]),
        (["common.msame", "--model", bad / "none.onnx", "--output", bad / "o"], 1, ["none.onnx"]),
        (["common.msame", "--model", bad / "m.pb", "--output", bad / "o"], 1, ["m.pb"]),
        (["common.msame", "--model", bad / "m.txt", "--output", bad / "o"], 1, ["m.txt"]),
        (["common.msame", "--model", "m.onnx", "--loop", "101"], 1, ["--loop"]),
        (["common.msame", "--model", "m.onnx", "--dymBatch", "4"], 1, ["--dymBatch", "real msame"]),
        (["common.atc", "--model", bad / "none.pb", "--output", bad / "om"], 1, ["none.pb"]),
        (["common.atc", "--model", bad / "m.pb", "--output", bad / "om"], 1, ["m.pb"]),
        (["common.atc", "--model", bad / "m.pb", "--output", f / "om"], 2, ["--output", "found the file"]),
        (["common.atc", "--model", bad / "m.pb", "--output", bad / "om", "--framework", "5"], 2, ["--framework"]),
        (["common.atc", "--model", bad / "m.pb", "--output", bad / "om", "--precision_mode", "int8"], 1,
         ["int8", "--calibration_dir"]),
        (["common.atc", "--model", bad / "m.pb", "--output", bad / "om", "--precision_mode", "int8",
          "--calibration_dir", bad, "--calibration_batches", "0"], 2, ["--calibration_batches"]),
        (["common.align", "--input", bad / "none", "--output", bad / "al"], 1, ["none", "expected a photo"]),
        (["common.align", "--input", bad / "bins", "--output", bad / "al"], 1, ["bins", "found none"]),
        (["common.align", "--input", bad / "old", "--output", f], 2, ["--output", "found a file"]),
        (["common.align", "--input", bad / "old", "--output", bad / "al", "--template", "vgg"], 2, ["--template"]),
        (["common.align", "--input", bad / "old", "--output", bad / "al", "--landmarks", bad / "m.pb"], 1,
         ["m.pb:1", "x1 x2 x3 x4 x5 y1"]),
    ]
    checked = check_bad_inputs(cases, bad)
    record_property("bad_inputs", checked)
    assert checked == 27


def test_a_failed_msame_run_leaves_no_output_folder(tmp_path):
    """A bad input found half-way (a file without an extension among the bins) stops the run with
    one line and leaves the --output root without a timestamp folder or a partial one."""
    import onnx
    from onnx import TensorProto, helper

    from common.cli import StageError
    from common.msame import run_portable

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), model)
    bins = tmp_path / "bins"
    bins.mkdir()
    np.zeros(4, np.float32).tofile(bins / "0.bin")
    np.full(4, np.nan, np.float32).tofile(bins / "1.bin")
    lines = []
    run = run_portable(str(model), [str(bins)], str(tmp_path / "out"), echo=lines.append)
    assert sorted(p.name for p in run.output_dir.iterdir()) == ["0_output_0.bin", "1_output_0.bin"]
    assert sum("NaN or inf" in ln and "1.bin" in ln for ln in lines) == 1
    (bins / "2.bin").write_bytes(b"\0\0")  # 2 bytes where 16 are expected
    with pytest.raises(StageError, match="2.bin"):
        run_portable(str(model), [str(bins)], str(tmp_path / "out2"), echo=lambda s: None)
    assert list((tmp_path / "out2").iterdir()) == []


def test_sigterm_ends_a_stage_in_one_line_and_leaves_nothing_half_written(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "sfew"
    proc = subprocess.Popen([sys.executable, "-m", "common.synthetic", "sfew", "--out", str(out),
                             "--train_per_class", "5000"], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not list(tmp_path.glob(".sfew.*.partial/Train")) and time.time() < deadline:
        time.sleep(0.1)  # writing has begun: the stage's handlers are in place
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert err.strip().splitlines()[-1] == "error: interrupted (SIGTERM)" and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # neither the data folder nor its temporary one
