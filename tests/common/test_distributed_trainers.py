"""Every TensorFlow trainer in the model table under tf.distribute: one step on two CPU replicas
(--strategy mirrored --cpu_replicas 2) equals the single-device step on the same global batch:
the same loss and every weight after the step (synchronised batch norm, CovPoolFER's centres and
retracted BiMap weights (image and temporal pooling), PFE's MLS over every pair of the gathered batch, MobileFaceNet's margin
head). A trainer added to the table without a one-step recipe here fails the first test."""

import pytest

from common import synthetic
from common.models import MODELS

pytestmark = pytest.mark.slow

TRAINERS = [t for m in MODELS.values() if m.framework == "tensorflow" for t in m.trainers]


def covpoolfer_step(root):
    data = synthetic.make_sfew(root / "SFEW_100", 2, 1, identities=8)
    # No dropout and no augmentation: the replicated step must equal the single-device one.
    return ["--logs_base_dir", root / "logs", "--data_dir", data, "--max_nrof_epochs", "1",
            "--epoch_size", "1", "--batch_size", "8", "--keep_probability", "1", "--no_augment",
            "--learning_rate", "0.01", "--bn_decay", "0.9", "--seed", "3"]


def casia(root):
    return synthetic.make_casia(root / "casia", identities=6, images_per_identity=4)


def pfe_base_step(root):
    return ["--logs_dir", root / "logs", "--data_dir", casia(root), "--depth", "4",
            "--batch_size", "8", "--num_steps", "1", "--epoch_size", "1", "--optimizer", "MOM",
            "--learning_rate", "0.01", "--seed", "2"]


def pfe_head_step(root):
    from conftest import _run_module

    _run_module("pfe.train_base", "--models_dir", root / "base", *pfe_base_step(root))
    (base,) = list((root / "base").glob("2*"))
    # The batch is [A A B | B C C] across the two replicas: a replica that scored only its own
    # half would miss B's pair and give a different loss.
    return ["--logs_dir", root / "logs", "--base_model", base, "--data_dir", root / "casia",
            "--num_classes_per_batch", "3", "--images_per_class", "2", "--num_steps", "1", "--epoch_size", "1",
            "--learning_rate", "0.1", "--seed", "2"]


def mobilefacenet_step(root):
    from mobilefacenet import convert_recordio

    synthetic.make_ms1m(root / "ms1m", identities=8, images_per_identity=4)
    convert_recordio.main(["--data_dir", str(root / "ms1m"), "--output", str(root / "train.tfrecords")])
    return ["--logs_dir", root / "logs", "--tfrecords", root / "train.tfrecords", "--max_epoch", "1",
            "--steps_per_epoch", "1", "--train_batch_size", "8", "--bn_decay", "0.5", "--seed", "4"]


def temporal_step(root):
    from conftest import write_clips

    data = write_clips(root / "afew", clips_per_class=2)
    return ["--logs_base_dir", root / "logs", "--data_dir", data, "--max_nrof_epochs", "1", "--epoch_size", "1",
            "--batch_size", "8", "--no_augment", "--learning_rate", "0.01", "--bn_decay", "0.9", "--seed", "3"]


# trainer -> (its flag for the runs folder, its one-step arguments on synthetic data made under root)
ONE_STEP = {"covpoolfer.train": ("--models_base_dir", covpoolfer_step),
            "covpoolfer.tempPoolTrain": ("--models_base_dir", temporal_step),
            "pfe.train_base": ("--models_dir", pfe_base_step),
            "pfe.train": ("--models_dir", pfe_head_step),
            "mobilefacenet.train_nets": ("--models_dir", mobilefacenet_step)}


def test_every_tensorflow_trainer_of_the_table_has_a_one_step_recipe():
    assert TRAINERS and set(TRAINERS) == set(ONE_STEP)


@pytest.mark.parametrize("trainer", TRAINERS)
def test_two_cpu_replicas_take_the_single_device_step(trainer, tmp_path, mirrored_equals_one_device):
    models_flag, step = ONE_STEP[trainer]
    mirrored_equals_one_device(trainer, models_flag, tmp_path / "runs", *step(tmp_path))
