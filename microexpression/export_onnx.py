"""Convert the exported model to ONNX with paddle2onnx and check it against Paddle.

    python -m microexpression.export_onnx --model infer/MicroExpression --output onnx/MicroExpression.onnx

No network is touched (paddle2onnx's polygraphy optimiser, which may pip-install at run time,
is off). ONNX Runtime and paddle.inference run the same random batch; the stage fails unless
they agree within --rtol (1e-4 relative to the largest logit). The .onnx also runs through
common.msame (`microexpression msame --model X.onnx --input bins/`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from common.cli import StageError, output_file, parser
from common.files import atomic_path


def convert(model_prefix: str, output: str | Path, opset_version: int = 11) -> Path:
    """Exported Paddle model (.json/.pdmodel + .pdiparams) -> .onnx, written atomically."""
    import paddle2onnx

    from common.backends import paddle_files

    _, graph, params = paddle_files(model_prefix)
    with atomic_path(output, suffix=".onnx") as tmp:
        paddle2onnx.export(str(graph), str(params), str(tmp), opset_version=opset_version,
                           enable_onnx_checker=True, optimize_tool="None")
    return Path(output)


def main(argv=None) -> dict:
    p = parser("microexpression onnx", __doc__.strip().splitlines()[0])
    p.add_argument("--model", default="infer/MicroExpression", help="export's prefix (.json/.pdmodel + .pdiparams)")
    p.add_argument("--output", type=output_file, default="onnx/MicroExpression.onnx")
    p.add_argument("--opset_version", type=int, default=11)
    p.add_argument("--image_shape", default="3,224,224", help="C,H,W of the check batch")
    p.add_argument("--rtol", type=float, default=1e-4)
    a = p.parse_args(argv)
    from common.backends import onnx_backend, paddle_backend

    convert(a.model, a.output, a.opset_version)
    shape = [int(v) for v in a.image_shape.split(",")]
    x = np.random.default_rng(0).normal(size=(2, *shape)).astype(np.float32)
    expected = paddle_backend(a.model)([x])[0]
    got = onnx_backend(a.output)([x])[0]
    err = float(np.max(np.abs(got - expected)) / max(np.max(np.abs(expected)), 1e-12))
    print(f"wrote {a.output} ({Path(a.output).stat().st_size / 1e6:.1f} MB, opset {a.opset_version}); "
          f"ONNX Runtime vs Paddle: max relative difference {err:.2e}")
    if err > a.rtol:
        raise StageError(f"{a.output}: expected ONNX Runtime to match Paddle within {a.rtol}, found {err:.2e}")
    return {"path": Path(a.output), "max_relative_difference": err}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
