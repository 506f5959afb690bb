"""CovPoolFER on video: real footage (scikit-image's astronaut, panned and zoomed) gives one face
track that follows the face; `predict` writes per-frame rows, per-track summaries and an
annotated video; the AFEW chain (prepare -> features -> tempPoolTrain -> softmaxClassifier) runs
on the synthetic stand-in, one command per stage."""

import csv
import json
import shutil

import numpy as np
import pytest

from common import synthetic, video
from common.cli import StageError, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A covpoolnet2 trained for two steps: enough to run every stage (not to be accurate)."""
    from covpoolfer import train

    root = tmp_path_factory.mktemp("video_ckpt")
    sfew = synthetic.make_sfew(root / "SFEW_100", 3, 1, identities=8)
    train.main(["--data_dir", str(sfew), "--models_base_dir", str(root / "models"), "--logs_base_dir",
                str(root / "logs"), "--model_def", "covpoolnet2", "--max_nrof_epochs", "1", "--epoch_size", "2",
                "--batch_size", "8"])
    (run_dir,) = list((root / "models").iterdir())
    return run_dir


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory):
    return synthetic.make_panzoom(tmp_path_factory.mktemp("astronaut") / "astronaut.mp4", frames=30)


def test_real_footage_gives_one_track_that_follows_the_face(astronaut):
    from common.align import Detector, read_photo
    from common.tracks import track_faces

    detect = Detector()
    photo = read_photo(synthetic.astronaut_path())
    (face,) = [f for f in detect(photo) if f.score >= 0.9]
    fx, fy, fw, fh = face.box
    seen = {}
    for frame, faces in track_faces(video.read_frames(astronaut), detect, detect_every=1):
        for tracked in faces:
            seen.setdefault(tracked.track, []).append((frame.index, tracked.face.box))
    assert list(seen) == [0], f"expected one track, found {len(seen)}"
    assert len(seen[0]) >= 28  # detected on (almost) every frame
    for index, (x, y, w, h) in seen[0]:
        wx, wy, ww, wh = synthetic.panzoom_window(index, 30, photo.shape[:2])
        scale = 640 / ww  # photo pixels -> frame pixels
        cx, cy = (fx + fw / 2 - wx) * scale, (fy + fh / 2 - wy) * scale
        assert abs(x + w / 2 - cx) < 0.15 * w and abs(y + h / 2 - cy) < 0.15 * h, (index, (x, y, w, h), (cx, cy))
        assert 0.8 < w / (fw * scale) < 1.25
    first, last = seen[0][0][1], seen[0][-1][1]
    assert last[2] > 1.3 * first[2]  # the camera zoomed in 1.4x: the box grew with it


def test_predict_writes_rows_tracks_and_an_annotated_video(checkpoint, astronaut, tmp_path, capsys):
    from common.models import SFEW_CLASSES
    from covpoolfer import predict

    report = predict.main(["--ckpt_path", str(checkpoint), str(astronaut), "--every", "2", "--csv",
                           str(tmp_path / "frames.csv"), "--json", str(tmp_path / "tracks.json"), "--video_out",
                           str(tmp_path / "annotated.mp4")])
    printed = capsys.readouterr().out
    assert "astronaut.mp4: 15 frames read" in printed and "1 face track(s)" in printed
    with open(tmp_path / "frames.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 15 and [int(r["frame"]) for r in rows] == list(range(0, 30, 2))
    assert [float(r["time"]) for r in rows] == pytest.approx([k * 0.08 for k in range(15)], abs=1e-3)
    probs = np.array([[float(r[c]) for c in SFEW_CLASSES] for r in rows])
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-4)
    assert [r["label"] for r in rows] == [SFEW_CLASSES[k] for k in probs.argmax(1)]
    assert {r["track"] for r in rows} == {"0"} and sum(r["detected"] == "1" for r in rows) == 3  # every 5th read

    (track,) = json.loads((tmp_path / "tracks.json").read_text())["videos"][0]["tracks"]
    assert (track["first_frame"], track["last_frame"], track["frames_seen"]) == (0, 28, 15)
    mean = probs.mean(0)
    assert track["label"] == SFEW_CLASSES[int(mean.argmax())]
    assert [track["probabilities"][c] for c in SFEW_CLASSES] == pytest.approx(mean, abs=1e-4)
    assert report["videos"][0]["tracks"][0]["label"] == track["label"]

    out = video.probe(tmp_path / "annotated.mp4")
    assert (out.frames, out.fps, out.width, out.height) == (15, 12.5, 640, 360)  # the frames read, at the rate read
    first = next(video.read_frames(tmp_path / "annotated.mp4")).rgb.astype(int)
    original = next(video.read_frames(astronaut)).rgb.astype(int)
    x, y, w, h = (round(float(rows[0][k])) for k in ("x", "y", "width", "height"))
    assert np.abs(first[y + 2: y + h - 2, x + 1] - original[y + 2: y + h - 2, x + 1]).mean() > 40  # the box is drawn


def test_a_video_without_a_face_is_one_line(checkpoint, tmp_path):
    from covpoolfer import predict

    with video.VideoWriter(tmp_path / "wall.mp4", 25) as writer:
        for _ in range(6):
            writer.write(np.full((120, 160, 3), 90, np.uint8))
    with pytest.raises(StageError, match=r"wall.mp4: expected a face, found none in 6 frame\(s\) read"):
        predict.main(["--ckpt_path", str(checkpoint), str(tmp_path / "wall.mp4"), "--video_out", str(tmp_path / "o.mp4")])
    assert not (tmp_path / "o.mp4").exists()


def test_predict_takes_the_faces_of_a_landmarks_file(checkpoint, tmp_path):
    """The synthetic clips' faces, which MTCNN mostly misses, from the points the generator wrote:
    one track on every frame."""
    from covpoolfer import predict

    afew = synthetic.make_afew(tmp_path / "AFEW", train_per_class=1, val_per_class=1, frames=6, faceless=0)
    clip = next((afew / "Train" / "Happy").glob("*.avi"))
    report = predict.main(["--ckpt_path", str(checkpoint), str(clip), "--landmarks", str(afew / "landmarks.txt")])
    (track,) = report["videos"][0]["tracks"]
    assert (track["first_frame"], track["last_frame"], track["frames_seen"]) == (0, 5, 6)
    with pytest.raises(StageError, match="--landmarks: expected a video input"):
        predict.main(["--ckpt_path", str(checkpoint), synthetic.astronaut_path(), "--landmarks",
                      str(afew / "landmarks.txt")])


def test_afew_chain_on_the_synthetic_stand_in(checkpoint, tmp_path, capsys):
    from covpoolfer import features, prepare, softmaxClassifier, tempPoolTrain

    afew = synthetic.make_afew(tmp_path / "AFEW", train_per_class=2, val_per_class=1, frames=8, faceless=1)
    summary = prepare.main(["--dataset", "afew", "--input", str(afew), "--output", str(tmp_path / "faces"),
                            "--landmarks", str(afew / "landmarks.txt")])
    assert summary["clips"]["Train"] == {c: 2 for c in summary["classes"]}
    assert summary["face_frames"] == 21 * 8 and summary["no_face"] == 1
    assert (tmp_path / "faces" / "no_face.tsv").read_text() == "Val/neutral/000999000.avi\tno face found in 8 frame(s)\n"
    clip = next((tmp_path / "faces" / "Val" / "Surprise").iterdir())  # 'surprised' read as Surprise
    assert len(list(clip.glob("*.png"))) == 8

    result = features.main(["--ckpt_path", str(checkpoint), "--input", str(tmp_path / "faces"), "--output",
                            str(tmp_path / "features")])
    assert result["dim"] == 128 and set(result["baseline"]) == {"Train", "Val"}
    saved = np.load(tmp_path / "features" / "Val" / "Surprise" / clip.name / f"{clip.name}.npy")
    assert saved.shape == (8, 128) and saved.dtype == np.float32 and saved.std(0).mean() > 0

    tempPoolTrain.main(["--data_dir", str(tmp_path / "features" / "Train"), "--models_base_dir",
                        str(tmp_path / "tp_models"), "--logs_base_dir", str(tmp_path / "tp_logs"), "--batch_size", "7",
                        "--max_nrof_epochs", "1", "--epoch_size", "2"])
    (run_dir,) = list((tmp_path / "tp_models").iterdir())
    capsys.readouterr()
    softmaxClassifier.main([str(tmp_path / "features" / "Val"), str(run_dir), "--batch_size", "7", "--total_clips", "8",
                            "--predictions", str(tmp_path / "val.tsv")])
    printed = capsys.readouterr().out
    assert "Samples considered: 7" in printed and "Total Accuracy: " in printed
    assert len((tmp_path / "val.tsv").read_text().splitlines()) == 1 + 7  # a header, then a row per clip


def test_prepare_afew_tracks_and_aligns_real_footage(astronaut, tmp_path):
    from covpoolfer import prepare

    (tmp_path / "AFEW" / "Train" / "Happy").mkdir(parents=True)
    shutil.copy(astronaut, tmp_path / "AFEW" / "Train" / "Happy" / "000001.mp4")
    summary = prepare.main(["--dataset", "afew", "--input", str(tmp_path / "AFEW"), "--output", str(tmp_path / "faces"),
                            "--detect_every", "3"])
    assert summary["face_frames"] == 30 and summary["no_face"] == 0
    assert summary["aligned_with"] == "MTCNN every 3 frame(s), longest track"
    crops = sorted((tmp_path / "faces" / "Train" / "Happy" / "000001").glob("*.png"))
    assert len(crops) == 30
    from common.images import load_rgb

    first, last = load_rgb(crops[0]), load_rgb(crops[-1])
    assert first.shape == (100, 100, 3)
    # aligned: the same face at the same place although the camera panned and zoomed
    assert np.abs(first.astype(int) - last.astype(int)).mean() < 40


def test_prepare_lists_a_clip_that_does_not_decode_and_goes_on(tmp_path):
    from covpoolfer import prepare

    afew = synthetic.make_afew(tmp_path / "AFEW", train_per_class=1, val_per_class=1, frames=4, faceless=0)
    (afew / "Val" / "angry" / "000000001.avi").write_bytes(b"RIFF" + b"\0" * 100)
    assert run(prepare.main, ["--dataset", "afew", "--input", str(afew), "--output", str(tmp_path / "faces"),
                              "--landmarks", str(afew / "landmarks.txt")]) == 0
    listed = (tmp_path / "faces" / "no_face.tsv").read_text().splitlines()
    assert len(listed) == 1 and listed[0].startswith("Val/angry/000000001.avi\texpected a video")
