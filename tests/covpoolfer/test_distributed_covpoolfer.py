"""CovPoolFER under tf.distribute: two workers over loopback train, the chief alone keeps the
checkpoint, and a single process resumes it; a batch that does not split is refused (two CPU
replicas against one device: tests/common/test_distributed_trainers.py)."""

import json
import os
import socket
import subprocess
import sys

import pytest

from common import synthetic

# One step, no dropout and no augmentation: the replicated step must equal the single-device one.
STEP = ["--max_nrof_epochs", "1", "--epoch_size", "1", "--batch_size", "8", "--keep_probability", "1",
        "--no_augment", "--learning_rate", "0.01", "--bn_decay", "0.9", "--seed", "3"]


@pytest.fixture(scope="module")
def sfew(tmp_path_factory):
    return synthetic.make_sfew(tmp_path_factory.mktemp("d") / "SFEW_100", 2, 1, identities=8)


def test_batch_must_split_across_replicas(sfew, tmp_path):
    r = subprocess.run([sys.executable, "-m", "covpoolfer.train", "--data_dir", str(sfew), "--models_base_dir",
                        str(tmp_path), *STEP[:4], "--batch_size", "7", "--strategy", "mirrored",
                        "--cpu_replicas", "2"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert "error: --batch_size: expected a multiple of the 2 replicas (the batch is global), found 7" in r.stderr


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_two_workers_over_loopback_then_resume_on_one(sfew, tmp_path, run_module):
    workers = [f"localhost:{p}" for p in _free_ports(2)]
    args = [sys.executable, "-m", "covpoolfer.train", "--data_dir", str(sfew), "--models_base_dir",
            str(tmp_path / "models"), "--logs_base_dir", str(tmp_path / "logs"), *STEP,
            "--epoch_size", "2", "--strategy", "multi_worker"]
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        procs.append(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                      env={**os.environ, "TF_CONFIG": json.dumps(tf_config)}))
    try:
        outs = [p.communicate(timeout=300)[0] for p in procs]
    finally:
        for p in procs:
            p.kill()
    for index, (p, out) in enumerate(zip(procs, outs, strict=True)):
        assert p.returncode == 0, f"worker {index} failed:\n{out[-3000:]}"
        assert "strategy multi_worker: 2 replica(s) in sync on 2 worker(s)" in out
    assert "Epoch 1/1" in outs[0] and "Epoch 1/1" in outs[1]
    # Only the chief (worker 0) keeps a run folder: one checkpoint, no worker leftovers.
    (run,) = list((tmp_path / "models").iterdir())
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint", "ckpt-1.data-00000-of-00001", "ckpt-1.index",
                                                    "config.json"]
    # The two-worker checkpoint resumes in one process on the default strategy.
    out = run_module("covpoolfer.train", "--data_dir", sfew, "--models_base_dir", tmp_path / "models",
                     "--logs_base_dir", tmp_path / "logs", *STEP, "--max_nrof_epochs", "2", "--resume")
    assert "resumed from" in out and "(epoch 1)" in out and "Epoch 2/2" in out
    assert (run / "ckpt-2.index").is_file()
