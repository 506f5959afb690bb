"""Frozen graph -> ONNX with tf2onnx, naming every op that does not convert."""

from __future__ import annotations

import os
from pathlib import Path

from common.cli import StageError
from common.files import atomic_path
from common.modelspec import ModelSpec


def unsupported_ops(graph_def, opset: int = 17) -> list[str]:
    """TF op types in ``graph_def`` that tf2onnx has no handler for at ``opset``."""
    import tf2onnx.onnx_opset  # noqa: F401  (importing registers the op handlers)
    from tf2onnx.handler import tf_op

    known = set(tf_op.create_mapping(opset, None))
    ignored = {"Placeholder", "Const", "NoOp", "PlaceholderWithDefault", "Identity"}
    return sorted({n.op for n in graph_def.node} - known - ignored)


def export_onnx(graph_def, spec: ModelSpec, path: str | os.PathLike, opset: int = 17) -> Path:
    """Convert with tf2onnx; fail with one line listing the ops that do not convert."""
    import tf2onnx

    missing = unsupported_ops(graph_def, opset)
    if missing:
        raise StageError(f"{path}: ONNX export not possible, these ops do not convert: {', '.join(missing)}")
    path = Path(path)
    with atomic_path(path) as tmp:
        tf2onnx.convert.from_graph_def(
            graph_def,
            input_names=[f"{t.name}:0" for t in spec.inputs],
            output_names=[f"{t.name}:0" for t in spec.outputs],
            opset=opset,
            output_path=str(tmp),
        )
    return path
