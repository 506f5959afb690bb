"""The released PFE checkpoints (sphere64 + uncertainty module; a base alone) through our chain,
against an independent tf.compat.v1 build of the original graph (tests/tf1_originals.py)."""

import numpy as np
import pytest
import tensorflow as tf

from common import msame, synthetic
from common.cli import run
from common.images import load_rgb
from pfe import ckpt2pb, convert_checkpoint, eval_lfw, inf_input2bin, om_output_inf, train
from pfe.data import IMAGE_SIZE, lfw_images


@pytest.fixture(scope="module")
def lfw(tmp_path_factory):
    root = synthetic.make_lfw(tmp_path_factory.mktemp("pfe_lfw") / "lfw", identities=6, pairs_per_fold=2, folds=3)
    return root / "lfw_mtcnncaffe_aligned", root / "lfw_pairs.txt"


@pytest.fixture(scope="module")
def sphere64(lfw, tmp_path_factory, make_original):
    """PFE as released: ckpt-3000 of a sphere64 with its uncertainty module, a `checkpoint` file
    naming the author's paths and an older, partial step beside; run on the LFW test faces."""
    paths, _, _ = lfw_images(*lfw)
    pixels = np.stack([load_rgb(p, IMAGE_SIZE) for p in paths])
    ckpt, expected, _ = make_original("pfe", tmp_path_factory.mktemp("pfe_original"), "--depth", "64",
                                      "--foreign_checkpoint_file", pixels=pixels)
    return ckpt, expected


def _accuracy_lines(text: str) -> list[str]:
    """The cosine and MLS accuracy lines without their thresholds (they differ in the last digit)."""
    return [ln.split(" threshold")[0] for ln in text.splitlines() if "accuracy:" in ln]


@pytest.mark.slow
def test_released_pfe_freezes_and_runs_offline_as_the_original_graph(lfw, sphere64, tmp_path, capsys):
    (lfw_dir, pairs), (ckpt, expected) = lfw, sphere64
    ckpt2pb.main(["--ckpt_path", str(ckpt), "--output_path", str(tmp_path / "pb")])
    assert "sphere64) from " + str(ckpt / "ckpt-3000") in capsys.readouterr().out
    inf_input2bin.main(["--lfw_dir", str(lfw_dir), "--pairs_file", str(pairs), "--output_dir", str(tmp_path / "bins"),
                        "--image_list_out", str(tmp_path / "list.txt")])
    assert run(msame.main, ["--model", str(tmp_path / "pb" / "PFE.pb"), "--input", str(tmp_path / "bins"),
                            "--output", str(tmp_path / "out"), "--outfmt", "BIN"]) == 0
    (stamp,) = list((tmp_path / "out").iterdir())
    count = len(expected["mu"])
    mu = np.stack([np.fromfile(stamp / f"{i}_output_0.bin", np.float32) for i in range(count)])
    sigma_sq = np.stack([np.fromfile(stamp / f"{i}_output_1.bin", np.float32) for i in range(count)])
    np.testing.assert_allclose(mu, expected["mu"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(sigma_sq, expected["sigma_sq"], rtol=0, atol=1e-6)
    assert sigma_sq.std(0).mean() > 1e-4  # the uncertainty differs from face to face

    capsys.readouterr()
    om_output_inf.main(["--om_output", str(stamp), "--image_list", str(tmp_path / "list.txt"), "--pairs_file", str(pairs)])
    offline = _accuracy_lines(capsys.readouterr().out)
    eval_lfw.main(["--ckpt_path", str(ckpt / "ckpt-3000"), "--lfw_dir", str(lfw_dir), "--pairs_file", str(pairs)])
    assert _accuracy_lines(capsys.readouterr().out) == offline and len(offline) == 2


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
