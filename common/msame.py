"""msame-compatible runner: the real msame for .om, the portable backends (common.backends) otherwise.

Same flags as Ascend's msame (``--model --input --output --outfmt --loop --device --debug``,
``--k v`` or ``--k=v``). Output files are byte for byte msame's: one timestamp folder per run,
``<stem>_output_<k>.txt|bin``, TXT as C++ ``%g`` with one space after every value and a newline
after each innermost row (none for 1-D outputs), BIN as raw bytes of the output dtype.
Unlike msame, every error is one ``[ERROR]`` line and a non-zero exit status.

Usage: python -m common.msame --model CovPoolFER.pb --input bins/ --output out/ --outfmt TXT
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from common.backends import load_backend
from common.cli import StageError, output_dir, parser
from common.cpu_tuning import use_onednn_in_tensorflow
from common.files import write_bytes_atomic
from common.modelspec import Backend, ModelSpec, TensorSpec

# ---------------------------------------------------------------------------- output formats


def msame_timestamp(now: datetime | None = None, style: str = "current") -> str:
    """The timestamp folder name: msame's unpadded current style or the legacy %Y%m%d_%H%M%S."""
    now = now or datetime.now()
    if style == "legacy":
        return now.strftime("%Y%m%d_%H%M%S")
    return (f"{now.year}{now.month}{now.day}_{now.hour}_{now.minute}_{now.second}"
            f"_{now.microsecond}")


def _g(value: float) -> str:
    """C++ ``ostream << float`` with default flags: %g, 6 significant digits, -nan kept."""
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    return "%g" % value


def format_txt(array: np.ndarray) -> bytes:
    """msame's TXT rule: a space after each value, a newline per innermost row when ndim >= 2."""
    a = np.asarray(array)
    if a.dtype in (np.int8, np.uint8):
        # msame streams 8-bit outputs as chars: raw bytes, not numbers (a quirk kept on purpose).
        values = [bytes([int(v) & 0xFF]) + b" " for v in a.reshape(-1).tolist()]
    elif a.dtype.kind == "f":
        values = [(_g(v) + " ").encode() for v in a.astype(np.float64).reshape(-1).tolist()]
    elif a.dtype.kind == "b":
        values = [b"1 " if v else b"0 " for v in a.reshape(-1).tolist()]
    else:
        values = [f"{int(v)} ".encode() for v in a.reshape(-1).tolist()]
    if a.ndim < 2 or a.shape[-1] == 0:
        return b"".join(values)
    row = a.shape[-1]
    return b"".join(b"".join(values[i:i + row]) + b"\n" for i in range(0, len(values), row))


def write_output(path: Path, array: np.ndarray, txt: bool) -> None:
    """Write one output file (atomically) in msame's TXT or BIN format."""
    data = format_txt(array) if txt else np.ascontiguousarray(array).tobytes()
    write_bytes_atomic(path, data)


# ---------------------------------------------------------------------------- running


@dataclass
class MsameResult:
    """Where outputs went, the per-execute times (ms) of one run and what ran the model."""
    output_dir: Path
    times_ms: list[float] = field(default_factory=list)
    batch: int = 1
    stdout: str = ""
    runtime: str = "msame"

    @property
    def average_ms(self) -> float:
        return float(np.mean(self.times_ms)) if self.times_ms else float("nan")

    @property
    def average_without_first_ms(self) -> float:
        return float(np.mean(self.times_ms[1:])) if len(self.times_ms) > 1 else float("nan")


def _resolve_input_shape(t: TensorSpec, nbytes: int, path: Path) -> list[int]:
    """The input shape for a file of ``nbytes``, inferring a dynamic batch dimension."""
    shape = list(t.shape)
    item = t.np_dtype.itemsize
    if shape and shape[0] in (None, -1) and all(d not in (None, -1) for d in shape[1:]):
        per = int(np.prod(shape[1:], dtype=np.int64)) * item
        if per and nbytes % per == 0 and nbytes > 0:
            shape[0] = nbytes // per
            return shape
    want = t.nbytes()
    if want is None:
        raise StageError(f"{path}: input '{t.name}' has unknown dims {t.shape}; "
                         f"write a sidecar .json with the full shape")
    if want != nbytes:
        raise StageError(f"{path}: expected {want} bytes for input '{t.name}' "
                         f"({t.dtype} {tuple(shape)}), found {nbytes} bytes")
    return shape


