"""Stages return what they measured, and a demo prints the very command it ran."""

import json
import shlex
import subprocess
import sys

from common import demo, synthetic
from common.cli import run


def test_a_returned_result_is_success_and_an_int_is_the_exit_status():
    assert run(lambda argv: {"accuracy": 0.5}, []) == 0
    assert run(lambda argv: None, []) == 0
    assert run(lambda argv: 3, []) == 3


def test_command_names_the_stage_as_a_user_types_it():
    from covpoolfer import getAcc
    from microexpression import export_onnx

    assert demo.command_for(getAcc, ["--plot", "a b.png"]) == "covpoolfer getAcc --plot 'a b.png'"
    assert demo.command_for(export_onnx, ["--model", "m"]) == "microexpression onnx --model m"
    assert demo.command_for(synthetic, ["preview"]) == "python -m common.synthetic preview"


def test_run_stage_returns_the_stage_result_and_records_the_command_that_reproduces_it(tmp_path, capsys):
    commands = []
    out = tmp_path / "in process.png"
    result = demo.run_stage("preview", synthetic, ["preview", "--out", str(out)], commands)
    assert result == {"layout": "preview", "path": out} and out.is_file()
    assert commands == [f"python -m common.synthetic preview --out {shlex.quote(str(out))}"]
    assert f"$ {commands[0]}" in capsys.readouterr().out
    # The recorded line, run in a shell, makes the same picture.
    again = tmp_path / "again.png"
    line = commands[0].replace(shlex.quote(str(out)), shlex.quote(str(again)))
    subprocess.run(line.replace("python", shlex.quote(sys.executable), 1), shell=True, check=True)
    assert again.read_bytes() == out.read_bytes()


def test_results_files_hold_the_table_the_commands_and_plain_json(tmp_path, capsys):
    import numpy as np

    from common.metrics import VerificationResult

    results = {"total_seconds": 1.0, "commands": ["covpoolfer getAcc --plot c.png"], "path": tmp_path / "x",
               "verification": VerificationResult(0.9, 0.1, np.array([0.5]), np.array([0.9]))}
    demo.write_results(tmp_path, "| a |\n|---|\n| 1 |", results, [])
    text = (tmp_path / "results.md").read_text()
    assert text.startswith("| a |") and "covpoolfer getAcc --plot c.png" in text
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["path"] == str(tmp_path / "x") and saved["verification"]["accuracy"] == 0.9
