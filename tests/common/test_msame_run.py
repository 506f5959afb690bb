"""The portable msame runner end to end on a tiny ONNX model built here."""

import os
import re
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from common.cli import StageError
from common.modelspec import ModelSpec, TensorSpec, write_sidecar
from common.msame import run_portable

W = np.arange(12, dtype=np.float32).reshape(4, 3) / 10


@pytest.fixture
def tiny_onnx(tmp_path):
    """y = x @ W (x: [2,4] float32) and z = argmax(y) int32: two outputs, like CovPoolFER."""
    w = helper.make_tensor("W", TensorProto.FLOAT, W.shape, W.reshape(-1).tolist())
    nodes = [helper.make_node("MatMul", ["x", "W"], ["y"]),
             helper.make_node("ArgMax", ["y"], ["z64"], axis=1, keepdims=0),
             helper.make_node("Cast", ["z64"], ["z"], to=TensorProto.INT32)]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3]),
                               helper.make_tensor_value_info("z", TensorProto.INT32, [2])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "tiny.onnx"
    onnx.save(model, str(path))
    return path


def _bins(tmp_path, n=3):
    d = tmp_path / "bins"
    d.mkdir()
    xs = []
    for i in range(n):
        x = np.random.default_rng(i).normal(size=(2, 4)).astype(np.float32)
        x.tofile(d / f"{i}.bin")
        xs.append(x)
    return d, xs


def test_directory_mode_writes_msame_files(tmp_path, tiny_onnx):
    d, xs = _bins(tmp_path, 11)
    lines = []
    res = run_portable(str(tiny_onnx), [str(d)], str(tmp_path / "out"), "BIN", echo=lines.append)
    names = sorted(os.listdir(res.output_dir))
    assert names == sorted(f"{i}_output_{k}.bin" for i in range(11) for k in range(2))
    for i, x in enumerate(xs):
        y = np.fromfile(res.output_dir / f"{i}_output_0.bin", np.float32).reshape(2, 3)
        np.testing.assert_allclose(y, x @ W, rtol=1e-6)
        z = np.fromfile(res.output_dir / f"{i}_output_1.bin", np.int32)
        assert (z == np.argmax(x @ W, 1)).all()
    text = "\n".join(lines)
    assert re.search(r"^Inference average time : \d+\.\d\d ms$", text, re.M)
    assert re.search(r"^Inference average time without first time: \d+\.\d\d ms$", text, re.M)
    assert "per image" in text and lines[-1] == "[INFO] Execute sample success"
    assert f"{tmp_path / 'out'}/{res.output_dir.name}" in lines  # the bare folder line


def test_txt_output_and_dtype_override(tmp_path, tiny_onnx):
    d, xs = _bins(tmp_path, 1)
    res = run_portable(str(tiny_onnx), [str(d)], str(tmp_path / "o"), "TXT",
                       output_dtypes=["float16", "int32"], echo=lambda s: None)
    txt = (res.output_dir / "0_output_0.txt").read_text()
    assert txt.count("\n") == 2
    vals = np.array(txt.split(), float).reshape(2, 3)
    np.testing.assert_allclose(vals, (xs[0] @ W).astype(np.float16), rtol=1e-5)
    assert (res.output_dir / "0_output_1.txt").read_text().count("\n") == 0
    res = run_portable(str(tiny_onnx), [str(d)], str(tmp_path / "o"), "BIN",
                       output_dtypes=["float16", "int32"], echo=lambda s: None)
    assert (res.output_dir / "0_output_0.bin").stat().st_size == 2 * 3 * 2  # float16 bytes


def test_file_mode_loop_and_prefix(tmp_path, tiny_onnx):
    d, xs = _bins(tmp_path, 1)
    res = run_portable(str(tiny_onnx), [str(d / "0.bin")], str(tmp_path / "o"), "BIN", loop=5,
                       timestamp="legacy", echo=lambda s: None)
    assert len(res.times_ms) == 5
    assert sorted(os.listdir(res.output_dir)) == ["tiny_output_0.bin", "tiny_output_1.bin"]
    assert re.fullmatch(r"\d{8}_\d{6}", res.output_dir.name)


def test_wrong_size_bin_is_rejected_with_its_name(tmp_path, tiny_onnx):
    d, _ = _bins(tmp_path, 2)
    np.zeros(7, np.float32).tofile(d / "1.bin")
    with pytest.raises(StageError, match=r"1\.bin: expected 32 bytes .* found 28 bytes"):
        run_portable(str(tiny_onnx), [str(d)], str(tmp_path / "o"), echo=lambda s: None)


def test_sidecar_orders_outputs(tmp_path, tiny_onnx):
    write_sidecar(tiny_onnx, ModelSpec([TensorSpec("x", [2, 4])],
                                       [TensorSpec("z", [2], "int32"), TensorSpec("y", [2, 3])]))
    d, xs = _bins(tmp_path, 1)
    res = run_portable(str(tiny_onnx), [str(d)], str(tmp_path / "o"), echo=lambda s: None)
    assert (res.output_dir / "0_output_0.bin").stat().st_size == 2 * 4  # z first now


def test_cli_exit_codes(tmp_path, tiny_onnx):
    d, _ = _bins(tmp_path, 1)
    ok = subprocess.run([sys.executable, "-m", "common.msame", "--model", str(tiny_onnx), "--input",
                         str(d), "--output", str(tmp_path / "o"), "--outfmt=TXT"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "Execute sample success" in ok.stdout
    om = subprocess.run([sys.executable, "-m", "common.msame", "--model", "x.om"],
                        capture_output=True, text=True, env={**os.environ, "PATH": "/nonexistent"})
    assert om.returncode == 1 and "msame is not installed" in om.stderr
    assert len(om.stderr.strip().splitlines()) == 1
    bad = subprocess.run([sys.executable, "-m", "common.msame", "--model", str(tiny_onnx), "--bogus", "1"],
                         capture_output=True, text=True)
    assert bad.returncode == 2
