"""common.quantize and common.precision on a small ONNX model: the fp16 and int8 copies keep the
fp32 model's inputs and outputs, run through msame and are scored side by side."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from common import precision, quantize  # noqa: E402
from common.binio import write_bin  # noqa: E402
from common.modelspec import ModelSpec, TensorSpec, read_sidecar, write_sidecar  # noqa: E402


@pytest.fixture
def small_model(tmp_path):
    """x [1, 16] -> relu(x W1) W2 -> y [1, 4], float32, with its sidecar and 12 input bins."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(16, 32)).astype(np.float32), rng.normal(size=(32, 4)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
         helper.make_node("MatMul", ["r", "w2"], ["y"])], "small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = tmp_path / "small.onnx"
    onnx.save(model, str(path))
    write_sidecar(path, ModelSpec([TensorSpec("x", [1, 16], "float32")], [TensorSpec("y", [1, 4], "float32")]))
    for i in range(12):
        write_bin(tmp_path / "bins" / f"{i}.bin", rng.normal(size=(1, 16)).astype(np.float32))
    return path, tmp_path / "bins", (w1, w2)


def test_reduced_copies_keep_the_contract_and_compare_side_by_side(small_model, tmp_path):
    from common.binio import read_bin

    path, bins, (w1, w2) = small_model
    work = tmp_path / "work"
    models = precision.variants(path, work, bins, batches=6)
    assert [p.name for p in models.values()] == ["small.onnx", "small.fp16.onnx", "small.int8.onnx"]
    assert all(read_sidecar(p) == read_sidecar(path) for p in models.values())
    half = onnx.load(str(models["fp16"]))
    assert {i.type.tensor_type.elem_type for i in [*half.graph.input, *half.graph.output]} == {onnx.TensorProto.FLOAT}
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in half.graph.initializer)  # the weights are halved
    assert any(n.op_type == "QuantizeLinear" for n in onnx.load(str(models["int8"])).graph.node)

    expected = {i: np.maximum(read_bin(bins / f"{i}.bin", (1, 16), "float32") @ w1, 0) @ w2 for i in range(12)}

    def score(out):  # share of outputs within 5 % of the exact result
        got = {i: read_bin(out / f"{i}_output_0.bin", (1, 4), "float32") for i in range(12)}
        return {"acc": float(np.mean([np.allclose(got[i], expected[i], rtol=0.05, atol=0.05 * np.abs(expected[i]).max())
                                      for i in range(12)]))}

    rows = precision.compare("Small", models, bins, work, score)
    assert [r["precision"] for r in rows] == ["fp32", "fp16", "int8"]
    assert rows[0]["acc"] == 1.0 and rows[1]["acc"] == 1.0 and all(r["images"] == 12 for r in rows)
    table = precision.render(rows + [{"model": "Other", "precision": "fp32 only", "note": "no ONNX"}])
    assert "| Small | fp32 |" in table and "1.00x" in table and "| Other | fp32 only |" in table


def test_calibration_needs_the_models_bins(small_model, tmp_path):
    from common.cli import StageError

    path, _, _ = small_model
    (tmp_path / "empty").mkdir()
    with pytest.raises(StageError, match="for int8 calibration, found none"):
        quantize.calibration_feeds(tmp_path / "empty", read_sidecar(path), 4)


def test_a_nearly_constant_activation_falls_back_to_min_max_calibration(small_model, tmp_path, capsys):
    """A tensor whose values span almost nothing has no histogram to take a percentile of (ORT
    raises); int8 then calibrates on min/max instead of failing (a barely trained model has such
    tensors)."""
    from onnx import numpy_helper

    path, bins, _ = small_model
    model = onnx.load(str(path))
    for t in model.graph.initializer:
        if t.name == "w1":
            # relu(x w1) spread over ~1e-40 only: too narrow a range for 2048 histogram bins
            t.CopyFrom(numpy_helper.from_array(np.full((16, 32), 1e-41, np.float32), "w1"))
    onnx.save(model, str(tmp_path / "flat.onnx"))
    write_sidecar(tmp_path / "flat.onnx", read_sidecar(path))
    out = quantize.to_int8(tmp_path / "flat.onnx", tmp_path / "flat.int8.onnx",
                           quantize.calibration_feeds(bins, read_sidecar(path), 6))
    assert out.is_file() and read_sidecar(out) == read_sidecar(path)
    assert "calibrating on min/max instead" in capsys.readouterr().out
