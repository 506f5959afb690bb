"""PFE: sphere-net shapes, MLS against NumPy, a frozen base under head training, the om chain."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from conftest import one_error_line, train_tiny_pfe  # noqa: E402

from common import synthetic  # noqa: E402
from common.cli import StageError  # noqa: E402
from common.metrics import mls_pair_score  # noqa: E402
from pfe import ckpt2pb, inf_input2bin, om_output_inf  # noqa: E402
from pfe.fusion import aggregate_pfe  # noqa: E402
from pfe.losses import mls_loss  # noqa: E402
from pfe.models.sphere_net import build_base  # noqa: E402
from pfe.models.uncertainty import build_uncertainty  # noqa: E402

pytestmark = [pytest.mark.tf]


@pytest.mark.parametrize("depth, convs", [(4, 4), (10, 10), (20, 20), (36, 36), (64, 64)])
def test_every_depth_maps_112x96_to_7x6x512(depth, convs):
    base = build_base(depth)
    out = base(np.zeros((2, 112, 96, 3), np.float32))
    assert out["mu"].shape == (2, 512) and out["conv_final"].shape == (2, 7 * 6 * 512)
    assert sum(isinstance(layer, tf.keras.layers.Conv2D) for layer in base.layers) == convs
    np.testing.assert_allclose(np.linalg.norm(base(np.random.rand(3, 112, 96, 3).astype(np.float32))["mu"], axis=1),
                               1.0, rtol=1e-5)


def test_uncertainty_head_starts_at_exp_minus_7():
    head = build_uncertainty(21504)
    log_sigma_sq = head(np.random.default_rng(0).normal(size=(4, 21504)).astype(np.float32), training=False).numpy()
    assert log_sigma_sq.shape == (4, 512)
    np.testing.assert_allclose(np.exp(log_sigma_sq), np.exp(-7.0) + 1e-6, rtol=1e-3)
    assert len(head.losses) == 2  # decay on the two kernels only


def test_mls_loss_and_score_match_numpy():
    rng = np.random.default_rng(1)
    mu = rng.normal(size=(6, 5))
    mu /= np.linalg.norm(mu, axis=1, keepdims=True)
    log_s = rng.normal(-3, 0.5, size=(6, 5))
    labels = np.array([0, 0, 1, 1, 1, 2])
    s = np.exp(log_s)
    expected = []
    for i in range(6):
        for j in range(6):
            if i != j and labels[i] == labels[j]:
                fused = s[i] + s[j]
                expected.append(np.sum((mu[i] - mu[j]) ** 2 / (1e-10 + fused) + np.log(fused)))
    got = float(mls_loss(tf.constant(mu), tf.constant(log_s), tf.constant(labels)))
    assert got == pytest.approx(np.mean(expected), rel=1e-9)
    # The evaluation score is minus the same sum (no epsilon), per pair.
    assert mls_pair_score(mu[:1], s[:1], mu[1:2], s[1:2])[0] == pytest.approx(-expected[0], rel=1e-7)


def test_aggregate_pfe_weights_by_inverse_variance_and_takes_the_minimum():
    mu = np.array([[1.0, 0.0], [0.0, 1.0]])
    sigma_sq = np.array([[0.1, 1.0], [0.9, 0.5]])
    fused_mu, fused_sigma = aggregate_pfe(mu, sigma_sq)
    w = (1 / sigma_sq) / (1 / sigma_sq).sum(0)
    expected = (mu * w).sum(0)
    np.testing.assert_allclose(fused_mu, expected / (1e-8 + np.linalg.norm(expected)))
    np.testing.assert_allclose(fused_sigma, [0.1, 0.5])
    # A much more certain image dominates the fused embedding.
    certain, _ = aggregate_pfe(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1e-4, 1e-4], [1.0, 1.0]]))
    assert certain[0] > 0.99


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("pfe")
    synthetic.make_lfw(root / "lfw", identities=20, pairs_per_fold=1)
    base_run, pfe_run = train_tiny_pfe(root)
    return root, base_run, pfe_run


@pytest.mark.slow
def test_head_trains_while_the_base_stays_bit_identical(runs):
    _, base_run, pfe_run = runs
    base_ckpt = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(base_run)))
    pfe_ckpt = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(pfe_run)))
    base_keys = [k for k, _ in tf.train.list_variables(tf.train.latest_checkpoint(str(base_run)))
                 if k.startswith("base/") and "OPTIMIZER" not in k]
    assert len(base_keys) > 10
    for k in base_keys:
        np.testing.assert_array_equal(pfe_ckpt.get_tensor(k), base_ckpt.get_tensor(k), err_msg=k)
    from pfe.models.checkpoints import restore_model

    (_, head), _, _ = restore_model(str(pfe_run))
    assert float(head.get_layer("scale_and_shift").shift.numpy()) != -7.0  # the head moved


@pytest.mark.slow
def test_frozen_graph_bins_and_om_accuracy(runs, tmp_path, capsys):
    root, _, pfe_run = runs
    ckpt2pb.main(["--ckpt_path", str(pfe_run), "--output_path", str(tmp_path / "pb_model")])
    spec = json.loads((tmp_path / "pb_model" / "PFE.json").read_text())
    assert spec["inputs"] == [{"name": "input", "shape": [1, 112, 96, 3], "dtype": "float32"}]
    assert spec["outputs"] == [{"name": "mu", "shape": [1, 512], "dtype": "float32"},
                               {"name": "sigma_sq", "shape": [1, 512], "dtype": "float32"}]
    lfw_dir, pairs = root / "lfw" / "lfw_mtcnncaffe_aligned", root / "lfw" / "lfw_pairs.txt"
    inf_input2bin.main(["--lfw_dir", str(lfw_dir), "--pairs_file", str(pairs), "--output_dir",
                        str(tmp_path / "input_bin"), "--image_list_out", str(tmp_path / "list.txt")])
    listed = (tmp_path / "list.txt").read_text().splitlines()
    assert sorted(p.name for p in (tmp_path / "input_bin").iterdir()) == sorted(f"{i}.bin" for i in range(len(listed)))
    assert (tmp_path / "input_bin" / "0.bin").stat().st_size == 129_024
    r = subprocess.run([sys.executable, "-m", "pfe", "om_inf", "--model", str(tmp_path / "pb_model" / "PFE.pb"),
                        "--input", str(tmp_path / "input_bin"), "--output", str(tmp_path / "output_bin")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    capsys.readouterr()
    om = om_output_inf.main(["--om_output", str(tmp_path / "output_bin"), "--image_list", str(tmp_path / "list.txt"),
                             "--pairs_file", str(pairs)])
    printed = capsys.readouterr().out
    from pfe import eval_lfw

    ckpt = eval_lfw.main(["--ckpt_path", str(pfe_run), "--lfw_dir", str(lfw_dir), "--pairs_file", str(pairs)])
    for name, line in (("cosine", "Euclidean (cosine) accuracy"), ("MLS", "MLS accuracy")):
        # What the stage returns is what it printed, and the om run scores as the checkpoint does.
        assert f"{line}: {om[name]:.5f} threshold: {om[name + '_threshold']:.5f}" in printed
        assert abs(om[name] - ckpt[name]) <= 0.05, (name, om, ckpt)
    assert om["pairs"] == ckpt["pairs"] > 0


def _hand_made(tmp_path, n_images=4):
    """Two people, two images each; pair 1 genuine, pair 2 impostor; mu chosen so cosine is perfect."""
    from common.lfw_pairs import write_pairs

    pairs = [("A", 1, "A", 2)] * 1 + [("A", 1, "B", 1)] * 1
    write_pairs(tmp_path / "pairs.txt", pairs * 2, [True, False] * 2, nfolds=2)
    names = ["A/A_0001.jpg", "A/A_0002.jpg", "B/B_0001.jpg", "B/B_0002.jpg"][:n_images]
    (tmp_path / "list.txt").write_text("".join(f"/lfw/{n}\n" for n in names))
    out = tmp_path / "out" / "2026_1_1_0_0_0_0"
    out.mkdir(parents=True)
    mus = {"A": np.eye(512)[0], "B": np.eye(512)[1]}
    for i, n in enumerate(names):
        mus[n[0]].astype(np.float32).tofile(out / f"{i}_output_0.bin")
        np.full(512, 0.01, np.float32).tofile(out / f"{i}_output_1.bin")
    return out


def test_om_output_inf_on_hand_made_output(tmp_path, capsys):
    out = _hand_made(tmp_path)
    om_output_inf.main(["--om_output", str(out), "--image_list", str(tmp_path / "list.txt"),
                        "--pairs_file", str(tmp_path / "pairs.txt")])
    printed = capsys.readouterr().out
    assert "Euclidean (cosine) accuracy: 1.00000" in printed and "MLS accuracy: 1.00000" in printed


def _one_line(*argv):
    r = subprocess.run([sys.executable, "-m", "pfe", *argv], capture_output=True, text=True)
    assert r.returncode == 1, r.stderr[-2000:]
    return one_error_line(r.stderr)


def test_missing_output_1_is_one_line(tmp_path):
    out = _hand_made(tmp_path)
    (out / "2_output_1.bin").unlink()
    line = _one_line("om_output_inf", "--om_output", str(out), "--image_list", str(tmp_path / "list.txt"),
                     "--pairs_file", str(tmp_path / "pairs.txt"))
    assert "2_output_1.bin" in line and "sigma_sq" in line


def test_wrong_size_output_is_one_line(tmp_path):
    out = _hand_made(tmp_path)
    np.zeros(256, np.float32).tofile(out / "1_output_0.bin")
    line = _one_line("om_output_inf", "--om_output", str(out), "--image_list", str(tmp_path / "list.txt"),
                     "--pairs_file", str(tmp_path / "pairs.txt"))
    assert "1_output_0.bin" in line and "2048" in line and "1024" in line


def test_pairs_naming_a_missing_image_is_one_line(tmp_path):
    synthetic.make_lfw(tmp_path / "lfw", identities=20, pairs_per_fold=1)
    lfw_dir = tmp_path / "lfw" / "lfw_mtcnncaffe_aligned"
    from common.lfw_pairs import read_pairs

    victim = read_pairs(tmp_path / "lfw" / "lfw_pairs.txt").image_paths(lfw_dir)[3][1]
    victim.unlink()
    line = _one_line("inf_input2bin", "--lfw_dir", str(lfw_dir), "--pairs_file", str(tmp_path / "lfw" / "lfw_pairs.txt"),
                     "--output_dir", str(tmp_path / "bins"))
    assert victim.name in line


def test_om_output_inf_rejects_an_unknown_image_in_the_pairs(tmp_path):
    out = _hand_made(tmp_path, n_images=2)  # B's images are not in the list
    with pytest.raises(StageError, match="B_0001"):
        om_output_inf.main(["--om_output", str(out), "--image_list", str(tmp_path / "list.txt"),
                            "--pairs_file", str(tmp_path / "pairs.txt")])


@pytest.mark.slow
def test_verify_two_photos_and_two_folders(runs, tmp_path, capsys):
    """pfe verify on real photos: the astronaut against a blurred copy of herself (files) and
    against folders of both; the blurred face carries more uncertainty."""
    skimage = pytest.importorskip("skimage")
    pytest.importorskip("mtcnn")
    from PIL import Image, ImageFilter

    from pfe import verify

    _, _, pfe_run = runs
    photo = Image.open(os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png")).convert("RGB")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    photo.save(tmp_path / "a" / "sharp.png")
    photo.transpose(Image.FLIP_LEFT_RIGHT).save(tmp_path / "a" / "mirrored.png")
    photo.filter(ImageFilter.GaussianBlur(4)).save(tmp_path / "b" / "blurred.png")
    one = verify.main(["--ckpt_path", str(pfe_run), str(tmp_path / "a" / "sharp.png"), str(tmp_path / "b" / "blurred.png"),
                       "--threshold=-1e9"])
    assert one["same"] is True and np.isfinite(one["cosine"]) and np.isfinite(one["MLS"])
    assert len(one["mean_sigma_sq"]["a"]) == 1 and one["mean_sigma_sq"]["b"][0] > 0
    # Without --threshold: the MLS threshold eval_lfw stores beside the run.
    from pfe import eval_lfw

    root, _, _ = runs
    scored = eval_lfw.main(["--ckpt_path", str(pfe_run), "--lfw_dir", str(root / "lfw" / "lfw_mtcnncaffe_aligned"),
                            "--pairs_file", str(root / "lfw" / "lfw_pairs.txt")])
    both = verify.main(["--ckpt_path", str(pfe_run), str(tmp_path / "a"), str(tmp_path / "b")])
    assert len(both["photos"]["a"]) == 2 and "fused" in capsys.readouterr().out
    assert both["threshold"] == pytest.approx(-scored["MLS_threshold"]) and both["same"] is not None
