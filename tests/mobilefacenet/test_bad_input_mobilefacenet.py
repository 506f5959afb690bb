"""MobileFaceNet's stages on bad input: one line and exit 1 (usage: exit 2), never a traceback;
and a small but valid verification set is scored, not crashed on."""

import pickle

import numpy as np
import pytest
from conftest import check_bad_inputs


@pytest.fixture
def bad(tmp_path):
    from common import recordio, synthetic

    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "fake.mp4").write_text("not a video")
    synthetic.make_lfw_bin(tmp_path / "lfw8.bin", pairs_per_fold=4, folds=1, identities=8, seed=0)
    (tmp_path / "notpickle.bin").write_bytes(b"\x00\x01 not a pickle")
    (tmp_path / "stale").mkdir()
    (tmp_path / "stale" / "9.bin").write_bytes(b"\0")
    out = tmp_path / "om" / "2026_1_1_0_0_0_0"
    out.mkdir(parents=True)
    for i in range(16):  # 8 pairs
        np.random.default_rng(i).normal(size=128).astype(np.float16).tofile(out / f"{i}_output_0.bin")
    np.ones(128, np.float16).tofile(out / "99_output_0.bin")
    rec = tmp_path / "zeroed"
    rec.mkdir()
    # One image record (no header record: every key is an image) whose JPEG was zeroed.
    recordio.write_indexed(rec / "train.rec", rec / "train.idx",
                           [(0, recordio.pack(recordio.IRHeader(0, 1.0, 0, 0), b"\0" * 64))])
    return tmp_path


def test_bad_inputs_fail_in_one_line(bad, record_property):
    f, lfw = bad / "afile", bad / "lfw8.bin"
    cases = [
        (["mobilefacenet", "image2bin", "--eval_dataset", lfw, "--output_dir", f], 2, ["--output_dir", "found a file"]),
        (["mobilefacenet", "image2bin", "--eval_dataset", lfw, "--output_dir", bad / "stale"], 1,
         ["stale", "--overwrite"]),
        (["mobilefacenet", "image2bin", "--eval_dataset", bad / "none.bin", "--output_dir", bad / "b"], 1,
         ["none.bin"]),
        (["mobilefacenet", "image2bin", "--eval_dataset", bad / "notpickle.bin", "--output_dir", bad / "b"], 1,
         ["notpickle.bin"]),
        (["mobilefacenet", "convert_recordio", "--data_dir", bad, "--output", bad / "x.tfrecords"], 1, ["train"]),
        (["mobilefacenet", "convert_recordio", "--data_dir", bad / "zeroed", "--output", bad], 2,
         ["--output", "found a folder"]),
        (["mobilefacenet", "convert_recordio", "--data_dir", bad / "zeroed", "--output", bad / "z.tfrecords"], 1,
         ["record 0", "JPEG or PNG", "00000000"]),
        (["mobilefacenet", "convert_recordio", "--data_dir", bad / "zeroed", "--output", bad / "z.tfrecords",
          "--num_shards", "4"], 1, ["--num_shards", "at most the 1 images"]),
        (["mobilefacenet", "convert_recordio", "--data_dir", bad / "zeroed", "--output", bad / "z.tfrecords",
          "--workers", "0"], 2, ["--workers"]),
        (["mobilefacenet", "train_nets", "--tfrecords", bad / "none-*.tfrecords"], 1, ["none-*", "found none"]),
        (["mobilefacenet", "calculate_om_acc", "--om_output", bad / "om", "--eval_dataset", lfw], 1,
         ["99_output_0.bin", "another run"]),
        (["mobilefacenet", "calculate_om_acc", "--om_output", bad / "none", "--eval_dataset", lfw], 1, ["none"]),
        (["mobilefacenet", "inference", "--ckpt_path", bad, "--eval_datasets", lfw, "--roc", bad], 2, ["--roc"]),
        (["mobilefacenet", "train_nets", "--tfrecords", "x", "--models_dir", f], 2, ["--models_dir"]),
        (["mobilefacenet", "train_nets", "--tfrecords", "x", "--logs_dir", f / "l"], 2, ["--logs_dir"]),
        (["mobilefacenet", "train_nets", "--tfrecords", "x", "--lr_values", "0.1", "--lr_boundaries", "2"], 1,
         ["--lr_values"]),
        (["mobilefacenet", "ckpt2pb", "--ckpt_path", bad, "--output_path", f], 2, ["--output_path"]),
        (["mobilefacenet", "atc", "--model=x.pb", f"--output={bad}"], 2, ["--output"]),
        (["mobilefacenet", "om_eval", "--model", "m.onnx", "--output", f], 2, ["--output"]),
        (["mobilefacenet", "om_eval", "--model", "m.onnx", "--outputSize", "9"], 1, ["--outputSize"]),
        (["mobilefacenet", "convert_checkpoint", "--ckpt_path", bad, "--output_dir", f], 2, ["--output_dir"]),
        (["mobilefacenet", "demo", "--workdir", f], 2, ["--workdir"]),
        (["mobilefacenet", "search", "--ckpt_path", bad, "--gallery", bad / "none", "--probe", lfw], 1,
         ["none", "gallery"]),
        (["mobilefacenet", "search", "--ckpt_path", bad, "--gallery", bad, "--probe", bad / "none.jpg"], 1,
         ["none.jpg", "expected a photo"]),
        (["mobilefacenet", "search", "--ckpt_path", bad, "--gallery", bad, "--probe", bad / "stale"], 1,
         ["stale", "a folder of videos"]),
        (["mobilefacenet", "search", "--ckpt_path", bad, "--gallery", bad, "--probe", f, "--video_out", bad / "o.mp4"], 1,
         ["--video_out", "one probe video"]),
        (["mobilefacenet", "search", "--ckpt_path", bad, "--gallery", bad, "--probe", bad / "fake.mp4"], 1,
         ["fake.mp4"]),
        (["mobilefacenet", "search", "--ckpt_path", bad, "--gallery", bad, "--probe", f, "--every", "2", "--fps", "3"], 1,
         ["--every", "--fps"]),
        (["mobilefacenet", "search", "--ckpt_path", bad, "--gallery", bad, "--probe", f, "--index", "ivf"], 2,
         ["--index"]),
        (["mobilefacenet", "search", "--ckpt_path", bad, "--gallery", bad, "--probe", lfw, "--cache", bad], 2,
         ["--cache"]),
        (["common.synthetic", "lfw_bin", "--out", bad / "x.bin", "--identities", "8"], 1, ["identities", "10 folds"]),
    ]
    checked = check_bad_inputs(cases, bad)
    record_property("bad_inputs", checked)
    assert checked == 31


def test_an_eight_pair_verification_set_is_scored_with_one_fold_per_pair(bad, capsys):
    from mobilefacenet import calculate_om_acc

    (bad / "om" / "2026_1_1_0_0_0_0" / "99_output_0.bin").unlink()
    with open(bad / "lfw8.bin", "rb") as fh:
        assert len(pickle.load(fh)[1]) == 8
    result = calculate_om_acc.main(["--om_output", str(bad / "om"), "--eval_dataset", str(bad / "lfw8.bin")])
    assert len(result.fold_accuracies) == 8 and 0.0 <= result.accuracy <= 1.0
    assert "using 8 folds" in capsys.readouterr().err
