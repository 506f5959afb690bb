"""MobileFaceNet under tf.distribute: --jit with replicas is refused in one line (the replicated
step itself is held to the single-device one in tests/common/test_distributed_trainers.py)."""

import pytest

from common import synthetic
from mobilefacenet import convert_recordio

STEP = ["--max_epoch", "1", "--steps_per_epoch", "1", "--train_batch_size", "8", "--bn_decay", "0.5",
        "--seed", "4"]


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    root = tmp_path_factory.mktemp("mfn")
    synthetic.make_ms1m(root / "ms1m", identities=8, images_per_identity=4)
    convert_recordio.main(["--data_dir", str(root / "ms1m"), "--output", str(root / "train.tfrecords")])
    return root / "train.tfrecords"


def test_jit_with_replicas_is_refused_in_one_line(records, tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "mobilefacenet.train_nets", "--tfrecords", str(records),
                        "--models_dir", str(tmp_path), *STEP, "--jit", "--strategy", "mirrored", "--cpu_replicas", "2"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith("error: --jit: expected one replica")
