"""PFE's uncertainty-head trainer against the original training step (network.py with
uncertainty_module.py and utils/tflib.py's MLS loss, built in TF1 graph mode by
tests/tf1_training.py) on a depth-4 sphere net: both start from the same base and head (a
release-layout TF1 checkpoint, read by --pretrained_model --restore_head) and take four steps on
the same class-balanced batch, flip off, with the learning rate dropped 10x before the third
step (where Keras' SGD and TF1's Momentum part)."""

import json
import os

import pytest

tf = pytest.importorskip("tensorflow")

from conftest import assert_losses_match, assert_same_moves, logged_scalars  # noqa: E402

from common import synthetic  # noqa: E402
from pfe import train  # noqa: E402
from pfe.models.checkpoints import restore_model  # noqa: E402
from pfe.models.original import base_name, head_name  # noqa: E402

pytestmark = [pytest.mark.tf, pytest.mark.slow]
STEPS, DROP, LR = 4, 2, 1e-3
TAGS = {"loss/total": "loss", "loss/mls": "mls", "loss/regularization": "regularization"}


def test_steps_move_the_head_as_the_original_trainer_across_the_learning_rate_drop(tmp_path, original_training):
    casia = synthetic.make_casia(tmp_path / "casia", identities=2, images_per_identity=4)
    batch = [[str(casia / person / f), k] for k, person in enumerate(sorted(os.listdir(casia)))
             for f in sorted(os.listdir(casia / person))]
    assert len(batch) == 8  # every step's batch: 2 identities x 4 images (MLS and BN do not see the order)
    (tmp_path / "batches.json").write_text(json.dumps([batch] * STEPS))
    ckpt, theirs, final = original_training("pfe", tmp_path / "orig", "--batches", tmp_path / "batches.json",
                                            "--lr", LR, "--lr_drop_step", DROP, "--depth", 4)
    train.main(["--pretrained_model", str(ckpt), "--restore_head", "--no_flip", "--data_dir", str(casia),
                "--models_dir", str(tmp_path / "models"), "--logs_dir", str(tmp_path / "logs"),
                "--num_classes_per_batch", "2", "--images_per_class", "4", "--num_steps", str(STEPS),
                "--epoch_size", "1", "--learning_rate", str(LR), "--lr_drop_step", str(DROP),
                "--learning_rate_after_drop", str(LR / 10)])

    assert_losses_match(logged_scalars(tmp_path / "logs"), theirs, TAGS)
    (run_dir,) = list((tmp_path / "models").iterdir())
    (base, head), _, _ = restore_model(str(run_dir))
    ours = {base_name(v.path): v.numpy() for v in base.weights}
    ours.update({head_name(v.path): v.numpy() for v in head.weights})
    start = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(ckpt)))
    compared = assert_same_moves(start.get_tensor, final, ours, label=f"PFE head, {STEPS} steps")
    assert compared == len(base.weights) + len(head.weights)
