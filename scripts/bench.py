"""`make bench`: inference and training speed of every model against this machine's matmul rate.

    python scripts/bench.py [--quick] [--models covpoolfer,pfe,...] [--out docs/benchmarks.md]

Each model's `bench` stage runs in its own process (TensorFlow and Paddle never share one) and
returns its rows: ms per batch and per image, images/s, the process's peak resident memory
during the row, FLOPs per image counted from the graph and the GFLOP/s they imply. The
reference is the best float32 matrix-multiply rate measured in this run (NumPy, TensorFlow,
Paddle); each row shows its share of it. The table goes between the markers of
docs/benchmarks.md (the rest of that file, e.g. before/after notes, is kept) and to a JSON file.

When `make demo` has left its models in --demo_dir (demo_out/), each model's
`bench --precision` adds the fp32 / fp16 / int8 table (speed and accuracy of the demo's trained
model through msame) between the precision markers.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.bench import TABLE_HEADER, format_row, machine, numpy_matmul_gflops, write_json  # noqa: E402
from common.files import write_text_atomic  # noqa: E402
from common.models import MODELS  # noqa: E402

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
PRECISION = ("<!-- precision:start -->", "<!-- precision:end -->")
ORIGINAL = """Published figures, for comparison (their hardware, their batch):

| model | what | original figure |
|---|---|---|
| CovPoolFER | training step, batch 128 | 2.902 s (Ascend 910), 3.220 s (GPU) |
| CovPoolFER | inference, om of batch 128 on Ascend 310 | 31.09 ms (README words it per image) |
| PFE | inference, batch 1, Ascend 310 | 18.62 ms per image |
| MobileFaceNet | inference, batch 1, phone CPU (paper) | 24 ms per image |
"""


def run_model(model: str, quick: bool, tmp: Path, precision: Path | None = None) -> dict:
    out = tmp / f"{model}{'_precision' if precision else ''}.json"
    cmd = [sys.executable, "-m", model, "bench", "--json", str(out)] + (["--quick"] if quick else []) \
        + (["--precision", str(precision)] if precision else [])
    print(f"\n=== {model}: {' '.join(cmd[1:])}", flush=True)
    start = time.time()
    r = subprocess.run(cmd, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"error: {model} bench failed (exit {r.returncode})")
    result = json.loads(out.read_text())
    result["seconds"] = time.time() - start
    return result


def render(results: dict, numpy_rate: float, reference: float, command: str, versions: list[str]) -> str:
    rates = ", ".join([f"NumPy {numpy_rate:.1f}"] + [f"{r['framework']} {r['matmul_gflops']:.1f}"
                                                      for r in results.values()])
    devices = sorted({r["device"] for r in results.values()})
    lines = [f"Measured {date.today()} on {machine()} (devices used: {', '.join(devices)}); "
             f"{', '.join(versions)}; Python {platform.python_version()}. Command: `{command}`.", "",
             f"float32 matmul rate measured in the same run, GFLOP/s: {rates}. Reference (the best): "
             f"**{reference:.1f} GFLOP/s**; \"of matmul\" is each row's GFLOP/s over it.", "",
             "Untrained weights and random inputs (speed does not depend on them). Peak RSS is the "
             "benchmark process's high-water mark during the row. Training FLOPs are counted from the "
             "step's graph (forward and backward), except where the note says otherwise.", "", TABLE_HEADER]
    for result in results.values():
        lines += [format_row(row, reference) for row in result["rows"]]
    return "\n".join(lines) + "\n"


def with_table(text: str | None, table: str, markers: tuple[str, str] = (START, END)) -> str:
    """`text` with the part between the markers replaced by `table`; the rest is kept."""
    start, end = markers
    if text is None:
        text = f"# Benchmarks\n\n{START}\n{END}\n\n{ORIGINAL}"
    if start not in text or end not in text:
        text = f"{text.rstrip()}\n\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    return f"{head}{start}\n{table}{end}{rest.split(end, 1)[1]}"


def precision_table(models: list[str], demo_dir: Path, tmp: Path) -> str | None:
    """The fp32 / fp16 / int8 rows of every model whose demo folder exists, or None."""
    from common.precision import render

    found = [m for m in models if (demo_dir / m).is_dir()]
    if not found:
        print(f"\nno {demo_dir}/<model> folders: run `make demo` first for the fp32 / fp16 / int8 rows")
        return None
    rows = [r for m in found for r in run_model(m, False, tmp, demo_dir / m)["precision_rows"]]
    return (f"Measured {date.today()} on {machine()} with `python scripts/bench.py` after `make demo` "
            f"(models trained on **synthetic** data, so the accuracies are synthetic): each model's "
            f"`bench --precision {demo_dir.name}/<model>`.\n\n" + render(rows))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats (under 5 minutes on 2 CPU cores)")
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of " + ",".join(MODELS))
    p.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    p.add_argument("--demo_dir", default=str(ROOT / "demo_out"), help="make demo's folder: the fp32/fp16/int8 rows")
    a = p.parse_args(argv)
    models = [m.strip() for m in a.models.split(",") if m.strip()]
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        p.error(f"--models: expected names from {','.join(MODELS)}, found {','.join(unknown)}")
    started = time.time()
    numpy_rate = numpy_matmul_gflops(1024 if a.quick else 2048)
    with tempfile.TemporaryDirectory() as tmp:
        results = {m: run_model(m, a.quick, Path(tmp)) for m in models}
        precision = precision_table(models, Path(a.demo_dir), Path(tmp))
    reference = max([numpy_rate] + [r["matmul_gflops"] for r in results.values()])
    from importlib.metadata import version

    versions = [f"{pkg} {version(pkg)}" for pkg in ("tensorflow", "tensorflow-cpu", "paddlepaddle", "onnxruntime", "numpy")
                if _installed(pkg)]
    command = "python scripts/bench.py" + (" --quick" if a.quick else "") + \
              ("" if models == list(MODELS) else f" --models {','.join(models)}")
    table = render(results, numpy_rate, reference, command, versions)
    print("\n" + table + f"\nbench took {time.time() - started:.0f} s")

    out = Path(a.out)
    text = with_table(out.read_text() if out.is_file() else None, table)
    if precision:
        print("\n" + precision)
        text = with_table(text, precision, PRECISION)
    write_text_atomic(out, text)
    payload = {"date": str(date.today()), "machine": machine(), "command": command, "versions": versions,
               "numpy_matmul_gflops": numpy_rate, "reference_gflops": reference, "models": results}
    write_json(out.with_suffix(".json"), payload)
    print(f"wrote {out} and {out.with_suffix('.json')}")
    return 0


def _installed(pkg: str) -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        version(pkg)
        return True
    except PackageNotFoundError:
        return False


if __name__ == "__main__":
    sys.exit(main())
