"""The `<model> bench` command line: timing rows (common.bench) or, with --precision, the
fp32/fp16/int8 comparison (common.precision) of the model `make demo` trained."""

from __future__ import annotations

import tempfile
from pathlib import Path

from common.bench import write_json
from common.cli import output_file, parser
from common.precision import render


def stage_main(prog: str, doc: str, rows, argv=None, precision=None) -> dict:
    """The `<model> bench [--quick] [--json FILE] [--precision DEMO_DIR]` stage around a model's
    `rows(quick) -> dict` and `precision(demo_dir, work) -> list of rows` (common.precision)."""
    p = parser(prog, doc.strip().splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats; the batch sizes stay the original's")
    p.add_argument("--json", type=output_file, help="also write the rows (and the framework's matmul rate) to this file")
    p.add_argument("--precision", default=None, metavar="DEMO_DIR",
                   help="instead: fp32, fp16 and int8 of the model `make demo` trained in DEMO_DIR, speed and accuracy")
    a = p.parse_args(argv)
    if a.precision:
        with tempfile.TemporaryDirectory(prefix="precision_") as work:
            result = {"precision_rows": precision(Path(a.precision), Path(work))}
        print(render(result["precision_rows"]))
        if a.json:
            write_json(a.json, result)
        return result
    result = rows(a.quick)
    print(f"{result['framework']} float32 matmul on {result['device']}: {result['matmul_gflops']:.1f} GFLOP/s")
    if a.json:
        write_json(a.json, result)
    return result
