"""The released MobileFaceNet_TF checkpoint (192-d) beyond the frozen graph (tests/common/test_releases.py):
EMA shadows, training from it, a damaged copy; against an independent tf.compat.v1 build of the
original graph (tests/tf1_originals.py)."""

import numpy as np
import pytest
import tensorflow as tf
from conftest import one_error_line

from common import synthetic
from common.cli import run
from common.images import decode_rgb
from mobilefacenet import (
    ckpt2pb,
    convert_recordio,
    train_nets,
)
from mobilefacenet.data import normalize, read_verification_bin

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def release(tmp_path_factory, make_original):
    """MobileFaceNet_TF.ckpt as released (192-d, the margin head's weights inside) plus what a
    user's own run adds (global_step, Adam slots, EMA shadows), run on the lfw.bin faces."""
    root = tmp_path_factory.mktemp("mfn_original")
    lfw = synthetic.make_lfw_bin(root / "lfw.bin", pairs_per_fold=1, folds=10, identities=30)
    bins, _ = read_verification_bin(lfw)
    pixels = np.stack([decode_rgb(b, "lfw", (112, 112)) for b in bins])
    ckpt, expected, _ = make_original("mobilefacenet", root / "orig", "--embedding_size", "192", "--extras",
                                      "--calibration_images", "8", pixels=pixels)
    return lfw, ckpt, expected, pixels


def test_ema_shadows_on_request(release):
    from mobilefacenet.models.checkpoints import restore_model
    from mobilefacenet.models.mobilefacenet import l2_normalize

    _, ckpt, expected, pixels = release
    x = normalize(pixels[:4])
    for use_ema, key in ((False, "embeddings"), (True, "embeddings_ema")):
        model, config, _ = restore_model(str(ckpt / "MobileFaceNet_TF.ckpt"), use_ema)
        assert (config["variant"], config["embedding_size"]) == ("repo", 192)
        np.testing.assert_allclose(l2_normalize(model(x, training=False)).numpy(), expected[key][:4], atol=1e-4)
    assert np.abs(expected["embeddings"] - expected["embeddings_ema"]).max() > 1e-2


def test_train_nets_starts_from_the_release(release, tmp_path, capsys):
    _, ckpt, _, _ = release
    synthetic.make_ms1m(tmp_path / "ms1m", identities=4, images_per_identity=4)
    convert_recordio.main(["--data_dir", str(tmp_path / "ms1m"), "--output", str(tmp_path / "train.tfrecords")])
    args = ["--tfrecords", str(tmp_path / "train.tfrecords"), "--models_dir", str(tmp_path / "models"),
            "--logs_dir", str(tmp_path / "logs"), "--max_epoch", "1", "--steps_per_epoch", "1",
            "--train_batch_size", "8", "--pretrained_model", str(ckpt), "--lr_values", "0,0,0,0,0",
            "--weight_decay", "0"]
    assert run(train_nets.main, args) == 1  # the paper variant at 128-d cannot hold the release
    assert "pass --variant repo --embedding_size 192" in capsys.readouterr().err
    train_nets.main([*args, "--variant", "repo", "--embedding_size", "192", "--models_dir", str(tmp_path / "ok")])
    (run_dir,) = list((tmp_path / "ok").iterdir())
    from mobilefacenet.models.checkpoints import restore_model

    trained, _, _ = restore_model(str(run_dir))
    theirs = tf.train.load_checkpoint(str(ckpt / "MobileFaceNet_TF.ckpt"))
    for layer, name in (("conv1", "Conv2d_0/weights"), ("stage4_block1_project", "Conv_30/weights"),
                        ("gdconv", "Logits/SeparableConv2d/depthwise_weights")):
        np.testing.assert_array_equal(trained.get_layer(layer).kernel.numpy(), theirs.get_tensor(f"MobileFaceNet/{name}"))


def test_a_truncated_release_fails_in_one_line(release, tmp_path, capsys):
    _, ckpt, _, _ = release
    (tmp_path / "cut").mkdir()
    for f in ckpt.glob("MobileFaceNet_TF.ckpt.*"):
        data = f.read_bytes()
        (tmp_path / "cut" / f.name).write_bytes(data[: len(data) // 10] if ".data-" in f.name else data)
    assert run(ckpt2pb.main, ["--ckpt_path", str(tmp_path / "cut"), "--output_path", str(tmp_path / "pb")]) == 1
    assert "found a damaged checkpoint" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "pb" / "MobileFaceNet.pb").exists()
