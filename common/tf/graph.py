"""Frozen GraphDefs: load, describe (inputs/outputs) and run them as msame's portable backend."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from common.cli import StageError
from common.modelspec import Backend, ModelSpec, TensorSpec

_SKIP_OUTPUT_OPS = {"Const", "NoOp", "Placeholder", "Assert", "VarHandleOp"}


def load_graph_def(path: str | os.PathLike) -> tf.compat.v1.GraphDef:
    p = Path(path)
    if not p.is_file():
        raise StageError(f"{p}: expected a frozen graph (.pb), found nothing")
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(p.read_bytes())
    except Exception as err:  # protobuf raises DecodeError, a bare Exception subclass
        raise StageError(f"{p}: expected a serialized GraphDef, found unparsable bytes ({err})") from None
    if not graph_def.node:
        raise StageError(f"{p}: expected a frozen graph, found a GraphDef with no nodes")
    return graph_def


def _shape_of(attr) -> list[int | None]:
    if attr.shape.unknown_rank:
        return []
    return [d.size if d.size >= 0 else None for d in attr.shape.dim]


def describe_graph(graph_def) -> ModelSpec:
    """Placeholders as inputs; nodes nobody consumes (not Const/NoOp) as outputs."""
    consumed = {i.split(":")[0].lstrip("^") for n in graph_def.node for i in n.input}
    inputs = [TensorSpec(n.name, _shape_of(n.attr["shape"]), tf.dtypes.as_dtype(n.attr["dtype"].type).name)
              for n in graph_def.node if n.op == "Placeholder"]
    outputs = [n.name for n in graph_def.node
               if n.name not in consumed and n.op not in _SKIP_OUTPUT_OPS]
    graph = _import(graph_def)
    out_specs = []
    for name in outputs:
        t = graph.get_tensor_by_name(f"{name}:0")
        dims = t.shape.as_list() if t.shape.rank is not None else []
        out_specs.append(TensorSpec(name, dims, t.dtype.name))
    return ModelSpec(inputs, out_specs)


def _import(graph_def) -> tf.Graph:
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    return graph


def frozen_function(graph_def, input_names: list[str], output_names: list[str]):
    """A callable TF function of the frozen graph, pruned to the named inputs and outputs."""
    def _imports():
        tf.compat.v1.import_graph_def(graph_def, name="")

    wrapped = tf.compat.v1.wrap_function(_imports, [])
    g = wrapped.graph

    def tensor(name):
        return g.as_graph_element(name if ":" in name else f"{name}:0")

    try:
        return wrapped.prune([tensor(n) for n in input_names], [tensor(n) for n in output_names])
    except (KeyError, ValueError) as err:
        raise StageError(f"frozen graph: expected tensors {input_names} -> {output_names}, "
                         f"found an error ({err})") from None


def frozen_graph_backend(path: str | os.PathLike, spec: ModelSpec | None = None):
    """msame's portable backend for a .pb: TensorFlow executes the pruned frozen graph."""
    graph_def = load_graph_def(path)
    spec = spec or describe_graph(graph_def)
    fn = frozen_function(graph_def, [t.name for t in spec.inputs], [t.name for t in spec.outputs])

    def forward(arrays):
        outs = fn(*[tf.constant(a) for a in arrays])
        return [np.asarray(o) for o in outs]

    return Backend(f"tensorflow {tf.__version__} frozen graph", spec, forward)


def check_against_sidecar(path: str | os.PathLike, spec: ModelSpec, graph_def=None) -> ModelSpec:
    """Fail with one line when the .pb's inputs/outputs do not match its sidecar spec."""
    graph_def = graph_def if graph_def is not None else load_graph_def(path)
    graph = describe_graph(graph_def)
    have_in = {t.name: t for t in graph.inputs}
    for t in spec.inputs:
        if t.name not in have_in:
            raise StageError(f"{path}: expected input node '{t.name}' (from the sidecar), "
                             f"found inputs {sorted(have_in)}")
        found = have_in[t.name].shape
        if found and any(a is not None and b is not None and a != b
                         for a, b in zip(found, t.shape, strict=False)):
            raise StageError(f"{path}: expected input '{t.name}' of shape {t.shape}, found {found}")
    names = {n.name for n in graph_def.node}
    for t in spec.outputs:
        if t.name.split(":")[0] not in names:
            raise StageError(f"{path}: expected output node '{t.name}' (from the sidecar), not in the graph")
    return graph
