"""The author's TF1 checkpoints beyond the frozen graph (tests/common/test_releases.py): converted,
trained from, classified, and broken ones refused, against an independent tf.compat.v1 build of
the original graph (tests/tf1_originals.py)."""

import numpy as np
import pytest
import tensorflow as tf
from conftest import one_error_line

from common import synthetic
from common.cli import run
from common.images import load_rgb
from covpoolfer import ckpt2pb, classify, convert_checkpoint, train
from covpoolfer.data import list_dataset


@pytest.fixture(scope="module")
def original(tmp_path_factory, make_original):
    """SFEW-style val faces and a covpoolnet checkpoint as the author released it: scope DLP-CNN,
    a `checkpoint` file with the author's absolute paths and an older, partial step beside."""
    root = tmp_path_factory.mktemp("covpool_original")
    sfew = synthetic.make_sfew(root / "SFEW_100", 1, 1, identities=4)
    paths, labels, _ = list_dataset(sfew / "val")
    pixels = np.stack([load_rgb(p, (100, 100)) for p in paths])
    ckpt, expected, _ = make_original("covpoolfer", root / "orig", "--scope", "DLP-CNN", "--model_def", "covpoolnet",
                                      "--foreign_checkpoint_file", pixels=pixels)
    return sfew, ckpt, expected


@pytest.mark.slow
def test_convert_checkpoint_then_train_from_the_original_weights(original, tmp_path, capsys):
    sfew, ckpt, expected = original
    assert expected["clipped_fraction"] > 0.2  # ReEig's floor is active on these features
    convert_checkpoint.main(["--ckpt_path", str(ckpt), "--output_dir", str(tmp_path / "converted")])
    from covpoolfer.models.checkpoints import restore_model

    model, config, _ = restore_model(str(tmp_path / "converted"))
    assert (config["model_def"], config["embedding_size"], config["scope"]) == ("covpoolnet", 7, "DLP-CNN")
    pixels = np.stack([load_rgb(p, (100, 100)) for p in list_dataset(sfew / "val")[0]]).astype(np.float32)
    np.testing.assert_allclose(model(pixels, training=False)["logits"].numpy(), expected["logits"], atol=1e-3)

    # --pretrained_model: at learning rate 0 the trained run keeps the author's conv weights.
    train.main(["--data_dir", str(sfew), "--models_base_dir", str(tmp_path / "models"), "--logs_base_dir",
                str(tmp_path / "logs"), "--model_def", "covpoolnet", "--pretrained_model", str(ckpt),
                "--learning_rate", "0", "--max_nrof_epochs", "1", "--epoch_size", "1", "--batch_size", "4",
                "--weight_decay", "0", "--no_augment"])
    (run_dir,) = list((tmp_path / "models").iterdir())
    trained, _, _ = restore_model(str(run_dir))
    theirs = tf.train.load_checkpoint(str(ckpt / "model-20170815-144407.ckpt-90000"))
    for layer in ("Conv2d_1", "Conv2dfo_6", "fc_1"):
        np.testing.assert_array_equal(trained.get_layer(layer).kernel.numpy(), theirs.get_tensor(f"DLP-CNN/{layer}/weights"))

    classify.main(["--ckpt_path", str(ckpt), "--data_dir", str(sfew)])
    assert "linear SVM on L2-normalised features: val accuracy" in capsys.readouterr().out


def _tf1_save(prefix, tensors: dict) -> None:
    """A name-based TF1 checkpoint of `tensors`, as tf.compat.v1.train.Saver writes it."""
    variables = {name: tf.Variable(value) for name, value in tensors.items()}
    tf.compat.v1.train.Saver(var_list=variables).save(None, str(prefix))


def _error(capsys, argv) -> str:
    assert run(ckpt2pb.main, argv) == 1
    return one_error_line(capsys.readouterr().err)


@pytest.mark.slow
def test_broken_and_foreign_checkpoints_fail_in_one_line(original, tmp_path, capsys):
    _, ckpt, _ = original
    prefix = str(ckpt / "model-20170815-144407.ckpt-90000")
    reader = tf.train.load_checkpoint(prefix)
    tensors = {n: reader.get_tensor(n) for n, _ in tf.train.list_variables(prefix)}
    out = ["--output_path", str(tmp_path / "pb")]

    missing = dict(tensors)
    del missing["DLP-CNN/fc_2/BatchNorm/beta"]
    _tf1_save(tmp_path / "missing" / "model.ckpt-1", missing)
    line = _error(capsys, ["--ckpt_path", str(tmp_path / "missing"), *out])
    assert "1 missing: DLP-CNN/fc_2/BatchNorm/beta (expected [128])" in line

    reshaped = {**tensors, "DLP-CNN/Conv2d_2/weights": np.zeros([3, 3, 64, 95], np.float32)}
    _tf1_save(tmp_path / "shape" / "model.ckpt-1", reshaped)
    line = _error(capsys, ["--ckpt_path", str(tmp_path / "shape"), *out])
    assert "DLP-CNN/Conv2d_2/weights expected [3, 3, 64, 96] found [3, 3, 64, 95]" in line

    _tf1_save(tmp_path / "mfn" / "MobileFaceNet_TF.ckpt", {"MobileFaceNet/Conv2d_0/weights": np.zeros([3, 3, 3, 64], np.float32)})
    line = _error(capsys, ["--ckpt_path", str(tmp_path / "mfn"), *out])
    assert "expected a CovPoolFER checkpoint" in line and "found variables under MobileFaceNet" in line

    extra = {**tensors, "DLP-CNN/fc_9/weights": np.zeros([2, 2], np.float32), "centers": np.zeros([7, 7], np.float32),
             "global_step": np.int64(5), "DLP-CNN/fc_1/weights/Adam": np.zeros([1], np.float32)}
    _tf1_save(tmp_path / "extra" / "model.ckpt-1", extra)
    assert run(ckpt2pb.main, ["--ckpt_path", str(tmp_path / "extra"), *out, "--batch_size", "1"]) == 0
    warnings = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].endswith("1 variable(s) not used: DLP-CNN/fc_9/weights")


@pytest.mark.parametrize("scope", ["CovPoolNetwork", "CovPool2"])
def test_scope_and_head_are_read_off_the_names(scope, tmp_path):
    from covpoolfer.models.original import describe

    _tf1_save(tmp_path / "model.ckpt-7", {f"{scope}/Conv2d_1/weights": np.zeros([3, 3, 3, 64], np.float32),
                                          f"{scope}/Bottleneck/weights": np.zeros([2000, 128], np.float32),
                                          "Logits/weights": np.zeros([128, 7], np.float32)})
    config = describe(str(tmp_path / "model.ckpt-7"))
    assert (config["scope"], config["model_def"], config["embedding_size"], config["num_classes"]) == \
        (scope, "covpoolnet2", 128, 7)