def _read_input(path: Path, t: TensorSpec) -> np.ndarray:
    if not path.is_file():
        raise StageError(f"{path}: expected an input .bin file, found nothing")
    nbytes = path.stat().st_size
    if nbytes == 0:
        raise StageError(f"{path}: expected {t.nbytes() or 'non-zero'} bytes, found an empty file")
    shape = _resolve_input_shape(t, nbytes, path)
    return np.fromfile(path, dtype=t.np_dtype).reshape(shape)


def _cast_outputs(outputs: list[np.ndarray], spec: ModelSpec, overrides: list[str]) -> list[np.ndarray]:
    dtypes = [o.dtype for o in spec.outputs]
    if overrides:
        if len(overrides) == 1:
            dtypes = overrides * len(outputs)
        elif len(overrides) == len(outputs):
            dtypes = overrides
        else:
            raise StageError(f"--output_dtype: expected 1 or {len(outputs)} dtypes, "
                             f"found {len(overrides)}")
    return [np.asarray(o).astype(d, copy=False) for o, d in zip(outputs, dtypes, strict=True)]


def model_stem(model: str) -> str:
    """msame's file-mode prefix: text between the last '/' and the last '.' of --model."""
    base = model.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


def run_portable(model: str, inputs: list[str], output: str, outfmt: str = "BIN", loop: int = 1,
                 timestamp: str = "current", output_dtypes: list[str] | None = None,
                 debug: bool = False, echo=print, backend: Backend | None = None) -> MsameResult:
    """Run a .pb/.onnx model over msame-style inputs and write msame-style outputs."""
    if not 1 <= loop <= 100:
        raise StageError(f"--loop: expected 1 to 100, found {loop}")
    backend = backend or load_backend(model)
    spec = backend.spec
    echo(f"[INFO] load model {model} success (portable backend: {backend.name})")
    if debug:
        _print_description(spec, echo)
    txt = outfmt == "TXT"  # msame: only the exact string TXT gives text

    out_root = Path(output)
    out_root.mkdir(parents=True, exist_ok=True)
    ts_dir = out_root / msame_timestamp(style=timestamp)
    while ts_dir.exists():  # two runs within one microsecond/second: never mix outputs
        time.sleep(0.001 if timestamp == "current" else 1.0)
        ts_dir = out_root / msame_timestamp(style=timestamp)
    # Outputs go to a hidden folder renamed at the end: a failed run leaves no partial folder.
    partial = out_root / f".{ts_dir.name}.partial"
    partial.mkdir()
    try:
        echo("[INFO] create model output success")
        echo(f"{output}/{ts_dir.name}")

        result = MsameResult(ts_dir, runtime=backend.name)
        n_in = len(spec.inputs)
        directory_mode = bool(inputs) and ".bin" not in inputs[0]
        if inputs and len(inputs) != n_in:
            raise StageError(f"--input: the model has {n_in} input(s) {[t.name for t in spec.inputs]}, "
                             f"found {len(inputs)} item(s)")

        warned = []

        def execute(arrays, names=("the inputs",)):
            for a, name in zip(arrays, names, strict=False):
                if not warned and np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all():
                    echo(f"[WARN] {name}: expected finite numbers, found NaN or inf (the outputs are unreliable)")
                    warned.append(name)
            start = time.perf_counter()
            outs = backend(arrays)
            ms = (time.perf_counter() - start) * 1000.0
            echo("[INFO] model execute success")
            echo(f"Inference time: {_g(ms)}ms")
            result.times_ms.append(ms)
            return _cast_outputs(outs, spec, output_dtypes or [])

        if directory_mode:
            dirs = [Path(d) for d in inputs]
            for d in dirs:
                if not d.is_dir():
                    raise StageError(f"{d}: expected a folder of .bin files or a file ending in '.bin', "
                                     f"found {'a file' if d.exists() else 'nothing'}")
            names = sorted(n for n in os.listdir(dirs[0]) if not n.startswith("."))
            if not names:
                raise StageError(f"{dirs[0]}: expected .bin input files, found an empty folder")
            for name in names:
                if "." not in name or not (dirs[0] / name).is_file():
                    raise StageError(f"{dirs[0] / name}: expected a '<stem>.bin' file, found "
                                     f"{'a folder' if (dirs[0] / name).is_dir() else 'a name without extension'}")
            for name in names:
                paths = [d / name for d in dirs]
                for p in paths:
                    echo(f"[INFO] start to process file:{p}")
                arrays = [_read_input(p, t) for p, t in zip(paths, spec.inputs, strict=True)]
                outs = execute(arrays, [str(p) for p in paths])
                stem = name[:name.rfind(".")]
                for k, out in enumerate(outs):
                    write_output(partial / f"{stem}_output_{k}.{'txt' if txt else 'bin'}", out, txt)
                echo("[INFO] output data success")
            echo(f"Inference average time : {result.average_ms:.2f} ms")
            if len(result.times_ms) > 1:
                echo(f"Inference average time without first time: {result.average_without_first_ms:.2f} ms")
        else:
            if inputs:
                arrays = []
                for p, t in zip(inputs, spec.inputs, strict=True):
                    echo(f"[INFO] start to process file:{p}")
                    arrays.append(_read_input(Path(p), t))
            else:
                arrays = [np.zeros([d if d not in (None, -1) else 1 for d in t.shape], t.np_dtype)
                          for t in spec.inputs]
            for _ in range(loop):
                outs = execute(arrays, inputs or ["zeros"])
            stem = model_stem(model)
            for k, out in enumerate(outs):
                write_output(partial / f"{stem}_output_{k}.{'txt' if txt else 'bin'}", out, txt)
            echo("[INFO] output data success")
            echo(f"Inference average time: {result.average_ms:f} ms")
            if loop > 1:
                echo(f"Inference average time without first time: {result.average_without_first_ms:f} ms")
        result.batch = int(arrays[0].shape[0]) if arrays and arrays[0].ndim else 1
        per_image = (result.average_without_first_ms if len(result.times_ms) > 1 else result.average_ms)
        echo(f"Inference average time per image : {per_image / max(result.batch, 1):.4f} ms "
             f"(batch {result.batch}, {1000.0 * result.batch / per_image:.1f} images/s)")
        echo("[INFO] unload model success")
        echo("[INFO] Execute sample success")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    os.replace(partial, ts_dir)
    return result


