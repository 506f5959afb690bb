"""A released PFE base alone through our chain (the full sphere64 + uncertainty module release:
tests/common/test_releases.py), against an independent tf.compat.v1 build of the original graph
(tests/tf1_originals.py)."""

import numpy as np
import pytest
import tensorflow as tf

from common import synthetic
from common.cli import run
from pfe import ckpt2pb, convert_checkpoint, train


@pytest.mark.slow
def test_released_base_starts_head_training_and_stays_untouched(tmp_path, make_original, capsys):
    ckpt, _, _ = make_original("pfe", tmp_path / "orig", "--depth", "4", "--base_only", "--images", "2")
    casia = synthetic.make_casia(tmp_path / "casia", identities=4, images_per_identity=4)
    train.main(["--pretrained_model", str(ckpt), "--data_dir", str(casia), "--models_dir", str(tmp_path / "pfe"),
                "--logs_dir", str(tmp_path / "logs"), "--num_classes_per_batch", "2", "--images_per_class", "4",
                "--num_steps", "1", "--epoch_size", "1"])
    (run_dir,) = list((tmp_path / "pfe").iterdir())
    from pfe.models.checkpoints import restore_model

    (base, _), config, _ = restore_model(str(run_dir))
    assert config["depth"] == 4
    theirs = tf.train.load_checkpoint(str(ckpt / "ckpt-3000"))
    np.testing.assert_array_equal(base.get_layer("conv3_0").kernel.numpy(), theirs.get_tensor("SphereNet/conv3/Conv/weights"))
    np.testing.assert_array_equal(base.get_layer("conv1_0_prelu").alpha.numpy(),
                                  theirs.get_tensor("SphereNet/conv1/Conv/p_re_lu/alpha"))

    convert_checkpoint.main(["--ckpt_path", str(ckpt), "--output_dir", str(tmp_path / "converted")])
    assert "base only, a `train_base` run" in capsys.readouterr().out
    from pfe.models.checkpoints import base_config, load_base_weights
    from pfe.models.sphere_net import build_base

    converted = build_base(4)
    load_base_weights(converted, *base_config(str(tmp_path / "converted")))  # a converted run is one of ours
    np.testing.assert_array_equal(converted.get_layer("conv3_0").kernel.numpy(),
                                  theirs.get_tensor("SphereNet/conv3/Conv/weights"))
    assert run(ckpt2pb.main, ["--ckpt_path", str(ckpt), "--output_path", str(tmp_path / "pb")]) == 1
    assert "expected a PFE model with its uncertainty module" in capsys.readouterr().err


@pytest.mark.parametrize("depth", [4, 10, 20, 36, 64])
def test_depth_is_read_off_the_block_names(depth, tmp_path):
    from pfe.models.original import describe
    from pfe.models.sphere_net import DEPTHS

    names = {"SphereNet/conv1/Conv/weights": np.zeros([1], np.float32),
             "SphereNet/Bottleneck/weights": np.zeros([4, 512], np.float32)}
    for k, blocks in enumerate(DEPTHS[depth], 1):
        names.update({f"SphereNet/conv{k}/Conv_{j}/weights": np.zeros([1], np.float32) for j in range(1, 2 * blocks + 1)})
    variables = {n: tf.Variable(v) for n, v in names.items()}
    tf.compat.v1.train.Saver(var_list=variables).save(None, str(tmp_path / "ckpt-1"))
    config = describe(str(tmp_path / "ckpt-1"))
    assert (config["depth"], config["embedding_size"], config["stage"]) == (depth, 512, "train_base")
