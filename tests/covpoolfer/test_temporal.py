"""CovPoolFER's temporal pooling network against the released checkpoint's layout: a TF1 graph
built from the original's facts (tests/tf1_temporal.py) and saved as the release is distributed
(its folder, a `checkpoint` file naming the author's paths, the .meta) loads as it is, gives the
original graph's logits within 1e-4 on the same clips, and `softmaxClassifier` predicts what the
original graph predicts."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from common.cli import StageError, run

tf = pytest.importorskip("tensorflow")

from conftest import write_clips  # noqa: E402

from covpoolfer import ckpt2pb, softmaxClassifier, tempPoolTrain  # noqa: E402
from covpoolfer.afew import clip_covariance, list_clips, load_features  # noqa: E402
from covpoolfer.models.checkpoints import restore_temporal_model  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("afew")
    features = write_clips(root / "Val", clips_per_class=5)  # 35 clips: two batches of 31, the second padded
    r = subprocess.run([sys.executable, str(Path(__file__).parents[1] / "tf1_temporal.py"), "--features", str(features),
                        "--out", str(root / "original")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return features, root / "original" / "20180618-004944", dict(np.load(root / "original" / "expected.npz"))


def test_the_release_folder_loads_as_it_is_and_gives_the_original_logits(release):
    features, folder, expected = release
    model, config, prefix = restore_temporal_model(str(folder))
    assert prefix.endswith("model-20180618-004944.ckpt-7200")  # the `checkpoint` file names other paths
    assert (config["dims"], config["bottleneck"], config["num_classes"]) == ([64, 32, 16, 8], 32, 7)
    clips = list_clips(features)
    covs = np.stack([clip_covariance(load_features(p)) for p in clips.paths])
    logits = model(covs, training=False)["logits"].numpy()
    np.testing.assert_allclose(logits, expected["logits"], rtol=0, atol=1e-4)
    assert np.ptp(expected["logits"].argmax(1)) > 0  # the clips are told apart


def test_softmax_classifier_predicts_as_the_original_graph(release, tmp_path, capsys):
    features, folder, expected = release
    result = softmaxClassifier.main([str(features), str(folder), "--batch_size", "31",
                                     "--predictions", str(tmp_path / "p.tsv")])
    assert result["predictions"] == expected["logits"].argmax(1).tolist()
    accuracy = float(np.mean(expected["logits"].argmax(1) == expected["labels"]))
    out = capsys.readouterr().out
    assert f"Total Accuracy: {100 * accuracy:.3f}%" in out and "Accuracy of Angry" in out
    # Clips without a face count as chance: 35 scored of 383, each missing one 100/7 per cent.
    assert result["adjusted_accuracy"] == pytest.approx((accuracy * 35 + (383 - 35) / 7) / 383)
    rows = (tmp_path / "p.tsv").read_text().splitlines()
    assert rows[0] == "clip\tlabel\tpredicted" and len(rows) == 36


def test_the_release_freezes_with_the_original_node_names_and_classifies_the_same(release, tmp_path):
    features, folder, expected = release
    frozen = ckpt2pb.main(["--ckpt_path", str(folder), "--output_path", str(tmp_path)])
    assert frozen["path"] == tmp_path / "TemporalPool.pb"
    assert [(t.name, t.shape) for t in frozen["spec"].inputs] == [("input", [31, 128, 128]), ("phase_train", [])]
    assert [(t.name, t.shape) for t in frozen["spec"].outputs] == [("Logits/BiasAdd", [31, 7])]
    result = softmaxClassifier.main([str(features), str(frozen["path"]), "--batch_size", "31"])  # 35 clips: padded
    assert result["predictions"] == expected["logits"].argmax(1).tolist()


def test_a_one_frame_clip_is_listed_and_the_rest_go_on(release, tmp_path, capsys):
    features, folder, _ = release
    data = write_clips(tmp_path / "Val", clips_per_class=1, seed=1)
    np.save(data / "Happy" / "003000" / "003000.npy", np.zeros((1, 128), np.float32))
    result = softmaxClassifier.main([str(data), str(folder)])
    assert result["scored"] == 6 and result["skipped"] == [str(data / "Happy" / "003000")]
    assert "skipped: " in capsys.readouterr().err


def test_bad_models_and_features_fail_in_one_line(release, tmp_path, capsys):
    features, folder, _ = release
    bad = write_clips(tmp_path / "bad", clips_per_class=1, seed=2)
    np.save(bad / "Fear" / "002000" / "002000.npy", np.zeros((5, 64), np.float32))
    assert run(softmaxClassifier.main, [str(bad), str(folder)]) == 1
    assert "expected features [frames, 128], found float32 [5, 64]" in capsys.readouterr().err
    assert run(softmaxClassifier.main, [str(features), str(tmp_path)]) == 1  # no checkpoint there
    assert "expected a checkpoint folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    with pytest.raises(StageError, match="expected emotion folders"):
        list_clips(tmp_path / "empty")


def test_temporal_training_resumes_keeps_w_orthonormal_and_is_scored_by_softmax_classifier(release, tmp_path, capsys):
    features, _, _ = release
    args = ["--data_dir", str(features), "--models_base_dir", str(tmp_path / "models"), "--logs_base_dir",
            str(tmp_path / "logs"), "--epoch_size", "2", "--batch_size", "8", "--learning_rate", "0.01", "--seed", "1"]
    first = tempPoolTrain.main([*args, "--max_nrof_epochs", "1"])
    run_dir = first["run_dir"]
    assert (run_dir / "ckpt-1.index").is_file() and np.isfinite(first["loss"])
    second = tempPoolTrain.main([*args, "--max_nrof_epochs", "2", "--resume"])
    assert second["run_dir"] == run_dir and (run_dir / "ckpt-2.index").is_file()
    model, config, _ = restore_temporal_model(str(run_dir))
    assert config["network"] == "temporal_pool" and config["classes"][0] == "Angry"
    for w in (v for v in model.weights if "orth_weight" in v.name):
        np.testing.assert_allclose(w.numpy().T @ w.numpy(), np.eye(w.shape[1]), atol=1e-5)  # retracted after each step
    capsys.readouterr()
    result = softmaxClassifier.main([str(features), str(run_dir)])
    assert result["scored"] == 35 and 0.0 <= result["accuracy"] <= 1.0
    assert "Total Accuracy: " in capsys.readouterr().out

