"""CovPoolFER's trainer under the original recipes against the original training step (d-acharya's
train.py + framework.trainspd, built in TF1 graph mode by tests/tf1_training.py): both start from
the same weights (a release-layout TF1 checkpoint, read by --pretrained_model) and take three
steps on the same batches, augmentation off.

The bound upstream of the eigendecomposition is measured in the test: the original computes
LogEig(ReEig(Y)) with two float32 eigendecompositions, ours with one. The original run with one
(equal in exact arithmetic), or started from weights moved by 1e-7 of themselves, differs from
itself by up to a few per cent of a conv layer's
three-step change (the gradients through eigh amplify roundoff), more than ours differs from
it; each variable may differ from the original by twice the largest relative spread measured
in that run (which variable roundoff hits hardest changes with the CPU's vector instructions),
each loss term by twice its own spread, and by no less than 1e-3 of its change (1e-4 of the
loss) where the spread is smaller. After the first step every variable is held to 1e-3."""

import json
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from conftest import assert_losses_match, assert_same_moves, logged_scalars  # noqa: E402

from common import synthetic  # noqa: E402
from covpoolfer import train  # noqa: E402
from covpoolfer.models.checkpoints import restore_model  # noqa: E402
from covpoolfer.models.original import tf1_name  # noqa: E402

pytestmark = [pytest.mark.tf, pytest.mark.slow]
STEPS, BATCH, LR = 3, 4, 1e-3
TAGS = {"loss/total": "loss", "loss/cross_entropy": "cross-entropy", "loss/regularization": "regularization",
        "loss/center": "center"}


@pytest.fixture(scope="module")
def sfew(tmp_path_factory):
    return synthetic.make_sfew(tmp_path_factory.mktemp("d") / "SFEW_100", 2, 1, identities=4)


def listed_batches(train_dir, steps: int, batch: int) -> list:
    """facenet's get_dataset order (sorted class folders, sorted files), cut into batches: what
    --no_shuffle feeds."""
    items = [[str(train_dir / c / f), k] for k, c in enumerate(sorted(os.listdir(train_dir)))
             for f in sorted(os.listdir(train_dir / c))]
    assert len(items) >= steps * batch
    return [items[k * batch:(k + 1) * batch] for k in range(steps)]


@pytest.mark.parametrize("model_def, recipe, scope", [("covpoolnet", "original", "DLP-CNN"),
                                                      ("covpoolnet2", "original2", "CovPool2")])
def test_steps_of_the_original_recipe_move_every_variable_as_the_original_trainer(
        model_def, recipe, scope, sfew, tmp_path, original_training):
    (tmp_path / "batches.json").write_text(json.dumps(listed_batches(sfew / "Train", STEPS, BATCH)))
    args = ("--batches", tmp_path / "batches.json", "--lr", LR, "--model_def", model_def, "--scope", scope)
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(original_training, "covpoolfer", tmp_path / name, *args, *extra)
                for name, extra in (("orig", ("--first",)), ("one_eig", ("--one_eig",)),
                                    ("perturbed", ("--perturb", "1e-7")))]
        (ckpt, theirs, final), (_, spread_losses, one_eig), (_, _, perturbed) = (r.result() for r in runs)
    spread = [one_eig, perturbed]
    train.main(["--recipe", recipe, "--data_dir", str(sfew), "--models_base_dir", str(tmp_path / "models"),
                "--logs_base_dir", str(tmp_path / "logs"), "--pretrained_model", str(ckpt), "--learning_rate", str(LR),
                "--batch_size", str(BATCH), "--epoch_size", "1", "--max_nrof_epochs", str(STEPS), "--no_augment",
                "--no_shuffle"])

    assert_losses_match(logged_scalars(tmp_path / "logs"), theirs, TAGS, spread=spread_losses)
    (run_dir,) = list((tmp_path / "models").iterdir())
    start = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(ckpt)))

    def first(name):
        return start.get_tensor(name) if start.has_tensor(name) else 0.0  # the centres start at 0

    # the first step: every variable within 1e-3, upstream of the eigendecomposition too
    ours = _ours(run_dir / "ckpt-1", scope)
    assert assert_same_moves(first, dict(np.load(tmp_path / "orig" / "first.npz")), ours,
                             label=f"CovPoolFER {model_def}, first step") == len(ours)
    ours = _ours(run_dir / f"ckpt-{STEPS}", scope)
    assert np.abs(final["centers"]).max() > 0  # Adam moved the original's centres
    assert assert_same_moves(first, final, ours, spread=spread, label=f"CovPoolFER {model_def}, {STEPS} steps",
                             pooled=True) \
        == len(ours)


def _ours(prefix, scope: str) -> dict:
    """Our run's variables at a checkpoint, by TF1 name, the centres included."""
    model, _, prefix = restore_model(str(prefix))
    ours = {tf1_name(v.path, scope): v.numpy() for v in model.weights}
    ours["centers"] = tf.train.load_checkpoint(prefix).get_tensor("centers/.ATTRIBUTES/VARIABLE_VALUE")
    return ours
