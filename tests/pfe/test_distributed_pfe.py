"""PFE under tf.distribute: on two CPU replicas the base (AM-Softmax) and the uncertainty head
(MLS over every pair of the global batch) take the same step as on one device."""

import pytest

from common import synthetic

BASE = ["--depth", "4", "--batch_size", "8", "--num_steps", "1", "--epoch_size", "1", "--optimizer", "MOM",
        "--learning_rate", "0.01", "--seed", "2"]
HEAD = ["--num_classes_per_batch", "3", "--images_per_class", "2", "--num_steps", "1", "--epoch_size", "1",
        "--learning_rate", "0.1", "--seed", "2"]


@pytest.fixture(scope="module")
def casia(tmp_path_factory):
    return synthetic.make_casia(tmp_path_factory.mktemp("casia") / "casia", identities=6, images_per_identity=4)


def test_base_and_head_on_two_cpu_replicas_equal_one_device(casia, tmp_path, mirrored_equals_one_device):
    base = mirrored_equals_one_device("pfe.train_base", "--models_dir", tmp_path / "base", "--data_dir", casia,
                                      "--logs_dir", tmp_path / "logs", *BASE)
    # Both heads start from the same base. The batch is [A A B | B C C] across the two replicas: a
    # replica that scored only its own half would miss B's pair and give a different loss.
    mirrored_equals_one_device("pfe.train", "--models_dir", tmp_path / "head", "--base_model", base["one"],
                               "--data_dir", casia, "--logs_dir", tmp_path / "logs", *HEAD)
