"""The benchmark's measuring parts: FLOPs counted from graphs, peak memory, the docs table."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from common.bench import TABLE_HEADER, format_row, onnx_flops

ROOT = Path(__file__).resolve().parents[2]


def _conv_dense_onnx(path, batch=2):
    w = numpy_helper.from_array(np.zeros((8, 3, 3, 3), np.float32), "W")
    b = numpy_helper.from_array(np.zeros((10, 8 * 30 * 30), np.float32), "B")  # Gemm with transB
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "W"], ["c"]), helper.make_node("Flatten", ["c"], ["f"]),
         helper.make_node("Gemm", ["f", "B"], ["y"], transB=1)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w, b])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return batch * (2 * 30 * 30 * 8 * 27 + 2 * 10 * 7200)


def test_onnx_flops_count_conv_and_gemm_multiply_adds(tmp_path):
    expected = _conv_dense_onnx(tmp_path / "m.onnx")
    assert onnx_flops(tmp_path / "m.onnx") == expected


def test_tf_graph_flops_agree_with_the_onnx_count(tmp_path):
    tf = pytest.importorskip("tensorflow")
    from common.tf.bench import function_flops

    model = tf.keras.Sequential([tf.keras.Input((32, 32, 3)), tf.keras.layers.Conv2D(8, 3, use_bias=False),
                                 tf.keras.layers.Flatten(), tf.keras.layers.Dense(10, use_bias=False)])
    forward = tf.function(lambda x: model(x))
    expected = _conv_dense_onnx(tmp_path / "m.onnx")
    assert function_flops(forward, tf.TensorSpec([2, 32, 32, 3])) == pytest.approx(expected, rel=0.01)


def test_peak_memory_sees_a_large_allocation():
    """In a small fresh process: a test worker that has run TensorFlow frees memory in the
    background, so its resident size can fall below the reset peak and hide part of the block."""
    code = ("import numpy as np\nfrom common.bench import peak_rss_mib, reset_peak_rss\n"
            "reset = reset_peak_rss()\nbefore = peak_rss_mib()\n"
            "block = np.ones(64 * 2**20, np.uint8)  # 64 MiB, touched\n"
            "print(reset, peak_rss_mib() - before)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    reset, grown = r.stdout.split()
    if reset != "True":
        pytest.skip("this kernel cannot reset the peak resident size")
    assert float(grown) > 48


def test_docs_table_replaced_between_markers_and_the_rest_kept():
    spec = importlib.util.spec_from_file_location("bench_script", ROOT / "scripts" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    row = dict(model="M", kind="inference", backend="b", batch=4, ms_batch=8.0, ms_image=2.0, images_s=500.0,
               peak_mib=100.0, gflop_image=1.0, gflops=500.0)
    table = TABLE_HEADER + "\n" + format_row(row, 1000.0) + "\n"
    assert "| 50% |" in table
    first = bench.with_table(None, table)
    assert "2.902 s" in first and table in first  # the published figures come with a new file
    edited = first.replace("# Benchmarks", "# Benchmarks\n\nBefore/after notes written by hand.")
    again = bench.with_table(edited, table.replace("| M |", "| N |"))
    assert "Before/after notes written by hand." in again and "| N |" in again and "| M |" not in again
