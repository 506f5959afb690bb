"""CovPoolFER's stages on bad input: one line and exit 1 (usage: exit 2), never a traceback;
and the inputs that used to be accepted silently now give the right result."""

import io
import os

import numpy as np
import pytest
from conftest import check_bad_inputs
from PIL import Image


def _png(path, size=100, value=128, mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "I;16":
        Image.fromarray(np.full((size, size), value, np.uint16)).save(path)
    else:
        Image.new(mode, (size, size), value if mode == "L" else (value, value, value)).save(path)
    return path


@pytest.fixture
def bad(tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    _png(tmp_path / "sfew" / "val" / "Angry" / "a.png")
    _png(tmp_path / "sfew" / "Train" / "Angry" / "a.png")
    _png(tmp_path / "unknown" / "Angry" / "a.png")
    _png(tmp_path / "unknown" / "Grumpy" / "a.png")
    data = io.BytesIO()
    Image.new("RGB", (100, 100)).save(data, "PNG")
    (tmp_path / "trunc" / "Angry").mkdir(parents=True)
    (tmp_path / "trunc" / "Angry" / "t.png").write_bytes(data.getvalue()[:60])
    (tmp_path / "loop" / "Angry").mkdir(parents=True)
    os.symlink("b.png", tmp_path / "loop" / "Angry" / "a.png")
    os.symlink("a.png", tmp_path / "loop" / "Angry" / "b.png")
    (tmp_path / "empty" / "Angry").mkdir(parents=True)
    (tmp_path / "stale_bins").mkdir()
    (tmp_path / "stale_bins" / "7.bin").write_bytes(b"\0" * 16)
    (tmp_path / "refs_stale").mkdir()
    (tmp_path / "refs_stale" / "7.txt").write_text("1\n")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")
    (tmp_path / "afew_ok" / "Angry" / "c1").mkdir(parents=True)  # clip features as softmaxClassifier reads them
    np.save(tmp_path / "afew_ok" / "Angry" / "c1" / "c1.npy", np.ones((4, 128), np.float32))
    (tmp_path / "afew_nonpy" / "Angry" / "c1").mkdir(parents=True)
    # msame TXT outputs of two batches of 3 and the references that go with them, then broken copies
    out = tmp_path / "msame_out" / "2026_1_1_0_0_0_0"
    out.mkdir(parents=True)
    (out / "0_output_0.txt").write_text("1 2 3\n")
    (out / "1_output_0.txt").write_text("4 5 0\n")
    for name, labels in {"refs": ["1 2 3 ", "4 5 6 "], "refs_negative": ["1 -2 3 ", "4 5 6 "],
                         "refs_short": ["1 2 ", "4 5 6 "], "refs_other": ["1 2 3 ", "4 5 6 "]}.items():
        (tmp_path / name).mkdir()
        for k, text in enumerate(labels):
            (tmp_path / name / f"{k}.txt").write_text(text)
    manifest = ["bin\trow\tlabel\tclass\tpath"] + [f"{k}\t{i}\t{v}\tc\tp" for k, labels in enumerate([[1, 2, 3], [4, 5, 6]])
                                                      for i, v in enumerate(labels)]
    (tmp_path / "refs" / "manifest.tsv").write_text("\n".join(manifest) + "\n")
    (tmp_path / "refs_other" / "manifest.tsv").write_text("\n".join(manifest[:4]) + "\n")
    _bad_videos(tmp_path)
    return tmp_path


def _bad_videos(root):
    """A text file named .mp4, an .mp4 holding only sound, an empty frame folder, AFEW layouts
    with an unknown emotion folder and with only a clip that does not decode."""
    import av

    (root / "text.mp4").write_text("not a video\n" * 50)
    with av.open(str(root / "sound.mp4"), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        for k in range(5):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, k * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    (root / "no_frames").mkdir()
    (root / "afew_grumpy" / "Train" / "Grumpy").mkdir(parents=True)
    (root / "afew_grumpy" / "Train" / "Grumpy" / "1.avi").write_bytes(b"x")
    (root / "afew_broken" / "Val" / "Angry").mkdir(parents=True)
    (root / "afew_broken" / "Val" / "Angry" / "000123.avi").write_text("not a video")
    (root / "afew_none" / "Train" / "Angry").mkdir(parents=True)


def test_bad_inputs_fail_in_one_line(bad, record_property):
    f, val = bad / "afile", bad / "sfew" / "val"
    pic2bin = ["covpoolfer", "pic2bin", "--input_image_dir"]
    get_acc = ["covpoolfer", "getAcc", "--input_om_out", bad / "msame_out", "--input_reference_out"]
    cases = [
        # outputs that are files, sit under files, or hold an earlier run's files
        ([*pic2bin, val, "--output_bin_dir", f], 2, ["--output_bin_dir", "found a file"]),
        ([*pic2bin, val, "--output_bin_dir", f / "x"], 2, ["--output_bin_dir", "found the file"]),
        ([*pic2bin, val, "--output_bin_dir", bad / "b", "--output_reference_file", f], 2, ["--output_reference_file"]),
        ([*pic2bin, val, "--output_bin_dir", bad / "stale_bins", "--output_reference_file", bad / "r"], 1,
         ["stale_bins", "--overwrite", "7.bin"]),
        ([*pic2bin, val, "--output_bin_dir", bad / "b", "--output_reference_file", bad / "refs_stale"], 1,
         ["refs_stale", "--overwrite"]),
        (["covpoolfer", "getAcc", "--input_om_out", bad, "--input_reference_out", bad, "--plot", bad], 2,
         ["--plot", "found a folder"]),
        (["covpoolfer", "train", "--data_dir", bad / "sfew", "--models_base_dir", f], 2, ["--models_base_dir"]),
        (["covpoolfer", "train", "--data_dir", bad / "sfew", "--logs_base_dir", f / "logs"], 2, ["--logs_base_dir"]),
        (["covpoolfer", "ckpt2pb", "--ckpt_path", bad, "--output_path", f], 2, ["--output_path"]),
        (["covpoolfer", "atc", "--model=x.pb", f"--output={bad}"], 2, ["--output", "found a folder"]),
        (["covpoolfer", "msame", "--model", "m.onnx", "--output", f], 2, ["--output", "found a file"]),
        (["covpoolfer", "convert_checkpoint", "--ckpt_path", bad, "--output_dir", f], 2, ["--output_dir"]),
        (["covpoolfer", "demo", "--workdir", f], 2, ["--workdir"]),
        # inputs that are missing, empty, unreadable or mislabelled
        ([*pic2bin, bad / "nothing", "--output_bin_dir", bad / "b"], 1, ["nothing", "expected"]),
        ([*pic2bin, bad / "empty", "--output_bin_dir", bad / "b"], 1, ["empty", "found none"]),
        ([*pic2bin, bad / "trunc", "--output_bin_dir", bad / "b"], 1, ["t.png", "corrupt or truncated"]),
        ([*pic2bin, bad / "loop", "--output_bin_dir", bad / "b"], 1, ["a.png", "symbolic link"]),
        ([*pic2bin, bad / "unknown", "--output_bin_dir", bad / "b"], 1, ["Grumpy", "--classes"]),
        ([*pic2bin, val, "--output_bin_dir", bad / "b", "--drop_last"], 1, ["--drop_last", "no full batch"]),
        (["covpoolfer", "getAcc", "--input_om_out", bad / "none", "--input_reference_out", bad], 1,
         ["none", "msame output folder"]),
        (["covpoolfer", "train", "--data_dir", bad / "sfew", "--keep_probability", "2"], 1, ["--keep_probability"]),
        (["covpoolfer", "classify", "--ckpt_path", bad, "--data_dir", bad / "sfew", "--nrof_total", "0"], 1,
         ["--nrof_total"]),
        (["covpoolfer", "atc", "--model=" + str(bad / "none.pb"), f"--output={bad / 'om'}"], 1, ["none.pb"]),
        (["covpoolfer", "msame", "--model", bad / "none.onnx", "--output", bad / "o"], 1, ["none.onnx"]),
        (["covpoolfer", "msame", "--model", f, "--output", bad / "o"], 1, ["afile"]),
        (["covpoolfer", "nope"], 2, ["unknown stage"]),
        (["covpoolfer", "predict", "--ckpt_path", bad, "x.jpg", "--picture", bad], 2, ["--picture", "found a folder"]),
        (["covpoolfer", "predict", "--ckpt_path", bad, "x.jpg", "--json", f / "j"], 2, ["--json", "found the file"]),
        # msame outputs and references that do not belong together
        ([*get_acc, bad / "refs_negative"], 1, ["0.txt", "0 or more", "-2"]),
        ([*get_acc, bad / "refs_short"], 1, ["0_output_0.txt", "expected 2 predictions", "found 3"]),
        ([*get_acc, bad / "refs_other"], 1, ["1.txt", "manifest.tsv", "another pic2bin run"]),
        ([*get_acc, bad / "nothing"], 1, ["nothing", "reference"]),
        # the temporal pooling stages: clip feature folders and models
        (["covpoolfer", "softmaxClassifier", bad / "nothing", bad], 1, ["nothing", "emotion folders"]),
        (["covpoolfer", "softmaxClassifier", bad / "empty", bad], 1, ["empty", "clip folders"]),
        (["covpoolfer", "softmaxClassifier", bad / "afew_nonpy", bad], 1, ["c1", "c1.npy", "an empty folder"]),
        (["covpoolfer", "softmaxClassifier", bad / "afew_ok", bad / "nothing"], 1, ["nothing", "checkpoint"]),
        (["covpoolfer", "softmaxClassifier", bad / "afew_ok", bad / "run"], 1, ["run", "no *.index file"]),
        (["covpoolfer", "softmaxClassifier", bad / "afew_ok", bad, "--predictions", bad], 2, ["--predictions"]),
        (["covpoolfer", "tempPoolTrain", "--data_dir", bad / "afew_ok", "--models_base_dir", f], 2,
         ["--models_base_dir"]),
        (["covpoolfer", "tempPoolTrain", "--data_dir", bad / "afew_ok", "--models_base_dir", bad / "m",
          "--logs_base_dir", bad / "l"], 1, ["afew_ok", "--batch_size 31", "found 1"]),
    ]
    predict = ["covpoolfer", "predict", "--ckpt_path", bad / "nothing"]
    prepare_afew = ["covpoolfer", "prepare", "--dataset", "afew", "--output", bad / "faces", "--input"]
    cases += [
        # videos: checked before any model loads
        ([*predict, bad / "text.mp4"], 1, ["text.mp4", "expected a video", "cannot read"]),
        ([*predict, bad / "sound.mp4"], 1, ["sound.mp4", "expected a video stream", "found audio"]),
        ([*predict, bad / "no_frames"], 1, ["no_frames", "folder of frames", "no images"]),
        ([*predict, bad / "text.mp4", bad / "sound.mp4", "--video_out", bad / "o.mp4"], 1,
         ["--video_out", "one video", "found 2"]),
        ([*predict, bad / "text.mp4", "--every", "2", "--fps", "5"], 1, ["--every and --fps", "found both"]),
        ([*predict, bad / "text.mp4", "x.jpg"], 1, ["expected photos or videos, found both"]),
        ([*predict, "x.jpg", "--csv", bad / "rows.csv"], 1, ["--csv", "expected a video input"]),
        ([*predict, bad / "text.mp4", "--fps", "0"], 2, ["--fps", "above 0"]),
        ([*prepare_afew, bad / "afew_grumpy"], 1, ["Grumpy", "expected an emotion folder"]),
        ([*prepare_afew, bad / "afew_none"], 1, ["afew_none", "video clips", "found none"]),
        ([*prepare_afew, bad / "afew_broken", "--landmarks", bad / "nothing.txt"], 1, ["nothing.txt"]),
        ([*prepare_afew, bad / "afew_broken"], 1, ["afew_broken", "one clip with a face", "000123.avi", "cannot read"]),
        (["covpoolfer", "prepare", "--dataset", "sfew", "--input", val, "--output", bad / "o", "--detect_every", "2"],
         1, ["--detect_every", "--dataset afew"]),
        (["covpoolfer", "features", "--ckpt_path", bad, "--input", bad / "nothing", "--output", bad / "feat"], 1,
         ["nothing", "aligned clip frames"]),
        (["covpoolfer", "features", "--ckpt_path", bad, "--input", bad / "empty", "--output", bad / "feat"], 1,
         ["empty", "<Emotion>/<clip>/"]),
        (["common.synthetic", "video", "--out", bad / "v.mp4", "--emotion", "grumpy"], 1, ["--emotion", "grumpy"]),
    ]
    checked = check_bad_inputs(cases, bad)
    record_property("bad_inputs", checked)
    assert checked == 56


def test_matching_outputs_and_references_score(bad):
    from covpoolfer import getAcc

    score = getAcc.main(["--input_om_out", str(bad / "msame_out"), "--input_reference_out", str(bad / "refs")])
    assert score.accuracy == 5 / 6 and score.batches == 2


def test_sixteen_bit_pngs_keep_their_brightness(tmp_path):
    """A 16-bit grey PNG at 0x8080 packs as 128 in every channel, not as solid white."""
    from common.binio import read_bin
    from covpoolfer import pic2bin

    _png(tmp_path / "val" / "Happy" / "g.png", value=0x8080, mode="I;16")
    pic2bin.main(["--input_image_dir", str(tmp_path / "val"), "--output_bin_dir", str(tmp_path / "b"),
                  "--output_reference_file", str(tmp_path / "r"), "--batch_size", "1"])
    pixels = read_bin(tmp_path / "b" / "0.bin", (1, 100, 100, 3), "float32")
    assert np.all(pixels == 128)
    assert (tmp_path / "r" / "0.txt").read_text().split() == ["3"]  # Happy keeps SFEW's label 3


def test_stale_bins_are_replaced_not_mixed(tmp_path):
    """--overwrite replaces an earlier, larger run's bins; without it nothing is written."""
    from common.cli import StageError
    from covpoolfer import pic2bin

    for i in range(3):
        _png(tmp_path / "val" / "Sad" / f"{i}.png")
    args = ["--input_image_dir", str(tmp_path / "val"), "--output_bin_dir", str(tmp_path / "b"),
            "--output_reference_file", str(tmp_path / "r"), "--batch_size", "1"]
    pic2bin.main(args)
    (tmp_path / "val" / "Sad" / "2.png").unlink()
    with pytest.raises(StageError, match="--overwrite"):
        pic2bin.main(args)
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["0.bin", "1.bin", "2.bin"]
    pic2bin.main([*args, "--overwrite"])
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["0.bin", "1.bin"]
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["0.txt", "1.txt", "manifest.tsv"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
