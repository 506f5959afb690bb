"""What the per-model `demo` stages share: running a stage in-process as the command it equals,
and writing the result table (results.md, results.json)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from common.cli import StageError, write_text_atomic


def run_stage(package: str, title: str, module, argv: list[str]) -> None:
    """Call ``module.main(argv)``, printed first as ``<package> <stage> <flags>`` (the stage's
    name in the package's dispatch table, e.g. ``microexpression onnx`` for export_onnx.py)."""
    import importlib

    stages = importlib.import_module(f"{package}.__main__").STAGES
    stage = next((name for name, mod in stages.items() if mod == module.__name__), module.__name__.rsplit(".", 1)[-1])
    print(f"\n=== {title}\n$ {package} {stage} {shlex.join(argv)}", flush=True)
    code = module.main(argv)
    if code:
        raise StageError(f"demo: stage {title} exited with status {code}")


def newest_new_folder(folder: Path, before: set[str]) -> Path:
    """The run folder a trainer just created under ``folder`` (absent from ``before``)."""
    return max(p for p in Path(folder).iterdir() if p.name not in before)


def folder_names(folder: Path) -> set[str]:
    return {p.name for p in Path(folder).iterdir()} if Path(folder).is_dir() else set()


def write_results(work: Path, table: str, results: dict, pictures: list[str]) -> None:
    """results.md (the table) and results.json beside the artefacts, then the table on stdout."""
    write_text_atomic(work / "results.md", table + "\n")
    write_text_atomic(work / "results.json", json.dumps(results, indent=2) + "\n")
    print(f"\n{table}\n\nwrote {work / 'results.md'} and {', '.join(str(work / p) for p in pictures)}; "
          f"demo took {results['total_seconds']:.0f} s (all figures on synthetic data)")
