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
