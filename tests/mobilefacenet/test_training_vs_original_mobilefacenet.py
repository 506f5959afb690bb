"""MobileFaceNet's trainer under sirius-ai's recipe against the original training step
(sirius-ai's train_nets.py with face_losses.insightface_loss, built in TF1 graph mode by
tests/tf1_training.py) on the repo graph: both start from the same weights and margin head (a
release-layout TF1 checkpoint, read by --pretrained_model; the recipe restores the head as the
original's Saver does) and run three epochs over the same six records in file order (flip
off), the learning rate switching after epoch 0.

The first step is held to the strict bounds. Over three steps, MobileFaceNet at random init
(ArcFace s 64 on three identities, batch norm over six samples in its 1x1 layers) carries
roundoff far: the original itself, started from weights scaled by 1 + 1e-7·N(0, 1) (float32's
resolution), moves some layers a few per cent differently after three steps. Each variable may
differ from the original by twice that measured spread, and by no less than 1e-3 of its change."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from conftest import assert_losses_match, assert_same_moves, logged_scalars  # noqa: E402

from common import synthetic  # noqa: E402
from mobilefacenet import convert_recordio, train_nets  # noqa: E402
from mobilefacenet.models.checkpoints import restore_model  # noqa: E402
from mobilefacenet.models.original import MARGIN_HEAD, layer_scopes, tf1_name  # noqa: E402

pytestmark = [pytest.mark.tf, pytest.mark.slow]
EPOCHS, BATCH, LR = 3, 6, 1e-3
TAGS = {"loss/total": "loss", "loss/inference": "inference_loss", "loss/regularization": "regularization"}


def _ours(prefix) -> dict:
    """Our run's variables at a checkpoint, by TF1 name, the margin head's included."""
    model, _, prefix = restore_model(str(prefix))
    scopes = layer_scopes(model)
    ours = {tf1_name(v.path, scopes, model): v.numpy() for v in model.weights}
    ours[MARGIN_HEAD] = tf.train.load_checkpoint(prefix).get_tensor("head/kernel/.ATTRIBUTES/VARIABLE_VALUE")
    return ours


def test_steps_of_sirius_recipe_move_every_variable_as_the_original_trainer(tmp_path, original_training):
    synthetic.make_ms1m(tmp_path / "ms1m", identities=3, images_per_identity=2)
    records = tmp_path / "train.tfrecords"
    convert_recordio.main(["--data_dir", str(tmp_path / "ms1m"), "--output", str(records)])
    args = ("--tfrecord", records, "--lr", LR, "--batch_size", BATCH, "--epochs", EPOCHS, "--classes", 3)
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(original_training, "mobilefacenet", tmp_path / name, *args, *extra)
                for name, extra in (("orig", ("--first",)), ("perturbed", ("--perturb", 1e-7)))]
        (ckpt, theirs, final), (_, _, spread) = (r.result() for r in runs)
    assert len(theirs) == EPOCHS  # one batch per pass
    train_nets.main(["--recipe", "sirius", "--tfrecords", str(records), "--pretrained_model", str(ckpt),
                     "--models_dir", str(tmp_path / "models"), "--logs_dir", str(tmp_path / "logs"),
                     "--train_batch_size", str(BATCH), "--max_epoch", str(EPOCHS), "--lr_values", f"{LR},{LR / 10}",
                     "--lr_boundaries", "0", "--no_flip"])

    logged = logged_scalars(tmp_path / "logs")
    assert logged["learning_rate"] == pytest.approx([LR, LR / 10, LR / 10])  # epoch 0 at the first: x <= boundary
    assert_losses_match(logged, theirs, TAGS)
    (run_dir,) = list((tmp_path / "models").iterdir())
    start = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(ckpt)))
    first = dict(np.load(tmp_path / "orig" / "first.npz"))
    ours = _ours(run_dir / "ckpt-1")
    assert assert_same_moves(start.get_tensor, first, ours, label="MobileFaceNet, first step") == len(ours)
    assert assert_same_moves(start.get_tensor, final, _ours(run_dir / "ckpt-3"), spread=spread,
                             label=f"MobileFaceNet, {EPOCHS} steps") == len(ours)
