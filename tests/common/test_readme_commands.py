"""Every command the README shows still exists: each `python -m <module>` and `<package> <stage>`
line in its code blocks names a stage that runs, and every flag on the line is one that stage's
--help lists (help imports no framework, so all of them are read in one process)."""

import contextlib
import io
import re
import shlex
from pathlib import Path

from common.models import MODELS

ROOT = Path(__file__).resolve().parents[2]
COMMAND = re.compile(r"^(?:[A-Z_]+='[^']*'\s+)*(?:python -m ([\w.]+)|(" + "|".join(MODELS) + r") (\w+))\b(.*)$")


SUBCOMMANDS = ("common.synthetic",)  # `python -m common.synthetic LAYOUT --flags`: the layout's own help


def readme_commands() -> list[tuple[str, tuple[str, str | None], list[str]]]:
    """(line, module, flags) of every command line in the README's code blocks; a line ending in
    a backslash is joined with the next, comments are dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for raw in joined.splitlines():
            line = raw.split(" #", 1)[0].strip()
            m = COMMAND.match(line)
            if not m:
                continue
            module = m.group(1) or MODELS[m.group(2)].stages.get(m.group(3), f"{m.group(2)}.{m.group(3)}")
            if module.split(".")[0] not in (*MODELS, "common"):
                continue  # another tool's command (paddle.distributed.launch)
            if module in MODELS:  # `python -m covpoolfer demo ...`: the stage is the next word
                stage = shlex.split(m.group(4))[0]
                module = MODELS[module].stages.get(stage, f"{module}.{stage}")
            flags = re.findall(r"(?<![\w-])(--[A-Za-z][\w-]*)", m.group(4))
            words = shlex.split(m.group(4))
            sub = words[0] if module in SUBCOMMANDS and words else None
            found.append((line, (module, sub), flags))
    return found


def help_text(module: str, sub: str | None) -> str:
    import importlib

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        importlib.import_module(module).main([sub, "--help"] if sub else ["--help"])
    return out.getvalue()


def test_the_readme_shows_commands_of_every_model():
    modules = {module.split(".")[0] for _, (module, _), _ in readme_commands()}
    assert set(MODELS) <= modules


def test_every_readme_command_runs_a_stage_that_takes_its_flags():
    wrong, helps = [], {}
    for line, stage, flags in readme_commands():
        if stage not in helps:
            try:
                helps[stage] = help_text(*stage)
            except ModuleNotFoundError:
                helps[stage] = ""
        if not helps[stage]:
            wrong.append(f"{line}: no stage {' '.join(filter(None, stage))}")
            continue
        listed = set(re.findall(r"--[A-Za-z][\w-]*", helps[stage]))
        wrong += [f"{line}: {stage[0]} has no {flag}" for flag in flags if flag not in listed]
    assert not wrong, "\n".join(wrong)
