"""Freeze a TF2 function into a GraphDef whose input and output nodes carry fixed names."""

from __future__ import annotations

import os
from pathlib import Path

import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from common.files import write_bytes_atomic
from common.modelspec import ModelSpec, TensorSpec, write_sidecar


def freeze(fn, inputs: list[TensorSpec], output_names: list[str]):
    """Trace ``fn(*inputs) -> tuple of tensors`` and return (GraphDef, ModelSpec).

    Each input becomes a Placeholder named as its spec; each output an Identity node named
    ``output_names[k]``, so the atc line (``--out_nodes="mu:0;sigma_sq:0"``) finds them.
    """
    signature = [tf.TensorSpec(t.shape, tf.as_dtype(t.dtype), name=t.name) for t in inputs]

    @tf.function(input_signature=signature)
    def serve(*args):
        outs = fn(*args)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        return [tf.identity(o, name=n) for o, n in zip(outs, output_names, strict=True)]

    concrete = serve.get_concrete_function()
    frozen = convert_variables_to_constants_v2(concrete)
    graph_def = frozen.graph.as_graph_def()
    # The function wrapper adds Identity nodes named 'Identity', 'Identity_1'...; ours keep names.
    node_names = {n.name for n in graph_def.node}
    missing = [n for n in output_names if n not in node_names]
    if missing:
        raise RuntimeError(f"frozen graph lost output nodes {missing}")
    outputs = [TensorSpec(n, t.shape.as_list(), t.dtype.name)
               for n, t in zip(output_names, concrete.structured_outputs, strict=True)]
    return graph_def, ModelSpec(list(inputs), outputs)


def write_frozen(graph_def, spec: ModelSpec, path: str | os.PathLike) -> Path:
    """Write the .pb and its sidecar .json atomically; returns the .pb path."""
    path = Path(path)
    write_bytes_atomic(path, graph_def.SerializeToString())
    write_sidecar(path, spec)
    return path


def freeze_checkpoint(fn, inputs: list[TensorSpec], output_names: list[str], path: str | os.PathLike,
                      prefix: str, about: str = "") -> dict:
    """What every ckpt2pb does once it has restored its model: freeze ``fn``, write the .pb and
    its sidecar, and say in one line what was written from which checkpoint."""
    graph_def, spec = freeze(fn, inputs, output_names)
    path = write_frozen(graph_def, spec, path)
    ios = ", ".join(f"{t.name} {t.shape} {t.dtype}" for t in spec.outputs)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB{', ' + about if about else ''}) from {prefix}: "
          f"{spec.inputs[0].name} {spec.inputs[0].shape} -> {ios}")
    return {"path": path, "spec": spec, "checkpoint": prefix}
