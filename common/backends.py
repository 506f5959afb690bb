"""Model file -> backend: the one table that msame, the benchmarks and the demos run models through.

| model file | backend | framework loaded |
|---|---|---|
| `.pb` (+ sidecar `.json`) | TensorFlow frozen graph (`common.tf.graph`) | TensorFlow |
| `.onnx` | ONNX Runtime, CPU | none |
| `.json` or `.pdmodel` beside a `.pdiparams` (and `.spec.json`) | `paddle.inference`, CPU | Paddle (never beside TensorFlow) |
| `.om` | not loadable here: `common.msame` hands it to the real msame binary | none |

A backend is a loaded model: its ordered input/output specs and a forward function on NumPy
arrays. Each loader imports its framework only when called, so a process that runs an ONNX or
Paddle model never loads TensorFlow. To add one: write ``<name>_backend(path, spec, threads)``
returning a Backend, and add its suffix to ``LOADERS``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from common.cli import StageError
from common.modelspec import Backend, ModelSpec, TensorSpec, read_sidecar, read_spec

_ORT_TYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64",
              "tensor(int32)": "int32", "tensor(int64)": "int64", "tensor(uint8)": "uint8",
              "tensor(int8)": "int8", "tensor(bool)": "bool"}


def _dims(shape) -> list[int | None]:
    return [int(d) if isinstance(d, int) and d >= 0 else None for d in shape]


def match_name(name: str, available: list[str], model) -> str:
    """Map a spec name (``mu`` or ``mu:0``) onto the model's tensor names."""
    for candidate in (name, f"{name}:0", name.split(":")[0]):
        if candidate in available:
            return candidate
    raise StageError(f"{model}: expected a tensor named '{name}', found {available}")


def onnx_backend(model: str | os.PathLike, spec: ModelSpec | None = None, threads: int | None = None) -> Backend:
    """ONNX Runtime, on the GPU when onnxruntime-gpu sees one (the `gpu` extra), else the CPU; I/O
    names from the spec when given, else from the model."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    session = ort.InferenceSession(str(model), opts, providers=(["CUDAExecutionProvider"] if cuda else [])
                                   + ["CPUExecutionProvider"])
    model_spec = ModelSpec(
        [TensorSpec(i.name, _dims(i.shape), _ORT_TYPES.get(i.type, "float32")) for i in session.get_inputs()],
        [TensorSpec(o.name, _dims(o.shape), _ORT_TYPES.get(o.type, "float32")) for o in session.get_outputs()])
    spec = spec or model_spec
    in_names = [match_name(t.name, [i.name for i in model_spec.inputs], model) for t in spec.inputs]
    out_names = [match_name(t.name, [o.name for o in model_spec.outputs], model) for t in spec.outputs]

    def forward(arrays):
        return session.run(out_names, dict(zip(in_names, arrays, strict=True)))

    on_gpu = cuda and session.get_providers()[0] == "CUDAExecutionProvider"
    return Backend(f"onnxruntime {ort.__version__}" + (" (CUDA)" if on_gpu else ""), spec, forward)


def tf_backend(model: str | os.PathLike, spec: ModelSpec | None = None, threads: int | None = None) -> Backend:
    """A TensorFlow frozen graph (the threads are TensorFlow's own choice)."""
    from common.tf.graph import frozen_graph_backend

    return frozen_graph_backend(model, spec)


def paddle_files(model: str | os.PathLike) -> tuple[str, Path, Path]:
    """``infer/M``, ``infer/M.json`` or ``infer/M.pdmodel`` -> (prefix, graph file, weights file),
    checked: Paddle 3's ``.json`` program, else the legacy ``.pdmodel``, and ``.pdiparams``."""
    path = Path(model)
    prefix = str(path.with_suffix("")) if path.suffix in (".json", ".pdmodel", ".pdiparams") else str(path)
    graph = next((Path(prefix + s) for s in (".json", ".pdmodel") if Path(prefix + s).is_file()), None)
    if graph is None:
        raise StageError(f"{prefix}.json: expected an exported Paddle model (.json or .pdmodel), found nothing")
    if not Path(prefix + ".pdiparams").is_file():
        raise StageError(f"{prefix}.pdiparams: expected the exported weights, found nothing")
    return prefix, graph, Path(prefix + ".pdiparams")


def paddle_backend(model: str | os.PathLike, spec: ModelSpec | None = None, threads: int | None = None) -> Backend:
    """``paddle.inference`` on the CPU for an exported model (a prefix or its .json/.pdmodel)."""
    import paddle
    from paddle import inference

    prefix, graph, params = paddle_files(model)
    config = inference.Config(str(graph), str(params))
    config.disable_gpu()
    config.set_cpu_math_library_num_threads(threads or 2)
    config.disable_glog_info()
    predictor = inference.create_predictor(config)
    inputs, outputs = predictor.get_input_names(), predictor.get_output_names()
    model_spec = ModelSpec([TensorSpec(n, _dims(predictor.get_input_handle(n).shape()), "float32") for n in inputs],
                           [TensorSpec(n, [None], "float32") for n in outputs])
    if spec is None and Path(prefix + ".spec.json").is_file():
        # The predictor reports no shapes before a run; export's spec gives them, in I/O order.
        saved = read_spec(prefix + ".spec.json")
        spec = ModelSpec([TensorSpec(t.name, s.shape, s.dtype) for t, s in zip(model_spec.inputs, saved.inputs, strict=False)],
                         [TensorSpec(t.name, s.shape, s.dtype) for t, s in zip(model_spec.outputs, saved.outputs, strict=False)])
    spec = spec or model_spec
    in_names = [match_name(t.name, inputs, model) for t in spec.inputs]
    out_names = [match_name(t.name, outputs, model) for t in spec.outputs]

    def forward(arrays):
        for name, array in zip(in_names, arrays, strict=True):
            handle = predictor.get_input_handle(name)
            handle.reshape(list(array.shape))
            handle.copy_from_cpu(np.ascontiguousarray(array, np.float32))
        predictor.run()
        return [predictor.get_output_handle(n).copy_to_cpu() for n in out_names]

    return Backend(f"paddle.inference {paddle.__version__}", spec, forward)


LOADERS = {".pb": tf_backend, ".onnx": onnx_backend, ".json": paddle_backend, ".pdmodel": paddle_backend}


def backend_kind(model: str | os.PathLike) -> str:
    """The LOADERS key of a model file, or one line saying which files run where."""
    path = Path(model)
    suffix = path.suffix
    if suffix == ".json" and not path.with_suffix(".pdiparams").is_file():
        raise StageError(f"{path}: expected a model (.pb, .onnx, or Paddle's .json beside its .pdiparams), "
                         f"found a .json without .pdiparams (a sidecar spec is read beside its .pb)")
    if suffix not in LOADERS:
        raise StageError(f"{path}: expected a .om, .pb, .onnx, .json or .pdmodel model, found "
                         f"'{suffix or 'no suffix'}'")
    return suffix


def load_backend(model: str | os.PathLike, spec: ModelSpec | None = None, threads: int | None = None) -> Backend:
    """The backend for a model file, by LOADERS; the spec defaults to the sidecar .json of a .pb."""
    path = Path(model)
    if not path.is_file():
        raise StageError(f"{path}: expected a model file, found nothing")
    kind = backend_kind(path)
    if spec is None and kind in (".pb", ".onnx"):  # a Paddle model's .json is the model itself
        spec = read_sidecar(path)
    return LOADERS[kind](path, spec, threads)
