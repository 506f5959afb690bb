"""MicroExpression data parallel: paddle.distributed.launch with two CPU processes (gloo) trains
one model, each process on its share of every global batch; rank 0 alone writes it."""

import subprocess
import sys
from pathlib import Path

import pytest

paddle = pytest.importorskip("paddle")

from common import synthetic  # noqa: E402
from microexpression import annotate, evaluate  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = synthetic.make_casme2(tmp_path_factory.mktemp("casme"), subjects=5, clips_per_subject=7, frames_per_clip=3)
    annotate.main(["--data_root", str(root), "--split", "subject"])
    return root


def test_two_cpu_processes_train_one_model(data, tmp_path, capsys):
    out = tmp_path / "output" / "MicroExpression"
    # The README's command (Scaling out), with a log folder and a small synthetic run.
    cmd = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2", "--log_dir",
           str(tmp_path / "log"), "microexpression/train.py", "--data_root", str(data), "--arch", "resnet18",
           "--save_dir", str(tmp_path / "chk"), "--set", "image_shape=[3,32,32]", "--set", "batch_size=16",
           "--set", "epochs=1", "--set", f"model_save_dir={out}"]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    logs = [(tmp_path / "log" / f"workerlog.{rank}").read_text() for rank in range(2)]
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:] + logs[0][-2000:] + logs[1][-2000:]
    for rank, log in enumerate(logs):
        assert f"rank {rank} of 2: 8 images per step of each global batch of 16" in log
        assert "weights identical in all 2 processes" in log  # gradients were all-reduced
    assert "saved" in logs[0] and "saved" not in logs[1]
    assert sorted(p.name for p in (tmp_path / "chk").iterdir()) == ["0.pdopt", "0.pdparams"]
    capsys.readouterr()
    evaluate.main(["--model", str(out), "--data_root", str(data)])
    assert "top-1" in capsys.readouterr().out


def test_a_global_batch_that_does_not_split_is_one_line(data, tmp_path):
    cmd = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2", "--log_dir",
           str(tmp_path / "log"), "microexpression/train.py", "--data_root", str(data), "--arch", "resnet18",
           "--save_dir", str(tmp_path / "chk"), "--set", "image_shape=[3,32,32]", "--set", "batch_size=15",
           "--set", "epochs=1", "--set", f"model_save_dir={tmp_path / 'o' / 'M'}"]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    log = (tmp_path / "log" / "workerlog.0").read_text()
    assert "error: batch_size: expected a multiple of the 2 processes (it is the global batch), found 15" in log
