"""atc (Ascend Tensor Compiler) wrapper: the original command line, or a portable artefact.

With ``atc`` on PATH the exact command runs (success = exit 0, "ATC run success" printed and
the .om written). Without it the command is printed, the .pb is checked against its sidecar,
and, where every op converts, an .onnx is written with tf2onnx; otherwise the .pb itself is the
portable artefact that ``common.msame`` runs. --precision_mode allow_fp32_to_fp16 / force_fp16
also writes OUTPUT.fp16.onnx beside it, and --precision_mode int8 (ours: atc itself has none)
OUTPUT.int8.onnx, calibrated on --calibration_dir's .bin inputs (common.quantize).

Usage: python -m common.atc --model=CovPoolFER.pb --framework=3 --output=CovPoolFER \\
           --soc_version=Ascend310 --input_shape="inputImage:128,100,100,3" --out_nodes="output:0"
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from common.cli import StageError, output_file, parser, positive_int


def build_argv(model: str, output: str, soc_version: str = "Ascend310", input_shape: str | None = None,
               out_nodes: str | None = None, precision_mode: str | None = None,
               op_select_implmode: str | None = None, fusion_switch_file: str | None = None,
               log: str | None = None, framework: int = 3, exe: str = "atc") -> list[str]:
    """atc's argv as a list (no shell quoting needed), flags in the original scripts' order."""
    argv = [exe, f"--model={model}", f"--framework={framework}", f"--output={output}",
            f"--soc_version={soc_version}"]
    optional = [("input_shape", input_shape), ("log", log), ("out_nodes", out_nodes),
                ("precision_mode", precision_mode), ("op_select_implmode", op_select_implmode),
                ("fusion_switch_file", fusion_switch_file)]
    argv += [f"--{k}={v}" for k, v in optional if v]
    return argv


def parse_input_shape(text: str) -> dict[str, list[int]]:
    """``"input:1,112,96,3;x:2,3"`` -> {'input': [1, 112, 96, 3], 'x': [2, 3]}."""
    shapes = {}
    for item in filter(None, (s.strip() for s in text.split(";"))):
        name, _, dims = item.rpartition(":")
        try:
            shapes[name] = [int(d) for d in dims.split(",")]
        except ValueError:
            raise StageError(f"--input_shape: expected 'name:n,h,w,c', found '{item}'") from None
    return shapes


@dataclass
class AtcResult:
    artefact: Path  # the .om, or the portable .onnx / .pb
    ran_atc: bool
    command: str
    reduced: Path | None = None  # the portable fp16 / int8 .onnx written beside it


def run_atc(argv: list[str], output: str, echo=print) -> AtcResult:
    """Run real atc in a scratch folder (it writes kernel_meta and logs to its CWD)."""
    command = shlex.join(argv)
    echo(command)
    with tempfile.TemporaryDirectory(prefix="atc_") as cwd:
        abs_argv = [argv[0]] + [_absolute_flag(a) for a in argv[1:]]
        proc = subprocess.run(abs_argv, cwd=cwd, capture_output=True, text=True)
    sys.stdout.write(proc.stdout)
    om = Path(output + ".om")
    if proc.returncode != 0 or "ATC run success" not in proc.stdout or not om.is_file():
        lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
        raise StageError(f"atc failed (exit {proc.returncode}): {lines[-1] if lines else 'no output'}")
    return AtcResult(om, True, command)


def _absolute_flag(arg: str) -> str:
    key, _, value = arg.partition("=")
    if key in ("--model", "--output", "--fusion_switch_file") and value:
        return f"{key}={Path(value).resolve()}"
    return arg


def convert(model: str, output: str, soc_version: str = "Ascend310", input_shape: str | None = None,
            out_nodes: str | None = None, precision_mode: str | None = None,
            op_select_implmode: str | None = None, fusion_switch_file: str | None = None,
            log: str | None = None, onnx: bool = True, echo=print, calibration_dir: str | None = None,
            calibration_batches: int = 64, seed: int = 0) -> AtcResult:
    """atc when installed; otherwise check the .pb and write the portable artefact."""
    if output.endswith("/") or output.endswith(".om"):
        raise StageError(f"--output: expected a path without '.om' (atc appends it), found '{output}'")
    if precision_mode == "int8" and not calibration_dir:
        raise StageError("--precision_mode int8: expected --calibration_dir with the model's .bin inputs, found none")
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    argv = build_argv(model, output, soc_version, input_shape, out_nodes, precision_mode,
                      op_select_implmode, fusion_switch_file, log)
    if shutil.which("atc"):
        if precision_mode == "int8":
            raise StageError("--precision_mode int8: atc has no such mode (Ascend quantizes with AMCT); without "
                             "atc on PATH this writes a portable int8 .onnx")
        return run_atc(argv, output, echo)
    command = shlex.join(argv)
    echo(command)
    echo("atc is not installed (no Ascend toolkit on PATH): checking the .pb and writing the "
         "portable artefact for common.msame instead")
    result = portable_artefact(model, output, input_shape, out_nodes, onnx, command, echo)
    if precision_mode in ("allow_fp32_to_fp16", "force_fp16", "int8"):
        result.reduced = reduced_precision(result.artefact, output, precision_mode, calibration_dir,
                                           calibration_batches, seed, echo)
    return result


def reduced_precision(artefact: Path, output: str, mode: str, calibration_dir, batches: int, seed: int,
                      echo=print) -> Path | None:
    """The fp16 or int8 .onnx beside the fp32 one; none when the portable artefact is a .pb."""
    from common import quantize
    from common.modelspec import read_sidecar

    if artefact.suffix != ".onnx":
        echo(f"[INFO] --precision_mode {mode}: the portable artefact is a TensorFlow graph (no ONNX), which has no "
             f"reduced-precision form here; it stays fp32")
        return None
    if mode == "int8":
        feeds = quantize.calibration_feeds(calibration_dir, read_sidecar(artefact), batches, seed)
        path = quantize.to_int8(artefact, output + ".int8.onnx", feeds)
        echo(f"[INFO] wrote {path} (int8, QDQ, calibrated on {len(feeds)} batch(es) of {calibration_dir})")
    else:
        path = quantize.to_fp16(artefact, output + ".fp16.onnx", mode)
        echo(f"[INFO] wrote {path} ({mode}: float16 weights and ops, inputs and outputs as the fp32 model)")
    return path


def portable_artefact(model, output, input_shape, out_nodes, onnx, command, echo) -> AtcResult:
    from common.modelspec import ModelSpec, TensorSpec, read_sidecar, write_sidecar
    from common.tf.graph import check_against_sidecar, describe_graph, load_graph_def

    graph_def = load_graph_def(model)
    spec = read_sidecar(model)
    if spec is None:
        spec = describe_graph(graph_def)
        echo(f"[WARN] {model}: no sidecar .json; inputs/outputs read from the graph")
    check_against_sidecar(model, spec, graph_def)
    if input_shape:  # the atc line fixes the input shapes, as the om would
        shapes = parse_input_shape(input_shape)
        unknown = sorted(set(shapes) - {t.name for t in spec.inputs})
        if unknown:
            raise StageError(f"--input_shape: expected input nodes {[t.name for t in spec.inputs]}, "
                             f"found {unknown}")
        for t in spec.inputs:  # a fixed dimension of the graph cannot be changed by the atc line
            asked = shapes.get(t.name)
            if asked is not None and (len(asked) != len(t.shape) or any(
                    d not in (None, -1) and d != a for d, a in zip(t.shape, asked, strict=False))):
                raise StageError(f"--input_shape: expected {t.name} to fit the graph's "
                                 f"{[d if d not in (None, -1) else -1 for d in t.shape]}, found {asked} "
                                 f"(freeze the graph again with that batch size, e.g. ckpt2pb --batch_size)")
        spec.inputs = [TensorSpec(t.name, shapes.get(t.name, t.shape), t.dtype) for t in spec.inputs]
    if out_nodes:  # --out_nodes fixes the output order (msame's _output_k)
        by_name = {t.name: t for t in spec.outputs}
        order = [s.strip().rsplit(":", 1)[0] for s in out_nodes.split(";") if s.strip()]
        missing = [n for n in order if n not in by_name]
        if missing:
            raise StageError(f"--out_nodes: expected nodes among {sorted(by_name)}, found {missing}")
        spec.outputs = [by_name[n] for n in order]
    if onnx:
        from common.tf.onnx_export import export_onnx, unsupported_ops

        missing = unsupported_ops(graph_def)
        if not missing:
            path = export_onnx(graph_def, spec, output + ".onnx")
            write_sidecar(path, spec)
            echo(f"[INFO] wrote {path} (run it with: python -m common.msame --model {path} ...)")
            return AtcResult(path, False, command)
        echo(f"[INFO] ONNX not written: ops without a tf2onnx converter: {', '.join(missing)}; "
             f"the checked .pb is the portable artefact")
    pb = Path(model)
    write_sidecar(pb, ModelSpec(spec.inputs, spec.outputs))
    echo(f"[INFO] portable artefact: {pb} (run it with: python -m common.msame --model {pb} ...)")
    return AtcResult(pb, False, command)


def build_parser(prog: str = "atc", model: str | None = None, output: str | None = None, **defaults):
    """atc's flags; a model's wrapper passes its original line's values as defaults."""
    p = parser(prog, __doc__.strip().splitlines()[0])
    p.add_argument("--model", required=model is None, default=model, help="frozen TensorFlow graph (.pb)")
    p.add_argument("--framework", type=int, default=3, choices=[3], help="3 = TensorFlow")
    p.add_argument("--output", type=output_file, required=output is None, default=output, help="output path without .om")
    p.add_argument("--soc_version", default="Ascend310")
    p.add_argument("--input_shape", default=None, help='e.g. "inputImage:128,100,100,3"')
    p.add_argument("--out_nodes", default=None, help='e.g. "mu:0;sigma_sq:0" (sets output order)')
    p.add_argument("--precision_mode", default=None,
                   choices=["force_fp16", "allow_fp32_to_fp16", "must_keep_origin_dtype",
                            "allow_mix_precision", "force_fp32", "int8"],
                   help="atc's; without atc, fp16 modes also write OUTPUT.fp16.onnx and int8 (ours) OUTPUT.int8.onnx")
    p.add_argument("--calibration_dir", default=None, help="int8: the model's .bin inputs to calibrate on")
    p.add_argument("--calibration_batches", type=positive_int, default=64,
                   help="int8: .bin batches drawn for calibration (one image each for batch-1 models)")
    p.add_argument("--seed", type=int, default=0, help="int8: which calibration batches are drawn")
    p.add_argument("--op_select_implmode", default=None, choices=["high_precision", "high_performance"])
    p.add_argument("--fusion_switch_file", default=None)
    p.add_argument("--log", default=None, choices=["debug", "info", "warning", "error", "null"])
    p.add_argument("--no_onnx", action="store_true", help="portable mode: keep the .pb, skip tf2onnx")
    p.set_defaults(**defaults)
    return p


def main(argv=None, arg_parser=None) -> AtcResult:
    a = (arg_parser or build_parser()).parse_args(argv)
    return convert(a.model, a.output, a.soc_version, a.input_shape, a.out_nodes, a.precision_mode,
                   a.op_select_implmode, a.fusion_switch_file, a.log, onnx=not a.no_onnx,
                   calibration_dir=a.calibration_dir, calibration_batches=a.calibration_batches, seed=a.seed)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
