"""Stage dispatch and exit codes: 0 ok, 2 usage, 1 failure with one clear line."""

import subprocess
import sys

import pytest
from conftest import one_error_line

from common.cli import StageError, run
from common.models import MODELS


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


@pytest.mark.parametrize("package", list(MODELS))
def test_every_stage_explains_itself_without_loading_a_framework(package):
    """`<package> <stage> --help` exits 0 for every stage, and no stage's help imports
    TensorFlow or Paddle (help stays instant, and Paddle's process never sees TensorFlow)."""
    code = (f"import importlib, sys\nfrom common.models import MODELS\nfrom {package}.__main__ import main\n"
            f"STAGES = MODELS[{package!r}].stages\nbad = []\n"
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


ZERO_OR_NOT_A_NUMBER = {  # stage: a count or size flag that must be a whole number >= 1
    "covpoolfer": [("train", "--batch_size"), ("ckpt2pb", "--batch_size"), ("pic2bin", "--batch_size"),
                   ("classify", "--batch_size"), ("train", "--epoch_size"), ("demo", "--max_nrof_epochs")],
    "pfe": [("train_base", "--batch_size"), ("train", "--images_per_class"), ("eval_lfw", "--batch_size"),
            ("ckpt2pb", "--batch_size"), ("train", "--num_steps")],
    "mobilefacenet": [("train_nets", "--train_batch_size"), ("inference", "--eval_batch_size"),
                      ("ckpt2pb", "--batch_size"), ("train_nets", "--steps_per_epoch")],
    "microexpression": [("evaluate", "--batch_size"), ("infer", "--threads"), ("predict", "--count")],
}


@pytest.mark.parametrize("package", sorted(ZERO_OR_NOT_A_NUMBER))
def test_zero_negative_or_wordy_counts_are_usage_errors(package, record_property):
    """`--batch_size 0`, `-3` or `eight`: exit 2 with argparse's one line naming the flag, before
    any file is read or framework loaded (no traceback)."""
    cases = [(stage, flag, value) for stage, flag in ZERO_OR_NOT_A_NUMBER[package] for value in ("0", "-3", "eight")]
    code = (f"import contextlib, io, sys\nfrom {package}.__main__ import main\nbad = []\n"
            f"for stage, flag, value in {cases!r}:\n"
            "    err = io.StringIO()\n"
            "    with contextlib.redirect_stderr(err):\n"
            "        try:\n            main([stage, flag, value])\n            bad.append((stage, flag, value, 'no exit'))\n"
            "        except SystemExit as e:\n"
            "            line = err.getvalue().strip().splitlines()[-1]\n"
            "            if e.code != 2 or flag not in line or 'at least 1' not in line:\n"
            "                bad.append((stage, flag, value, e.code, line))\n"
            "assert not bad, bad\n"
            "assert 'tensorflow' not in sys.modules and 'paddle' not in sys.modules\nprint(len(" + repr(cases) + "))")
    r = _run("-c", code)
    assert r.returncode == 0, r.stderr[-3000:]
    assert int(r.stdout.split()[-1]) == 3 * len(ZERO_OR_NOT_A_NUMBER[package])
    record_property("bad_inputs", 3 * len(ZERO_OR_NOT_A_NUMBER[package]))


def test_synthetic_rejects_a_zero_size_in_one_usage_line(tmp_path):
    r = _run("-m", "common.synthetic", "sfew", "--out", str(tmp_path / "s"), "--size", "0")
    assert r.returncode == 2 and "--size" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "s").exists()


def test_a_recipe_sets_the_defaults_and_a_flag_given_wins():
    from common.cli import add_recipe, parse_with_recipe, parser

    recipes = {"ours": {}, "original": {"batch_size": 128, "no_augment": True}}

    def parse(*argv):
        p = parser("train", None)
        add_recipe(p, recipes, "ours", "an original's settings")
        p.add_argument("--batch_size", type=int, default=16)
        p.add_argument("--no_augment", action="store_true")
        return parse_with_recipe(p, list(argv), recipes)

    assert (parse().batch_size, parse().no_augment) == (16, False)
    assert (parse("--recipe", "original").batch_size, parse("--recipe", "original").no_augment) == (128, True)
    assert parse("--batch_size", "8", "--recipe", "original").batch_size == 8
    with pytest.raises(SystemExit):
        parse("--recipe", "nonsense")
