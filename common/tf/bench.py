"""TensorFlow side of `make bench`: FLOPs counted from a graph, TensorFlow's matmul rate, and
inference rows for a frozen graph (msame's portable backend) and its ONNX Runtime conversion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from common.bench import matmul_gflops, measure
from common.modelspec import TensorSpec


def graph_flops(graph) -> float:
    """Floating-point operations of one run of `graph` (a tf.Graph or GraphDef), as TensorFlow's
    profiler counts them from the ops' registered statistics (convolutions, matmuls, adds...)."""
    if isinstance(graph, tf.compat.v1.GraphDef):
        g = tf.Graph()
        with g.as_default():
            tf.compat.v1.import_graph_def(graph, name="")
        graph = g
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return float(tf.compat.v1.profiler.profile(graph, options=options).total_float_ops)


def function_flops(fn, *specs: tf.TensorSpec) -> float:
    """FLOPs of one call of a tf.function (e.g. a whole training step) at fixed input shapes."""
    return graph_flops(fn.get_concrete_function(*specs).graph)


def tf_matmul_gflops(n: int = 2048) -> float:
    """TensorFlow's float32 n×n matrix-multiply rate on its default device, GFLOP/s."""
    a, b = tf.random.normal((n, n)), tf.random.normal((n, n))
    return matmul_gflops(lambda: (a @ b).numpy(), n)


def device_name() -> str:
    gpus = tf.config.list_physical_devices("GPU")
    return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") if gpus else "CPU"


def inference_rows(model: str, serve, inputs: list[TensorSpec], outputs: list[str], batches, tmp: Path,
                   repeats: int, onnx: bool = True) -> list[dict]:
    """Freeze `serve` at each batch and time it through msame's portable backends: TensorFlow on
    the .pb, and ONNX Runtime on its tf2onnx conversion when `onnx` is set."""
    from common.backends import load_backend
    from common.tf.freeze import freeze, write_frozen
    from common.tf.onnx_export import export_onnx

    rows = []
    rng = np.random.default_rng(0)
    for batch in batches:
        specs = [TensorSpec(t.name, [batch, *t.shape[1:]], t.dtype) for t in inputs]
        graph_def, spec = freeze(serve, specs, outputs)
        pb = write_frozen(graph_def, spec, tmp / f"{model}_b{batch}.pb")
        flops = graph_flops(graph_def) / batch
        arrays = [rng.uniform(0, 1, t.shape).astype(t.dtype) for t in specs]
        paths = [pb]
        if onnx:
            paths.append(export_onnx(graph_def, spec, pb.with_suffix(".onnx")))
        for path in paths:
            backend = load_backend(path, spec)
            rows.append(measure(model, "inference", backend.name, batch, lambda b=backend, x=arrays: b(x), repeats,
                                flops))
    return rows


def result(rows: list[dict], quick: bool) -> dict:
    """A TensorFlow model's bench result: its rows plus TensorFlow's matmul rate on this device."""
    return {"framework": f"tensorflow {tf.__version__}", "device": device_name(),
            "matmul_gflops": tf_matmul_gflops(1024 if quick else 2048), "rows": rows}
