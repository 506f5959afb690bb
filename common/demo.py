"""What the per-model `demo` stages share: running a stage in-process as the command it equals,
and writing the result table (results.md, results.json) from what the stages returned."""

from __future__ import annotations

import dataclasses
import shlex
import sys
import time
from pathlib import Path

from common.cli import StageError
from common.files import write_json_atomic, write_text_atomic
from common.models import MODELS


def command_for(module, argv: list[str]) -> str:
    """The shell line that runs ``module.main(argv)``: ``<package> <stage> ...`` where the model
    table names the module as a stage (``microexpression onnx`` for export_onnx.py), else
    ``python -m <module> ...``."""
    package = module.__name__.split(".")[0]
    stages = MODELS[package].stages if package in MODELS else {}
    stage = next((name for name, mod in stages.items() if mod == module.__name__), None)
    head = f"{package} {stage}" if stage else f"python -m {module.__name__}"
    return f"{head} {shlex.join(argv)}"


def run_stage(title: str, module, argv: list[str], commands: list[str] | None = None):
    """Call ``module.main(argv)`` after printing the command it equals (appended to ``commands``
    too), and return what the stage measured."""
    line = command_for(module, argv)
    if commands is not None:
        commands.append(line)
    print(f"\n=== {title}\n$ {line}", flush=True)
    result = module.main(argv)
    if isinstance(result, int) and result:
        raise StageError(f"demo: stage {title} exited with status {result}")
    return result


def _plain(value):
    """JSON for the results file: dataclasses as objects, numpy values as numbers, paths as text."""
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


class Session:
    """One demo run: its folder, its clock and the commands its stages equal, in order."""

    def __init__(self, workdir: str, package: str, argv):
        self.work, self.started, self.commands = Path(workdir), time.time(), []
        self.command = f"{package} demo " + shlex.join(argv if argv is not None else sys.argv[2:])

    def stage(self, title: str, module, argv: list[str]):
        """Run one stage as its command line (see run_stage) and return what it measured."""
        return run_stage(title, module, argv, self.commands)

    def facts(self) -> dict:
        """What every demo's results.json records besides its own figures."""
        return {"total_seconds": time.time() - self.started, "command": self.command, "commands": self.commands}


def write_results(work: Path, table: str, results: dict, pictures: list[str]) -> None:
    """results.md (the table, then the commands that produced it) and results.json beside the
    artefacts, then the table on stdout."""
    commands = results.get("commands", [])
    text = table + ("\n\nCommands run, in order:\n\n```\n" + "\n".join(commands) + "\n```" if commands else "")
    write_text_atomic(work / "results.md", text + "\n")
    write_json_atomic(work / "results.json", results, default=_plain)
    print(f"\n{table}\n\nwrote {work / 'results.md'} and {', '.join(str(work / p) for p in pictures)}; "
          f"demo took {results['total_seconds']:.0f} s (all figures on synthetic data)")


def newest_demo_run(root: str | Path, model: str, sub: str = "") -> Path:
    """The newest run folder of `make demo` under ``root`` (its ``sub`` folder when it has one,
    e.g. MobileFaceNet's best/), for the demos that build on it."""
    runs = sorted(d for d in Path(root).glob("*") if d.is_dir() and any(d.glob("ckpt-*.index")))
    if not runs:
        raise StageError(f"{root}: expected a run of `make demo` ({model} demo), found none; run it first or "
                         f"pass --ckpt_path")
    return runs[-1] / sub if sub and (runs[-1] / sub).is_dir() else runs[-1]
