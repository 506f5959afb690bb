"""common.face_tracks: a clip's faces as tracks of model outputs, read from a landmarks file or
detected; outputs in frame order whatever the batch; labels drawn back onto every frame; and the
synthetic YouTube Faces layout that feeds the video verification and search chains."""

import shutil

import numpy as np
import pytest

from common import face_tracks, synthetic, video
from common.cli import StageError


@pytest.fixture(scope="module")
def ytf(tmp_path_factory):
    return synthetic.make_ytf(tmp_path_factory.mktemp("ytf") / "ytf", identities=4, videos_per_identity=2, frames=6,
                              splits=2, pairs_per_split=1)


def _mean_pixel(crops):
    """A stand-in model: one number per face, so the order of outputs can be checked."""
    return {"mean": crops.reshape(len(crops), -1).mean(axis=1), "crop": crops}


def test_tracks_from_landmarks_keep_frame_order_whatever_the_batch(ytf):
    points = face_tracks.read_clip_landmarks(ytf / "clips" / "landmarks.txt")
    clip = next((ytf / "clips").glob("*/1.mp4"))
    key = face_tracks.landmark_key(clip, points)
    assert key == f"{clip.parent.name}/1.mp4"
    runs = [face_tracks.embed_tracks(str(clip), _mean_pixel, "arcface", None, landmarks=points,
                                     batch=b) for b in (1, 4, 64)]
    for faces in runs:
        (track,) = faces.tracks
        assert faces.frames_read == 6 and track.frames == list(range(6))
        assert track.times == pytest.approx([i / 25 for i in range(6)], abs=1e-3)
        assert track.outputs["crop"].shape == (6, 112, 112, 3)
    assert np.array_equal(runs[0].tracks[0].outputs["mean"], runs[1].tracks[0].outputs["mean"])
    assert np.array_equal(runs[0].tracks[0].outputs["mean"], runs[2].tracks[0].outputs["mean"])
    # The aligned crop is the drawn face: its centre is skin, not the plain background around it.
    frame0 = next(video.read_frames(clip)).rgb
    crop = runs[0].tracks[0].outputs["crop"][0]
    assert np.abs(crop[40:70, 40:70].mean(axis=(0, 1)) - frame0[2, 2]).max() > 20


def test_a_copied_clip_is_still_found_in_the_landmarks_file(ytf, tmp_path):
    points = face_tracks.read_clip_landmarks(ytf / "clips" / "landmarks.txt")
    person = sorted(p.name for p in (ytf / "clips").iterdir() if p.is_dir())[1]
    (tmp_path / "gallery" / person).mkdir(parents=True)
    copy = shutil.copy(ytf / "clips" / person / "2.mp4", tmp_path / "gallery" / person / "2.mp4")
    assert face_tracks.landmark_key(copy, points) == f"{person}/2.mp4"
    faces = face_tracks.embed_tracks(copy, _mean_pixel, "pfe", None, landmarks=points, every=2)
    assert [t.frames for t in faces.tracks] == [[0, 2, 4]]
    assert faces.tracks[0].outputs["crop"].shape == (3, 112, 96, 3)


def test_a_clip_the_file_does_not_list_has_no_track(ytf, tmp_path):
    blank = tmp_path / "blank.mp4"
    with video.VideoWriter(blank, 25) as writer:
        for _ in range(4):
            writer.write(np.full((120, 160, 3), 90, np.uint8))
    points = face_tracks.read_clip_landmarks(ytf / "clips" / "landmarks.txt")
    faces = face_tracks.embed_tracks(str(blank), _mean_pixel, "pfe", None, landmarks=points)
    assert faces.tracks == [] and faces.frames_read == 4


def test_labels_are_drawn_on_every_frame_of_their_track(ytf, tmp_path):
    points = face_tracks.read_clip_landmarks(ytf / "clips" / "landmarks.txt")
    clip = next((ytf / "clips").glob("*/2.mp4"))
    faces = face_tracks.embed_tracks(str(clip), _mean_pixel, "arcface", None, landmarks=points)
    out = face_tracks.draw_tracks(str(clip), tmp_path / "named.mp4", faces.tracks, {0: "#0 someone"})
    plain, drawn = list(video.read_frames(clip)), list(video.read_frames(out))
    assert len(drawn) == len(plain) == 6
    (x, y, w, h) = faces.tracks[0].boxes[3]
    top = max(0, int(y) - 14)  # the label's filled box above the face
    assert np.abs(drawn[3].rgb[top + 2:top + 10, int(x) + 2:int(x) + 30].astype(int)
                  - plain[3].rgb[top + 2:top + 10, int(x) + 2:int(x) + 30]).mean() > 20


@pytest.mark.parametrize("line, word", [("a.mp4:x 1 2 3 4 5 6 7 8 9 10", "a.mp4:x"),
                                        ("a.mp4:3 1 2 3", "a.mp4:3 1 2 3"),
                                        ("a.mp4 1 2 3 4 5 6 7 8 9 10", "a.mp4 1")])
def test_a_bad_landmarks_line_is_named_with_its_line(tmp_path, line, word):
    (tmp_path / "landmarks.txt").write_text("a.mp4:0 1 2 3 4 5 6 7 8 9 10\n" + line + "\n")
    with pytest.raises(StageError, match=r"landmarks.txt:2: expected '<clip>:<frame> x1") as err:
        face_tracks.read_clip_landmarks(tmp_path / "landmarks.txt")
    assert word in str(err.value)


def test_synthetic_ytf_is_in_the_distributed_layout(ytf):
    people = sorted(p.name for p in (ytf / "frame_images_DB").iterdir() if p.is_dir())
    assert len(people) == 4
    lines = (ytf / "frame_images_DB" / f"{people[0]}.labeled_faces.txt").read_text().splitlines()
    assert len(lines) == 2 * 6 and lines[0].startswith(f"{people[0]}\\1\\1.1.jpg,0,")
    assert (ytf / "frame_images_DB" / people[0] / "1" / "1.6.jpg").is_file()
    assert (ytf / "aligned_images_DB" / people[0] / "2" / "aligned_detect_2.1.jpg").is_file()
    header, *pairs = (ytf / "splits.txt").read_text().splitlines()
    assert header.startswith("split number") and len(pairs) == 4
    assert [p.split(", ")[0] for p in pairs] == ["1", "1", "2", "2"] and [p[-1] for p in pairs] == ["1", "0"] * 2
    kinds = {line.split("\t")[1] for line in (ytf / "degraded.txt").read_text().splitlines()}
    assert kinds <= {"blur", "turn", "occlusion"} and kinds
