"""Paddle-Lite: paddle_lite_opt to a .nb for phones (the original's Android step), when available.

    python -m microexpression.lite --model_file infer/MicroExpression.pdmodel \
        --param_file infer/MicroExpression.pdiparams --optimize_out infer/ResNet \
        --optimize_out_type naive_buffer --valid_targets huawei_kirin_npu,arm

paddlelite has no wheel for Python 3.11, so usually this stage says so and points to the
ONNX route (`microexpression onnx`). With paddle_lite_opt on PATH (e.g. a Python 3.9 venv with
paddlelite==2.10) it runs the original command on the legacy .pdmodel (`export --legacy`),
after adding the XShape output Paddle 3 no longer writes for flatten_contiguous_range, which
Lite's opt requires.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from common.cli import StageError, output_file, parser


def add_flatten_xshape(src: Path, dst: Path) -> int:
    """Copy a legacy ProgramDesc, giving each flatten_contiguous_range an XShape output; returns
    how many ops were patched."""
    from paddle.base.proto import framework_pb2

    program = framework_pb2.ProgramDesc()
    program.ParseFromString(src.read_bytes())
    patched = 0
    for block in program.blocks:
        for op in block.ops:
            if op.type != "flatten_contiguous_range" or any(v.parameter == "XShape" for v in op.outputs):
                continue
            out = next(v for v in op.outputs if v.parameter == "Out").arguments[0]
            ref = next(v for v in block.vars if v.name == out)
            name = f"{out}.xshape"
            slot = op.outputs.add()
            slot.parameter = "XShape"
            slot.arguments.append(name)
            var = block.vars.add()
            var.CopyFrom(ref)
            var.name = name
            patched += 1
    dst.write_bytes(program.SerializeToString())
    return patched


def main(argv=None) -> dict:
    p = parser("microexpression lite", __doc__.strip().splitlines()[0])
    p.add_argument("--model_file", default="infer/MicroExpression.pdmodel", help="`export --legacy` graph")
    p.add_argument("--param_file", default="infer/MicroExpression.pdiparams")
    p.add_argument("--optimize_out", type=output_file, default="infer/ResNet", help="output prefix (.nb is added)")
    p.add_argument("--optimize_out_type", default="naive_buffer", choices=["naive_buffer", "protobuf"])
    p.add_argument("--valid_targets", default="arm", help="arm, or huawei_kirin_npu,arm for Kirin NPUs")
    a = p.parse_args(argv)
    opt = shutil.which("paddle_lite_opt")
    if opt is None:
        raise StageError("paddle_lite_opt: not found (paddlelite has no wheel for Python 3.11); use the ONNX route "
                         "(`microexpression onnx`, then ONNX Runtime or `microexpression msame`), or run this stage "
                         "in a Python <= 3.9 venv with `pip install paddlelite==2.10`")
    pdmodel, params = Path(a.model_file), Path(a.param_file)
    for f in (pdmodel, params):
        if not f.is_file():
            raise StageError(f"{f}: expected the legacy model (`microexpression export --legacy`), found nothing")
    patched_model = pdmodel.with_name(pdmodel.stem + ".lite.pdmodel")
    n = add_flatten_xshape(pdmodel, patched_model)
    cmd = [opt, f"--model_file={patched_model}", f"--param_file={params}", f"--optimize_out={a.optimize_out}",
           f"--optimize_out_type={a.optimize_out_type}", f"--valid_targets={a.valid_targets}"]
    print(f"patched {n} flatten op(s); running: {' '.join(cmd)}")
    proc = subprocess.run(cmd)
    if proc.returncode != 0 or not Path(a.optimize_out + ".nb").is_file():
        raise StageError(f"paddle_lite_opt failed (exit {proc.returncode}); no {a.optimize_out}.nb")
    print(f"wrote {a.optimize_out}.nb")
    return {"path": Path(a.optimize_out + ".nb"), "patched_flatten_ops": n}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
