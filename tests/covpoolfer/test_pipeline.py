"""CovPoolFER end to end on tiny synthetic SFEW: train, resume, freeze, pic2bin, msame, getAcc."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from conftest import one_error_line  # noqa: E402

from common import synthetic  # noqa: E402
from common.cli import StageError  # noqa: E402
from common.tf.training import check_finite, lr_for_epoch, read_lr_schedule  # noqa: E402
from covpoolfer import ckpt2pb, getAcc, pic2bin, train  # noqa: E402
from covpoolfer.models.covpoolnet import build_model  # noqa: E402

pytestmark = [pytest.mark.tf, pytest.mark.slow]
ARGS = ["--batch_size", "8", "--epoch_size", "2", "--seed", "1"]


@pytest.fixture(scope="module")
def sfew(tmp_path_factory):
    return synthetic.make_sfew(tmp_path_factory.mktemp("d") / "SFEW_100", 3, 2, identities=12)


@pytest.fixture(scope="module")
def trained(sfew, tmp_path_factory):
    base = tmp_path_factory.mktemp("run")
    train.main(["--data_dir", str(sfew), "--models_base_dir", str(base / "models"),
                "--logs_base_dir", str(base / "logs"), "--max_nrof_epochs", "1", *ARGS])
    return base


def _run_dir(base):
    (run,) = list((base / "models").iterdir())
    return run


def test_training_writes_checkpoint_config_and_logs(trained):
    run = _run_dir(trained)
    assert tf.train.latest_checkpoint(str(run)).endswith("ckpt-1")
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["classes"] == sorted(synthetic.SFEW_CLASSES) and cfg["model_def"] == "covpoolnet2"
    assert any((trained / "logs").rglob("events.out.tfevents*"))


def test_resume_continues_and_bimap_stays_orthonormal_and_centres_move(trained, sfew):
    train.main(["--data_dir", str(sfew), "--models_base_dir", str(trained / "models"),
                "--logs_base_dir", str(trained / "logs"), "--max_nrof_epochs", "2", "--resume", *ARGS])
    run = _run_dir(trained)  # still one run folder: resumed, not restarted
    assert tf.train.latest_checkpoint(str(run)).endswith("ckpt-2")
    model = build_model("covpoolnet2")
    centers = tf.Variable(tf.zeros([7, 128]))
    tf.train.Checkpoint(model=model, centers=centers).restore(
        tf.train.latest_checkpoint(str(run))).expect_partial()
    w = model.get_layer("spdpooling1").orth_weight.numpy()
    np.testing.assert_allclose(w.T @ w, np.eye(128), atol=1e-4)
    assert np.abs(centers.numpy()).sum() > 0


def test_resume_skips_a_damaged_checkpoint_and_removes_a_cut_short_save(sfew, tmp_path, caplog):
    """A save cut short (ckpt-3_temp) is removed; a truncated newest checkpoint is skipped in one
    warning line for the one before, and training goes on from there."""
    flags = ["--data_dir", str(sfew), "--models_base_dir", str(tmp_path / "m"), "--logs_base_dir", str(tmp_path / "l"),
             *ARGS]
    result = train.main([*flags, "--max_nrof_epochs", "2"])
    run = result["run_dir"]
    assert result["checkpoint"].endswith("ckpt-2") and result["steps"] == 4
    (run / "ckpt-3_temp").mkdir()
    (run / "ckpt-3_temp" / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"cut")
    data = next(run.glob("ckpt-2.data-*"))
    data.write_bytes(data.read_bytes()[:64])
    with caplog.at_level("WARNING"):
        result = train.main([*flags, "--max_nrof_epochs", "3", "--resume"])
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("ckpt-3_temp" in w for w in warnings) and not (run / "ckpt-3_temp").exists()
    assert any("ckpt-2: expected a readable checkpoint" in w and "ckpt-1" in w for w in warnings)
    assert result["run_dir"] == run and result["checkpoint"].endswith("ckpt-3")
    tf.train.load_checkpoint(result["checkpoint"])  # the new newest reads


def test_a_run_that_fails_before_its_first_checkpoint_leaves_no_folder(sfew, tmp_path):
    with pytest.raises(StageError, match="none"):
        train.main(["--data_dir", str(sfew), "--models_base_dir", str(tmp_path / "m"), "--logs_base_dir",
                    str(tmp_path / "l"), "--pretrained_model", str(tmp_path / "none"), *ARGS])
    assert not (tmp_path / "m").exists() or not list((tmp_path / "m").iterdir())


def test_frozen_centers_keep_the_centres_at_zero(sfew, tmp_path):
    train.main(["--data_dir", str(sfew), "--models_base_dir", str(tmp_path), "--logs_base_dir",
                str(tmp_path / "l"), "--max_nrof_epochs", "1", "--frozen_centers", *ARGS])
    (run,) = [d for d in tmp_path.iterdir() if d.name != "l"]
    reader = tf.train.load_checkpoint(str(run))
    assert np.abs(reader.get_tensor("centers/.ATTRIBUTES/VARIABLE_VALUE")).sum() == 0


def test_nan_guard_and_schedule(tmp_path):
    with pytest.raises(StageError, match="loss became nan at step 7"):
        check_finite(float("nan"), 7, None)
    sched = read_lr_schedule("covpoolfer/data/learning_rate.txt")
    assert [lr_for_epoch(sched, e) for e in (0, 79, 80, 1200)] == [0.005, 0.005, 0.002, 1e-5]


def test_model_has_no_fixed_batch_and_both_variants_build():
    for model_def, feat in (("covpoolnet", 128), ("covpoolnet2", 128)):
        m = build_model(model_def)
        for batch in (1, 3):
            out = m(np.zeros((batch, 100, 100, 3), np.float32), training=False)
            assert out["logits"].shape == (batch, 7) and out["features"].shape == (batch, feat)


def test_freeze_pic2bin_msame_getacc_agree_with_keras(trained, sfew, tmp_path, capsys):
    run = _run_dir(trained)
    ckpt2pb.main(["--ckpt_path", str(run), "--output_path", str(tmp_path), "--batch_size", "4",
                  "--extra_outputs"])
    spec = json.loads((tmp_path / "CovPoolFER.json").read_text())
    assert spec["inputs"] == [{"name": "inputImage", "shape": [4, 100, 100, 3], "dtype": "float32"}]
    assert spec["outputs"][0] == {"name": "output", "shape": [4], "dtype": "int32"}
    # 14 val images at batch 4: 3 full bins + a padded one with 2 labels (nothing dropped).
    pic2bin.main(["--input_image_dir", str(sfew / "val"), "--output_bin_dir", str(tmp_path / "bins"),
                  "--output_reference_file", str(tmp_path / "refs"), "--batch_size", "4"])
    assert sorted(os.listdir(tmp_path / "bins")) == ["0.bin", "1.bin", "2.bin", "3.bin"]
    assert (tmp_path / "bins" / "0.bin").stat().st_size == 4 * 100 * 100 * 3 * 4
    assert (tmp_path / "refs" / "3.txt").read_text().count(" ") == 2
    r = subprocess.run([sys.executable, "-m", "covpoolfer", "msame", "--model", str(tmp_path / "CovPoolFER.pb"),
                        "--input", str(tmp_path / "bins"), "--output", str(tmp_path / "out"), "--outfmt", "TXT"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    (ts,) = list((tmp_path / "out").iterdir())
    capsys.readouterr()
    getAcc.main(["--input_om_out", str(ts), "--input_reference_out", str(tmp_path / "refs")])
    printed = capsys.readouterr().out
    acc = float(printed.split("总准确率 ")[1].split()[0])
    # The same accuracy straight from Keras on the checkpoint.
    from covpoolfer.data import list_dataset, load_images
    from covpoolfer.trainer import predict

    cfg = json.loads((run / "config.json").read_text())
    model = build_model(cfg["model_def"], 7, apply_dropout=False)
    tf.train.Checkpoint(model=model).restore(tf.train.latest_checkpoint(str(run))).expect_partial()
    paths, labels, _ = list_dataset(sfew / "val")
    keras_logits = predict(model, load_images(paths, 100), 4)["logits"]
    frozen_logits = np.concatenate([np.loadtxt(ts / f"{k}_output_1.txt") for k in range(4)])[:14]
    np.testing.assert_allclose(frozen_logits, keras_logits, rtol=1e-3, atol=1e-3)
    frozen_pred = np.concatenate([np.loadtxt(ts / f"{k}_output_0.txt") for k in range(4)])[:14]
    np.testing.assert_array_equal(frozen_pred, frozen_logits.argmax(1))
    assert acc == pytest.approx(np.mean(frozen_pred == labels))
    assert "/14 images, 4 batches)" in printed


def test_getacc_rejects_missing_outputs(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "0_output_0.txt").write_text("1 2 ")
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "0.txt").write_text("1 2 ")
    (tmp_path / "refs" / "1.txt").write_text("1 ")
    with pytest.raises(StageError, match=r"missing \['1'\]"):
        getAcc.main(["--input_om_out", str(tmp_path / "out"), "--input_reference_out", str(tmp_path / "refs")])


def test_train_rejects_bad_data_dir(tmp_path):
    (tmp_path / "empty").mkdir()
    r = subprocess.run([sys.executable, "-m", "covpoolfer", "train", "--data_dir", str(tmp_path / "empty")],
                       capture_output=True, text=True)
    line = one_error_line(r.stderr)
    assert r.returncode == 1 and line.endswith("expected class sub-folders, found none")
    # Anything else on stderr is TensorFlow's own import log (its oneDNN notice ignores
    # TF_CPP_MIN_LOG_LEVEL), never a second message of ours.
    others = [ln for ln in r.stderr.splitlines() if ln != line]
    assert all(re.match(r"WARNING: All log messages before absl::InitializeLog|[IWEF]\d{4} ", ln) for ln in others), others


def test_getacc_accepts_the_msame_root_folder(tmp_path, capsys):
    ts = tmp_path / "out" / "2022120_0_50_11_580762"
    ts.mkdir(parents=True)
    (ts / "0_output_0.txt").write_text("1 2 3 0 ")  # padded batch: 4 predictions, 3 labels
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "0.txt").write_text("1 2 4 ")
    getAcc.main(["--input_om_out", str(tmp_path / "out"), "--input_reference_out", str(tmp_path / "refs")])
    assert "(2/3 images, 1 batches)" in capsys.readouterr().out


def test_msame_rejects_a_wrong_size_bin_in_one_line(trained, tmp_path):
    ckpt2pb.main(["--ckpt_path", str(_run_dir(trained)), "--output_path", str(tmp_path), "--batch_size", "2"])
    (tmp_path / "bins").mkdir()
    np.zeros((3, 100, 100, 3), np.float32).tofile(tmp_path / "bins" / "0.bin")  # 3 images, not 2
    r = subprocess.run([sys.executable, "-m", "covpoolfer", "msame", "--model", str(tmp_path / "CovPoolFER.pb"),
                        "--input", str(tmp_path / "bins"), "--output", str(tmp_path / "out")],
                       capture_output=True, text=True)
    assert r.returncode == 1
    line = one_error_line(r.stderr)
    assert "0.bin" in line and str(2 * 100 * 100 * 3 * 4) in line and str(3 * 100 * 100 * 3 * 4) in line


@pytest.mark.slow
def test_predict_on_a_real_photo_draws_and_writes_every_face(trained, tmp_path):
    """Your own photos: the astronaut (scikit-image's public-domain photo) through detection,
    alignment and the small checkpoint: one face, probabilities that sum to 1, a picture."""
    skimage = pytest.importorskip("skimage")
    pytest.importorskip("mtcnn")
    from covpoolfer import predict

    photo = os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png")
    result = predict.main(["--ckpt_path", str(_run_dir(trained)), photo, "--picture", str(tmp_path / "p.png"),
                           "--json", str(tmp_path / "p.json")])
    (face,) = result["photos"][0]["faces"]
    assert face["expression"] in synthetic.SFEW_CLASSES and abs(sum(face["probabilities"].values()) - 1) < 1e-4
    assert json.loads((tmp_path / "p.json").read_text())["photos"][0]["faces"][0]["box"] == face["box"]
    from PIL import Image

    assert Image.open(tmp_path / "p.png").size == (512, 512)
    Image.new("RGB", (200, 200), "grey").save(tmp_path / "blank.png")
    r = subprocess.run([sys.executable, "-m", "covpoolfer", "predict", "--ckpt_path", str(_run_dir(trained)),
                        str(tmp_path / "blank.png")], capture_output=True, text=True)
    assert r.returncode == 1 and "expected a face, found none" in one_error_line(r.stderr)
