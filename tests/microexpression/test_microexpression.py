"""MicroExpression on PaddlePaddle: config, annotation splits, training with resume, evaluation,
export, paddle.inference, ONNX and the Paddle-Lite fallback. Never imports TensorFlow."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

paddle = pytest.importorskip("paddle")

from conftest import one_error_line  # noqa: E402

from common import synthetic  # noqa: E402
from common.backends import load_backend  # noqa: E402
from common.cli import StageError  # noqa: E402
from microexpression import annotate, config, evaluate, export, infer, train  # noqa: E402
from microexpression import export_onnx as onnx_stage  # noqa: E402

SMALL = ["--set", "image_shape=[3,32,32]", "--set", "batch_size=16", "--set", "epochs=1"]


def test_config_keeps_the_original_values_and_overrides(tmp_path):
    assert config.get("LEARNING_RATE.params.lr") == 0.00375
    assert config.get("OPTIMIZER.regularizer.factor") == 1e-6
    assert config.get("LABEL_MAP")[0] == "disgust" and config.get("LABEL_MAP")[6] == "fear"
    (tmp_path / "c.json").write_text('{"epochs": 3, "LEARNING_RATE": {"params": {"lr": 0.01}}}')
    c = config.load(str(tmp_path / "c.json"), ["batch_size=8", "total_images=17245"])
    assert (c["epochs"], c["batch_size"], c["total_images"], config.get("LEARNING_RATE.params.lr", c)) == (3, 8, 17245, 0.01)
    with pytest.raises(StageError, match="'LEARNING_RATE.params.rate'"):
        config.load(None, ["LEARNING_RATE.params.rate=1"])


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = synthetic.make_casme2(tmp_path_factory.mktemp("casme"), subjects=5, clips_per_subject=7, frames_per_clip=3)
    # One grayscale frame (kept, converted on load) and one broken file (listed, left out).
    gray = next(root.glob("train/*/*.jpg"))
    Image.open(gray).convert("L").save(gray)
    (root / "valid" / "others" / "sub01_EP99_01_reg_img1.jpg").write_bytes(b"not a jpeg")
    return root


def _annotate(root, split, capsys):
    capsys.readouterr()
    annotate.main(["--data_root", str(root), "--split", split])
    return capsys.readouterr().out


def _subjects(root, mode):
    return {line.split("/")[-1].split("_")[0] for line in (root / f"{mode}.txt").read_text().splitlines()}


def test_annotate_splits_report_and_never_drop_silently(data, capsys):
    out = _annotate(data, "random", capsys)
    total = sum(len((data / f"{m}.txt").read_text().splitlines()) for m in ("train", "valid", "test"))
    assert total == 105  # 5 x 7 x 3 frames; the broken file is left out and said so
    assert "1 non-RGB converted on load; 1 unreadable left out" in out and "sub01_EP99_01_reg_img1.jpg" in out
    out = _annotate(data, "subject", capsys)
    assert "in more than one split: 0" in out
    splits = [_subjects(data, m) for m in ("train", "valid", "test")]
    assert not (splits[0] & splits[1] or splits[0] & splits[2] or splits[1] & splits[2])
    out = _annotate(data, "folders", capsys)
    line = (data / "train.txt").read_text().splitlines()[0]
    path, label = line.split("\t")
    assert path.startswith("train/") and config.get("LABEL_MAP")[int(label)] == path.split("/")[1]


def test_dataset_eval_is_deterministic(data, capsys):
    from microexpression.data import MicroExpression

    _annotate(data, "folders", capsys)
    valid = MicroExpression("valid", data, (3, 32, 32))
    x1, y1 = valid[0]
    x2, _ = valid[0]
    assert x1.shape == [3, 32, 32] or tuple(x1.shape) == (3, 32, 32)
    np.testing.assert_array_equal(np.asarray(x1), np.asarray(x2))
    assert y1.dtype == np.int64


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    work = tmp_path_factory.mktemp("train")
    annotate.main(["--data_root", str(data), "--split", "subject"])
    args = ["--data_root", str(data), "--arch", "resnet18", "--save_dir", str(work / "chk"),
            "--log_dir", str(work / "visualdl_log"), "--set", f"model_save_dir={work / 'out' / 'MicroExpression'}",
            *SMALL]
    train.main(args)
    return work, args


@pytest.mark.slow
def test_training_resumes_from_the_last_epoch(trained, caplog):
    work, args = trained
    assert (work / "chk" / "0.pdparams").is_file() and (work / "out" / "MicroExpression.pdparams").is_file()
    assert list((work / "visualdl_log").glob("vdlrecords.*.log")), "no VisualDL curves (visualdl is in the paddle extra)"
    caplog.set_level("INFO", "microexpression.train")
    train.main([*args, "--resume", "--set", "epochs=2"])
    assert "resumed from" in caplog.text
    assert (work / "chk" / "1.pdparams").is_file()
    assert not [p.name for p in (work / "chk").iterdir() if p.name.startswith(".")]  # no partial saves left
    # A damaged newest checkpoint (a save cut short by a full disk) is skipped, in one line.
    newest = work / "chk" / "1.pdparams"
    newest.write_bytes(newest.read_bytes()[:100])
    caplog.clear()
    train.main([*args, "--resume", "--set", "epochs=2"])
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "1.pdparams: expected a readable checkpoint" in warnings[0]
    assert f"resumed from {work / 'chk' / '0'}" in caplog.text
    assert (work / "chk" / "1.pdparams").stat().st_size > 100  # epoch 2 trained and saved again


@pytest.mark.slow
def test_evaluate_export_infer_onnx_and_msame_agree(trained, data, tmp_path, capsys):
    work, _ = trained
    model = str(work / "out" / "MicroExpression")
    evaluate.main(["--model", model, "--data_root", str(data), "--plot", str(tmp_path / "cm.png")])
    printed = capsys.readouterr().out
    assert "top-1" in printed and "top-5" in printed and (tmp_path / "cm.png").is_file()
    export.main(["--model", model, "--output", str(tmp_path / "infer" / "M")])
    assert (tmp_path / "infer" / "M.json").is_file() and (tmp_path / "infer" / "M.pdiparams").is_file()
    export.main(["--model", model, "--output", str(tmp_path / "legacy" / "M"), "--legacy"])
    assert (tmp_path / "legacy" / "M.pdmodel").is_file()
    # paddle.inference (both formats) against the dygraph network.
    from microexpression.models.checkpoints import restore_model

    net = restore_model(model)[0].network
    net.eval()
    x = np.random.default_rng(0).normal(size=(2, 3, 32, 32)).astype(np.float32)
    expected = net(paddle.to_tensor(x)).numpy()
    for prefix in (tmp_path / "infer" / "M", tmp_path / "legacy" / "M"):
        model_file = next(f for f in (prefix.with_suffix(".json"), prefix.with_suffix(".pdmodel")) if f.is_file())
        backend = load_backend(model_file)
        assert backend.name.startswith("paddle.inference")
        (got,) = backend([x])
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    onnx_stage.main(["--model", str(tmp_path / "infer" / "M"), "--output", str(tmp_path / "M.onnx"),
                     "--image_shape", "3,32,32"])
    assert "max relative difference" in capsys.readouterr().out
    x[:1].tofile(tmp_path / "x.bin")
    # The portable msame runs the .onnx and Paddle's own exported model alike (one backend table).
    for model_file, out in ((tmp_path / "M.onnx", "out"), (tmp_path / "infer" / "M.json", "out_paddle")):
        r = subprocess.run([sys.executable, "-m", "microexpression", "msame", "--model", str(model_file),
                            "--input", str(tmp_path / "x.bin"), "--output", str(tmp_path / out)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-2000:]
        (ts,) = list((tmp_path / out).iterdir())
        np.testing.assert_allclose(np.fromfile(ts / "M_output_0.bin", np.float32), expected[0], rtol=1e-4,
                                   atol=1e-4 * np.abs(expected).max())
    assert "paddle.inference" in r.stdout
    # infer preprocesses at the exported size by itself, takes train's own config, and refuses
    # another size rather than predicting from it.
    frames = str(next(p for p in data.glob("*/*") if p.is_dir() and any(p.iterdir())))
    capsys.readouterr()
    for extra in ([], ["--config", model + ".json"]):
        result = infer.main(["--model", str(tmp_path / "infer" / "M"), "--images", frames, *extra])
        assert result["images"] > 0
    with pytest.raises(StageError, match=r"exported for image_shape \[3, 32, 32\], found \[3, 224, 224\]"):
        infer.main(["--model", str(tmp_path / "infer" / "M"), "--images", frames, "--set", "image_shape=[3,224,224]"])


def test_pretrained_weights_load_offline_and_missing_ones_fail_in_one_line(tmp_path, capsys):
    from microexpression.models.resnet import build_model

    imagenet = paddle.vision.models.resnet18(num_classes=1000)
    paddle.save(imagenet.state_dict(), str(tmp_path / "resnet18.pdparams"))
    net = build_model("resnet18", 7, str(tmp_path / "resnet18.pdparams"))
    np.testing.assert_array_equal(net.conv1.weight.numpy(), imagenet.conv1.weight.numpy())
    assert net.fc.weight.shape == [512, 7]
    assert "1000-class classifier head is skipped" in capsys.readouterr().out
    r = subprocess.run([sys.executable, "-m", "microexpression", "train", "--data_root", str(tmp_path),
                        "--pretrained", str(tmp_path / "nope.pdparams")], capture_output=True, text=True)
    assert r.returncode == 1
    assert "nope.pdparams" in one_error_line(r.stderr)


def test_lite_without_paddlelite_points_to_onnx():
    r = subprocess.run([sys.executable, "-m", "microexpression", "lite"], capture_output=True, text=True)
    assert r.returncode == 1 and "ONNX route" in r.stderr


def test_this_process_never_imported_tensorflow():
    assert "tensorflow" not in sys.modules


def _one_line(*argv):
    r = subprocess.run([sys.executable, "-m", "microexpression", *argv], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr[-2000:]
    return one_error_line(r.stderr)


def test_empty_class_folder_is_one_line(tmp_path):
    for split in ("train", "valid", "test"):
        (tmp_path / split / "happiness").mkdir(parents=True)
        Image.new("RGB", (40, 40)).save(tmp_path / split / "happiness" / "sub01_a.jpg")
    (tmp_path / "valid" / "fear").mkdir()
    line = _one_line("annotate", "--data_root", str(tmp_path))
    assert "fear" in line and "found none" in line


def test_corrupt_image_in_an_annotation_is_one_line(tmp_path):
    for split in ("train", "valid"):
        (tmp_path / split / "happiness").mkdir(parents=True)
        Image.new("RGB", (40, 40)).save(tmp_path / split / "happiness" / "ok.jpg")
        (tmp_path / f"{split}.txt").write_text(f"{split}/happiness/ok.jpg\t3\n{split}/happiness/bad.jpg\t3\n")
        (tmp_path / split / "happiness" / "bad.jpg").write_bytes(b"\xff\xd8 truncated")
    line = _one_line("train", "--data_root", str(tmp_path), "--arch", "resnet18", "--save_dir", str(tmp_path / "c"),
                     "--set", "image_shape=[3,32,32]", "--set", "epochs=1", "--set", "batch_size=2",
                     "--set", f"model_save_dir={tmp_path / 'o' / 'M'}")
    assert "bad.jpg" in line


def test_a_model_saved_by_the_original_notebook_evaluates_predicts_and_exports(data, tmp_path, capsys):
    """paddle.Model.save of a paddle.vision ResNet with 7 classes and no .json beside it: the
    stages take the original settings and read arch and classes off the weights."""
    from microexpression import predict
    from microexpression.models.checkpoints import restore_model

    annotate.main(["--data_root", str(data), "--split", "subject"])
    paddle.seed(0)
    net = paddle.vision.models.resnet18(num_classes=7)
    original = paddle.Model(net)
    original.prepare(paddle.optimizer.Momentum(parameters=net.parameters()))
    original.save(str(tmp_path / "MicroExpression"))  # .pdparams + .pdopt, as the notebook
    assert not (tmp_path / "MicroExpression.json").exists()

    model, config, _ = restore_model(str(tmp_path / "MicroExpression"))
    loaded = model.network
    assert (config["arch"], config["num_classes"], config["image_shape"]) == ("resnet18", 7, [3, 224, 224])
    np.testing.assert_array_equal(loaded.fc.weight.numpy(), net.fc.weight.numpy())
    assert "original notebook's model (resnet18, 7 classes" in capsys.readouterr().out

    evaluate.main(["--model", str(tmp_path / "MicroExpression"), "--data_root", str(data)])
    assert "top-1" in capsys.readouterr().out
    predict.main(["--model", str(tmp_path / "MicroExpression"), "--data_root", str(data),
                  "--picture", str(tmp_path / "p.png")])
    assert (tmp_path / "p.png").is_file()
    export.main(["--model", str(tmp_path / "MicroExpression"), "--output", str(tmp_path / "infer" / "M")])
    assert any((tmp_path / "infer").glob("M.*"))

    paddle.save({"fc.weight": paddle.zeros([512, 3])}, str(tmp_path / "other.pdparams"))
    with pytest.raises(StageError, match="expected paddle.vision"):
        restore_model(str(tmp_path / "other"))
