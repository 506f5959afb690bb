"""The `gpu` extra: TensorFlow's CUDA build and onnxruntime-gpu in place of the CPU wheels, and
pip resolves it (no GPU needed: a dry run)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _extras() -> dict[str, list[str]]:
    return tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]


def _name(requirement: str) -> str:
    return requirement.split(";")[0].split("[")[0].split("=")[0].split(">")[0].strip()


def test_gpu_extra_swaps_the_cpu_wheels_for_cuda_builds_and_keeps_the_rest_of_tf():
    extras = _extras()
    gpu, tf = extras["gpu"], extras["tf"]
    tf_pin = next(r for r in tf if r.startswith("tensorflow-cpu==")).split(";")[0].split("==")[1]
    assert f"tensorflow[and-cuda]=={tf_pin}" in gpu  # the same TensorFlow release as the CPU extra
    assert not [r for r in gpu if _name(r) == "tensorflow-cpu"]
    assert any(_name(r) == "onnxruntime-gpu" for r in gpu)
    others = {_name(r) for r in tf} - {"tensorflow-cpu", "tensorflow"}
    assert others <= {_name(r) for r in gpu}, others - {_name(r) for r in gpu}


@pytest.mark.slow
def test_pip_resolves_the_gpu_extra(tmp_path):
    report = tmp_path / "report.json"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
                        "--disable-pip-version-check", "--report", str(report), *_extras()["gpu"]],
                       capture_output=True, text=True, timeout=900)
    if r.returncode and any(w in r.stderr for w in ("NewConnectionError", "Temporary failure in name resolution",
                                                    "Network is unreachable", "Max retries exceeded")):
        pytest.skip(f"no package index reachable: {r.stderr.strip().splitlines()[-1]}")
    assert r.returncode == 0, r.stderr[-3000:]
    chosen = {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in json.loads(report.read_text())["install"]}
    assert chosen.get("tensorflow") == "2.21.0" and "onnxruntime-gpu" in chosen
    assert any(n.startswith("nvidia-cudnn") for n in chosen), sorted(chosen)