def _print_description(spec: ModelSpec, echo) -> None:
    echo(f"[DEBUG] NumInputs: {len(spec.inputs)}")
    for i, t in enumerate(spec.inputs):
        echo(f"[DEBUG] input[{i}] name: {t.name} dims: {t.shape} dtype: {t.dtype} "
             f"size: {t.nbytes()}")
    echo(f"[DEBUG] NumOutputs: {len(spec.outputs)}")
    for i, t in enumerate(spec.outputs):
        echo(f"[DEBUG] output[{i}] name: {t.name} dims: {t.shape} dtype: {t.dtype} "
             f"size: {t.nbytes()}")


def run_real_msame(argv: list[str], output: str, echo=print) -> MsameResult:
    """Run Ascend's msame binary; any [ERROR] line or a missing success line is a failure."""
    exe = shutil.which("msame")
    if exe is None:
        raise StageError("msame is not installed (not on PATH): an .om needs an Ascend host; run the "
                         ".pb or .onnx of the same model with this runner instead")
    Path(output).mkdir(parents=True, exist_ok=True)
    before = set(os.listdir(output))
    proc = subprocess.run([exe, *argv], capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        echo(line)
    errors = [line for line in proc.stdout.splitlines() if line.startswith("[ERROR]")]
    if errors or proc.returncode != 0 or "Execute sample success" not in proc.stdout:
        raise StageError(f"msame failed (exit {proc.returncode}): "
                         f"{errors[0] if errors else proc.stderr.strip()[-300:]}")
    lines = proc.stdout.splitlines()
    ts_dir = None
    for i, line in enumerate(lines[:-1]):
        if "create model output success" in line:
            ts_dir = Path(lines[i + 1].strip())
    if ts_dir is None or not ts_dir.is_dir():
        new = sorted(set(os.listdir(output)) - before)
        if len(new) != 1:
            raise StageError(f"{output}: expected one new msame timestamp folder, found {new}")
        ts_dir = Path(output) / new[0]
    times = [float(m) for m in re.findall(r"^Inference time: ([0-9.eE+-]+)ms", proc.stdout, re.M)]
    return MsameResult(ts_dir, times, stdout=proc.stdout)


def resolve_output_dir(path: str | os.PathLike) -> Path:
    """An msame timestamp folder, given it or the --output root that holds exactly one run."""
    out = Path(path)
    if not out.is_dir():
        raise StageError(f"{out}: expected an msame output folder, found nothing")
    subdirs = [d for d in out.iterdir() if d.is_dir() and not d.name.startswith(".")]
    if not any(out.glob("*_output_*")) and len(subdirs) == 1:
        return subdirs[0]
    return out


def check_no_extra_outputs(out: Path, expected: set[str], what: str) -> None:
    """Outputs beyond the ones a scorer reads mean the folder mixes runs or lists: refuse it."""
    extra = sorted(p.name for p in out.glob("*_output_*") if p.name not in expected)
    if extra:
        raise StageError(f"{out}: expected only the msame outputs of {what}, found {len(extra)} more "
                         f"(e.g. {extra[0]}); is it another run's folder, or another list's?")


def build_parser(prog: str = "msame", model: str | None = None, **defaults):
    """msame's flags; a model's wrapper passes its original script's paths as defaults."""
    p = parser(prog, __doc__.strip().splitlines()[0])
    p.add_argument("--model", required=model is None, default=model,
                   help=".om (real msame), .pb or .onnx (portable)")
    p.add_argument("--input", default="", help="comma-separated .bin files (file mode) or folders "
                   "(directory mode); omitted: all-zero inputs")
    p.add_argument("--output", type=output_dir, default="./output", help="root folder; one timestamp folder per run")
    p.add_argument("--outfmt", default="BIN", help="TXT (exactly) for text, anything else for raw bytes")
    p.add_argument("--loop", type=int, default=1, help="executions in file mode (1..100)")
    p.add_argument("--device", type=int, default=0,
                   help="Ascend device id (0..255) for the real msame; portable backends run on the host CPU (0 only)")
    p.add_argument("--debug", default="false", help="'true' prints the model description")
    p.add_argument("--timestamp", choices=["current", "legacy"], default="current",
                   help="folder name: current msame (unpadded Y M D_h_m_s_us) or legacy %%Y%%m%%d_%%H%%M%%S")
    p.add_argument("--output_dtype", default="",
                   help="comma-separated output dtypes overriding the sidecar (e.g. float16)")
    for flag in ("--dump", "--profiler", "--dymBatch", "--dymHW", "--dymDims", "--dymShape", "--outputSize"):
        p.add_argument(flag, default=None, help="passed to the real msame; not supported by portable backends")
    p.set_defaults(**defaults)
    return p


def main(argv=None, arg_parser=None) -> MsameResult:
    args = (arg_parser or build_parser()).parse_args(argv)
    use_onednn_in_tensorflow()  # a .pb runs on the same kernels as in the packages' stages
    if not 0 <= args.device <= 255:
        raise StageError(f"--device: expected 0 to 255, found {args.device}")
    inputs = [s.strip() for s in args.input.split(",") if s.strip()]
    if ".om" in args.model:
        passthrough = [f"--model={args.model}", f"--output={args.output}",
                       f"--outfmt={args.outfmt}", f"--loop={args.loop}",
                       f"--device={args.device}", f"--debug={args.debug}"]
        if args.input:
            passthrough.append(f"--input={args.input}")
        for flag in ("dump", "profiler", "dymBatch", "dymHW", "dymDims", "dymShape", "outputSize"):
            if getattr(args, flag) is not None:
                passthrough.append(f"--{flag}={getattr(args, flag)}")
        return run_real_msame(passthrough, args.output)
    unsupported = [f for f in ("dump", "profiler", "dymBatch", "dymHW", "dymDims", "dymShape", "outputSize")
                   if getattr(args, f) is not None]
    if unsupported:
        raise StageError(f"--{unsupported[0]}: only the real msame supports it, found a "
                         f"{Path(args.model).suffix} model")
    if args.device != 0:
        raise StageError(f"--device {args.device}: the portable backends run on this host's CPU (device 0); "
                         f"only the real msame picks an Ascend device, found a {Path(args.model).suffix} model")
    dtypes = [s.strip() for s in args.output_dtype.split(",") if s.strip()]
    for d in dtypes:
        try:
            np.dtype(d)
        except TypeError:
            raise StageError(f"--output_dtype: expected a numpy dtype name, found '{d}'") from None
    return run_portable(args.model, inputs, args.output, args.outfmt, args.loop, args.timestamp,
                        dtypes, args.debug == "true", echo=lambda s: print(s, flush=True))


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
