"""Stage dispatch and exit codes: 0 ok, 2 usage, 1 failure with one clear line."""

import subprocess
import sys

import pytest
from conftest import one_error_line

from common.cli import StageError, run


def _run(*args):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True)


def test_console_script_lists_stages_and_rejects_unknown():
    r = _run("-m", "pfe", "--help")
    assert r.returncode == 0 and "msame" in r.stdout
    r = _run("-m", "pfe", "nope")
    assert r.returncode == 2 and "unknown stage 'nope'" in r.stderr


def test_stage_help_is_instant_and_imports_no_framework():
    code = ("import sys; from pfe.__main__ import main\n"
            "try:\n    main(['msame', '--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
            "assert 'tensorflow' not in sys.modules and 'paddle' not in sys.modules")
    r = _run("-c", code)
    assert r.returncode == 0, r.stderr


def test_failure_is_one_line_and_exit_1(capsys):
    def main(argv):
        raise StageError("x.bin: expected 4 bytes, found 2")

    assert run(main, []) == 1
    assert capsys.readouterr().err == "error: x.bin: expected 4 bytes, found 2\n"


@pytest.mark.parametrize("argv,code", [(["--loop", "abc"], 2), (["--model", "m.onnx", "--loop", "0"], 1)])
def test_usage_vs_failure(argv, code, tmp_path):
    r = _run("-m", "common.msame", *argv)
    assert r.returncode == code


@pytest.mark.parametrize("package", ["covpoolfer", "pfe", "mobilefacenet", "microexpression"])
def test_every_stage_explains_itself_without_loading_a_framework(package):
    """`<package> <stage> --help` exits 0 for every stage, and no stage's help imports
    TensorFlow or Paddle (help stays instant, and Paddle's process never sees TensorFlow)."""
    code = (f"import importlib, sys\nfrom {package}.__main__ import STAGES, main\nbad = []\n"
            "for stage in STAGES:\n"
            "    try:\n        main([stage, '--help'])\n        bad.append((stage, 'no exit'))\n"
            "    except SystemExit as e:\n"
            "        if e.code != 0:\n            bad.append((stage, e.code))\n"
            "    loaded = [m for m in ('tensorflow', 'paddle') if m in sys.modules]\n"
            "    if loaded:\n        bad.append((stage, loaded))\n        break\n"
            "assert not bad, bad\nprint(len(STAGES))")
    r = _run("-c", code)
    assert r.returncode == 0, r.stderr[-2000:]
    assert int(r.stdout.split()[-1]) >= 8


@pytest.mark.parametrize("flag,value", [("--device", "1"), ("--outputSize", "1000")])
def test_msame_options_the_portable_backends_cannot_honour_are_refused(flag, value, tmp_path):
    r = _run("-m", "common.msame", "--model", str(tmp_path / "m.onnx"), flag, value)
    line = one_error_line(r.stderr)
    assert r.returncode == 1 and flag in line and "real msame" in line
