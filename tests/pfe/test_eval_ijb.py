"""PFE on template protocols: IJB-A / IJB-C (readers, face crops, fusion, TAR@FAR, the cache), YouTube
Faces (video pairs, 10-fold accuracy) and `pfe verify` on clips, a face track as a template."""

import shutil

import numpy as np
import pytest
from conftest import check_bad_inputs, train_tiny_pfe

from common import synthetic
from pfe import ijb, ytf

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    root = tmp_path_factory.mktemp("pfe_ijb")
    _, run = train_tiny_pfe(root)
    return root, run


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_ijba_reader_builds_templates_pairs_and_labels(tmp_path):
    from PIL import Image

    for n in (1, 2, 3):
        (tmp_path / "img").mkdir(exist_ok=True)
        Image.new("RGB", (50, 60)).save(tmp_path / "img" / f"{n}.jpg")
    split = tmp_path / "IJB-A_11_sets" / "split1"
    _write(split / "verify_metadata_1.csv", "TEMPLATE_ID,SUBJECT_ID,FILE,MEDIA_ID,SIGHTING_ID,FRAME,FACE_X,FACE_Y,"
           "FACE_WIDTH,FACE_HEIGHT\n11,7,img/1.jpg,1,1,,1,2,30,40\n11,7,img/2.jpg,2,2,,0,0,20,20\n"
           "12,7,img/1.jpg,1,1,,1,2,30,40\n13,9,img/3.jpg,3,3,,5,5,10,10\n")
    _write(split / "verify_comparisons_1.csv", "11,12\n11,13\n")
    (s,), faces = ijb.read_ijba(tmp_path, tmp_path, "crop")
    assert s.templates == {11: ["img/1.jpg|1,2,30,40", "img/2.jpg|0,0,20,20"], 12: ["img/1.jpg|1,2,30,40"],
                           13: ["img/3.jpg|5,5,10,10"]}
    assert s.pairs.tolist() == [[11, 12], [11, 13]] and s.issame.tolist() == [True, False]
    assert len(faces) == 3 and faces["img/3.jpg|5,5,10,10"].box == (5.0, 5.0, 10.0, 10.0)


def test_synthetic_crops_and_landmarks_give_back_the_face(tmp_path):
    """The box crop (IJB-A) and the five-point alignment (IJB-C) cut out the face that was pasted."""
    face, _ = synthetic._face(0, "ijbc", 3, 1, synthetic._identity_expression(0, "ijbc", 3, 1), 0.5, size=(112, 96))
    ijbc = synthetic.make_ijbc(tmp_path / "c", subjects=4, images_per_subject=2)
    (s,), faces = ijb.read_ijbc(ijbc / "meta", ijbc / "loose_crop", "ijbc", "landmarks")
    crop, _ = ijb.load_face(faces["8.jpg"], "landmarks")  # subject 3, image 1
    assert crop.shape == (112, 96, 3)
    assert np.abs(crop.astype(float) - face).mean() < 12  # resampled twice, JPEG once
    assert s.issame.sum() == 4 and len(s.templates) == 8
    ijba = synthetic.make_ijba(tmp_path / "a", subjects=4, images_per_subject=2, splits=1, subjects_per_split=4)
    (s,), faces = ijb.read_ijba(ijba, ijba / "images", "crop")
    key = next(k for k in faces if k.startswith("img/1007.jpg"))  # subject 3, image 1
    face, _ = synthetic._face(0, "ijba", 3, 1, synthetic._identity_expression(0, "ijba", 3, 1), 0.5, size=(112, 96))
    crop, _ = ijb.load_face(faces[key], "crop")
    assert np.abs(crop.astype(float) - face).mean() < 12


@pytest.mark.slow
def test_eval_ijb_scores_three_ways_and_caches_embeddings(model, tmp_path):
    from pfe import eval_ijb

    root, run = model
    ijba = synthetic.make_ijba(tmp_path / "ijba", subjects=10, images_per_subject=3, splits=3, subjects_per_split=6)
    args = ["--protocol", "ijba", "--protocol_dir", str(ijba), "--image_dir", str(ijba / "images"),
            "--ckpt_path", str(run), "--cache", str(tmp_path / "cache.h5")]
    first = eval_ijb.main(args)
    assert first["splits"] == 3 and first["embedded"] == first["faces"] > 0
    assert set(first["methods"]) == {"mean", "pfe_fuse", "pfe_fuse_mls"}
    for m in first["methods"].values():
        assert len(m["TAR"]) == 3 and all(0 <= t <= 1 for t in m["TAR"])
        # a looser FAR target never accepts fewer pairs (with ~60 impostors a split, 1e-2 is one of them)
        assert m["TAR"] == sorted(m["TAR"]) and m["FAR"] == sorted(m["FAR"]) and m["FAR"][-1] < 0.05
    again = eval_ijb.main(args)
    assert again["embedded"] == 0 and again["methods"] == first["methods"]
    ijbc = synthetic.make_ijbc(tmp_path / "ijbc", subjects=8, images_per_subject=3)
    result = eval_ijb.main(["--protocol", "ijbc", "--protocol_dir", str(ijbc), "--image_dir", str(ijbc / "loose_crop"),
                            "--ckpt_path", str(run)])
    assert result["splits"] == 1 and all(m["std"] == [0.0, 0.0, 0.0] for m in result["methods"].values())
    assert (run / "ijb_embeddings_ijbc_landmarks.h5").is_file()


def test_an_empty_template_scores_below_every_pair():
    from pfe.eval_ijb import pair_scores, template_features

    mu = np.eye(3)
    sigma = np.ones((3, 3))
    feats = template_features({1: ["a"], 2: ["b", "c"], 3: ["gone"]}, {"a": 0, "b": 1, "c": 2}, mu, sigma, "pfe_fuse_mls")
    scores = pair_scores(feats, np.array([[1, 2], [1, 3]]), "pfe_fuse_mls")
    assert np.isfinite(scores[0]) and scores[1] == -np.inf


def test_bad_protocol_files_stop_with_their_line(tmp_path, record_property):
    from PIL import Image

    (tmp_path / "img").mkdir()
    Image.new("RGB", (50, 60)).save(tmp_path / "img" / "1.jpg")
    header = "TEMPLATE_ID,SUBJECT_ID,FILE,MEDIA_ID,SIGHTING_ID,FRAME,FACE_X,FACE_Y,FACE_WIDTH,FACE_HEIGHT\n"
    good = "1,7,img/1.jpg,1,1,,1,2,30,40\n2,8,img/1.jpg,1,1,,1,2,30,40\n"
    cases_files = {
        "unknown_template": (header + good, "1,2\n1,5\n"),
        "missing_image": (header + good + "3,9,img/9.jpg,1,1,,1,2,30,40\n", "1,2\n"),
        "no_box": ("TEMPLATE_ID,SUBJECT_ID,FILE\n1,7,img/1.jpg\n", "1,1\n"),
        "two_subjects": (header + good + "1,9,img/1.jpg,1,1,,1,2,30,40\n", "1,2\n"),
    }
    for name, (meta, comparisons) in cases_files.items():
        _write(tmp_path / name / "split1" / "verify_metadata_1.csv", meta)
        _write(tmp_path / name / "split1" / "verify_comparisons_1.csv", comparisons)
    _write(tmp_path / "c" / "ijbc_face_tid_mid.txt", "1.jpg 1 0\n")
    _write(tmp_path / "c" / "ijbc_template_pair_label.txt", "1 1 1\n1 4 0\n")
    _write(tmp_path / "c" / "ijbc_name_5pts_score.txt", "1.jpg 1 2 3 4 5 6 7 8 9 10 0.9\n")
    _write(tmp_path / "c2" / "ijbc_face_tid_mid.txt", "1.jpg 1 0\n")
    _write(tmp_path / "c2" / "ijbc_template_pair_label.txt", "1 1 1\n")
    _write(tmp_path / "c2" / "ijbc_name_5pts_score.txt", "1.jpg 1 2 3\n")
    ev = ["pfe", "eval_ijb", "--ckpt_path", tmp_path / "no_model", "--image_dir", tmp_path / "img", "--protocol"]
    cases = [
        ([*ev, "ijba", "--protocol_dir", tmp_path / "unknown_template", "--image_dir", tmp_path], 1,
         ["verify_comparisons_1.csv:2", "template ids"]),
        ([*ev, "ijba", "--protocol_dir", tmp_path / "missing_image", "--image_dir", tmp_path], 1,
         ["verify_metadata_1.csv:4", "9.jpg"]),
        ([*ev, "ijba", "--protocol_dir", tmp_path / "no_box", "--image_dir", tmp_path], 1,
         ["verify_metadata_1.csv:1", "FACE_X"]),
        ([*ev, "ijba", "--protocol_dir", tmp_path / "two_subjects", "--image_dir", tmp_path], 1,
         ["verify_metadata_1.csv:4", "one subject per template"]),
        ([*ev, "ijba", "--protocol_dir", tmp_path / "nothing", "--image_dir", tmp_path], 1, ["split1"]),
        ([*ev, "ijbc", "--protocol_dir", tmp_path / "c", "--image_dir", tmp_path / "img"], 1,
         ["ijbc_template_pair_label.txt:2", "template"]),
        ([*ev, "ijbc", "--protocol_dir", tmp_path / "c2", "--image_dir", tmp_path / "img"], 1,
         ["ijbc_name_5pts_score.txt:1", "12 fields"]),
        ([*ev, "ijbc", "--protocol_dir", tmp_path, "--image_dir", tmp_path / "img"], 1, ["ijbc_face_tid_mid.txt"]),
        ([*ev, "ijba", "--protocol_dir", tmp_path, "--faces", "landmarks"], 1, ["--faces", "crop"]),
        ([*ev, "ijba", "--protocol_dir", tmp_path, "--fars", "2"], 1, ["--fars"]),
        ([*ev, "ijbc", "--protocol_dir", tmp_path, "--cache", tmp_path / "img" / "1.jpg" / "x"], 2, ["--cache"]),
    ]
    checked = check_bad_inputs(cases, tmp_path)
    record_property("bad_inputs", checked)


@pytest.fixture(scope="module")
def ytf_data(tmp_path_factory):
    return synthetic.make_ytf(tmp_path_factory.mktemp("ytf") / "ytf", identities=6, videos_per_identity=2, frames=4,
                              splits=2, pairs_per_split=2)


def test_ytf_readers(tmp_path):
    split = _write(tmp_path / "splits.txt", "split number, pair id, first name, second name, is same\n"
                   "1, 1, A_B/3, A_B/5, 1\n1,2,A_B/3,C_D/1,0\n\n2, 1, E_F/1, E_F/2, 1\n")
    pairs = ytf.read_splits(split)
    assert pairs.videos.tolist() == [["A_B/3", "A_B/5"], ["A_B/3", "C_D/1"], ["E_F/1", "E_F/2"]]
    assert pairs.issame.tolist() == [True, False, True] and pairs.splits.tolist() == [1, 1, 2]
    labels = _write(tmp_path / "A_B.labeled_faces.txt", "A_B\\3\\3.618.jpg,0,100,80,40,60,0.0,1.57\n"
                    "A_B\\3\\3.619.jpg,50,40,20,20\n")
    assert ytf.read_labeled_faces(labels) == {"3/3.618.jpg": (80.0, 50.0, 40.0, 60.0),
                                              "3/3.619.jpg": (40.0, 30.0, 20.0, 20.0)}
    assert ytf.sample_frames(list(range(10)), 2, 3) == [0, 4, 8]
    assert ytf.sample_frames(list(range(5)), 1, None) == [0, 1, 2, 3, 4]


def test_ytf_box_crop_and_aligned_crop_show_the_same_face(ytf_data):
    pairs = ytf.read_splits(ytf_data / "splits.txt")
    videos, faces = ytf.video_faces(ytf_data, "frame_images_DB", pairs, ytf_data / "splits.txt", 1, None)
    aligned_videos, aligned = ytf.video_faces(ytf_data, "aligned_images_DB", pairs, ytf_data / "splits.txt", 1, None)
    name = sorted(videos)[0]
    assert len(videos[name]) == len(aligned_videos[name]) == 4
    crop, _ = ytf.load_ytf_face(faces[videos[name][0]], "crop", None, 0.6)
    centred, _ = ytf.load_ytf_face(aligned[aligned_videos[name][0]], "aligned", None, 0.6)
    assert crop.shape == centred.shape == (112, 96, 3)
    assert np.abs(crop.astype(float) - centred).mean() < 20  # two resamplings and two JPEGs apart


def test_a_frame_without_a_box_is_left_out_and_counted(ytf_data, tmp_path, capsys):
    shutil.copytree(ytf_data / "frame_images_DB", tmp_path / "frame_images_DB")
    pairs = ytf.read_splits(ytf_data / "splits.txt")
    person, video = pairs.videos[0, 0].split("/")
    folder = tmp_path / "frame_images_DB" / person / video
    shutil.copy(folder / f"{video}.1.jpg", folder / f"{video}.99.jpg")  # a frame its labels do not list
    videos, _ = ytf.video_faces(tmp_path, "frame_images_DB", pairs, ytf_data / "splits.txt", 1, None)
    assert len(videos[f"{person}/{video}"]) == 4
    assert "1 frame(s) of the listed videos have no box" in capsys.readouterr().out


def test_template_weights_follow_the_inverse_variance():
    from pfe.verify import Template

    sigma = np.array([[1.0, 1.0], [1.0, 1.0], [10.0, 10.0]])
    t = Template("x", "x", ["0", "1", "2"], [0.0, 0.04, 0.08], np.eye(3, 2), sigma)
    assert t.weights() == pytest.approx([10 / 21, 10 / 21, 1 / 21])
    assert t.fused()[1].tolist() == [1.0, 1.0]


@pytest.mark.slow
def test_eval_ytf_scores_three_fusions_over_the_splits_and_caches(model, ytf_data, tmp_path):
    from pfe import eval_ytf

    _, run = model
    args = ["--ytf_dir", str(ytf_data), "--splits", str(ytf_data / "splits.txt"), "--ckpt_path", str(run),
            "--faces", "crop", "--cache", str(tmp_path / "ytf.h5")]
    first = eval_ytf.main(args)
    videos = first["videos"]  # those the pairs name
    assert first["pairs"] == 8 and 4 <= videos <= 12 and first["frames"] == first["embedded"] == 4 * videos
    assert set(first["methods"]) == {"mean", "pfe_fuse", "pfe_fuse_mls"}
    assert all(0 <= m["accuracy"] <= 1 for m in first["methods"].values())
    again = eval_ytf.main(args)
    assert again["embedded"] == 0 and again["methods"] == first["methods"]
    fewer = eval_ytf.main(args + ["--max_frames", "2"])  # a subset of the cached frames
    assert fewer["frames"] == 2 * videos and fewer["embedded"] == 0
    aligned = eval_ytf.main(["--ytf_dir", str(ytf_data), "--splits", str(ytf_data / "splits.txt"), "--ckpt_path",
                             str(run), "--faces", "aligned", "--every", "2"])
    assert aligned["db"] == "aligned_images_DB" and aligned["frames"] == 2 * videos
    assert (run / "ytf_embeddings_aligned.h5").is_file()


@pytest.mark.slow
def test_verify_fuses_each_clip_track_and_writes_its_sigma(model, ytf_data, tmp_path):
    import csv

    from common.video import probe
    from pfe import verify

    _, run = model
    clips = sorted((ytf_data / "clips").glob("*/*.mp4"))
    same = [str(c) for c in clips[:2]]  # one person's two videos
    result = verify.main(["--ckpt_path", str(run), *same, "--landmarks", str(ytf_data / "clips" / "landmarks.txt"),
                          "--csv", str(tmp_path / "sigma.csv"), "--picture", str(tmp_path / "frames.png"),
                          "--threshold=-1e9"])
    (pair,) = result["pairs"]
    assert (pair["a_track"], pair["b_track"], pair["same"]) == (0, 0, True)
    assert pair["cosine"] <= 0 and np.isfinite(pair["MLS"]) and np.isfinite(pair["mean_cosine"])
    rows = list(csv.DictReader(open(tmp_path / "sigma.csv")))
    assert len(rows) == 8 and [r["frame_or_photo"] for r in rows[:4]] == ["0", "1", "2", "3"]
    for side in "ab":
        assert sum(float(r["fusion_weight"]) for r in rows if r["side"] == side) == pytest.approx(1.0, abs=1e-3)
    assert (tmp_path / "frames.png").stat().st_size > 10_000
    # A real clip (the astronaut, panned and zoomed) against the photo it was made from.
    pan = synthetic.make_panzoom(tmp_path / "pan.mp4", frames=12)
    real = verify.main(["--ckpt_path", str(run), str(pan), synthetic.astronaut_path(), "--detect_every", "3"])
    (pair,) = real["pairs"]
    assert pair["a_track"] == 0 and pair["b_track"] is None and probe(pan).frames == 12
    assert len(real["mean_sigma_sq"]["a"]) >= 6 and len(real["photos"]["b"]) == 1


@pytest.mark.slow
def test_verify_scores_every_track_pair_of_a_clip_with_two_people(model, tmp_path):
    """A real clip with two faces (the astronaut and her mirror image side by side): one line per
    pair of templates, and --track picks one."""
    from PIL import Image

    from pfe import verify

    _, run = model
    photo = Image.open(synthetic.astronaut_path()).convert("RGB")
    two = Image.new("RGB", (1024, 512))
    two.paste(photo, (0, 0))
    two.paste(photo.transpose(Image.FLIP_LEFT_RIGHT), (512, 0))
    two.save(tmp_path / "two.png")
    clip = synthetic.make_panzoom(tmp_path / "two.mp4", photo=str(tmp_path / "two.png"), frames=9, zoom=1.0)
    both = verify.main(["--ckpt_path", str(run), str(clip), synthetic.astronaut_path(), "--detect_every", "2"])
    assert sorted(p["a_track"] for p in both["pairs"]) == [0, 1]
    assert all(p["b_track"] is None and np.isfinite(p["MLS"]) for p in both["pairs"])
    one = verify.main(["--ckpt_path", str(run), str(clip), str(clip), "--detect_every", "2", "--track", "1", "0"])
    (pair,) = one["pairs"]
    assert (pair["a_track"], pair["b_track"]) == (1, 0)


def test_bad_ytf_and_clip_inputs_stop_with_their_line(ytf_data, tmp_path, record_property):
    head = "split number, pair id, first name, second name, is same\n"
    people = sorted(p.name for p in (ytf_data / "frame_images_DB").iterdir() if p.is_dir())
    _write(tmp_path / "bad_line.txt", head + f"1, 1, {people[0]}/1, {people[0]}/2, 1\n1, 2, {people[0]}/1, 1\n")
    _write(tmp_path / "bad_same.txt", head + f"1, 1, {people[0]}/1, {people[0]}/2, yes\n")
    _write(tmp_path / "missing.txt", head + f"1, 1, {people[0]}/1, {people[0]}/2, 1\n2, 1, {people[0]}/1, Nobody/9, 0\n")
    _write(tmp_path / "one_split.txt", head + f"1, 1, {people[0]}/1, {people[0]}/2, 1\n")
    broken = tmp_path / "broken"
    shutil.copytree(ytf_data / "frame_images_DB", broken / "frame_images_DB")
    labels = broken / "frame_images_DB" / f"{people[0]}.labeled_faces.txt"
    labels.write_text("x\\1\\1.1.jpg,0,10,10,-4,20,0,0\n")
    (tmp_path / "fake.mp4").write_text("not a video")
    _write(tmp_path / "marks.txt", "a.mp4:0 1 2\n")
    photo = str(next((ytf_data / "aligned_images_DB").rglob("*.jpg")))
    ev = ["pfe", "eval_ytf", "--ckpt_path", tmp_path / "no_model", "--ytf_dir", ytf_data, "--faces", "crop", "--splits"]
    vf = ["pfe", "verify", "--ckpt_path", tmp_path / "no_model"]
    clip = ytf_data / "clips" / people[0] / "1.mp4"
    cases = [
        ([*ev, tmp_path / "bad_line.txt"], 1, ["bad_line.txt:3", "person/video"]),
        ([*ev, tmp_path / "bad_same.txt"], 1, ["bad_same.txt:2", "0|1"]),
        ([*ev, tmp_path / "missing.txt"], 1, ["missing.txt:3", "Nobody", "expected the video"]),
        ([*ev, tmp_path / "one_split.txt"], 1, ["one_split.txt", "2 splits"]),
        ([*ev, tmp_path / "none.txt"], 1, ["none.txt", "splits.txt"]),
        (["pfe", "eval_ytf", "--ckpt_path", tmp_path, "--ytf_dir", broken, "--splits", ytf_data / "splits.txt",
          "--faces", "crop"], 1, [f"{people[0]}.labeled_faces.txt:1", "positive size"]),
        (["pfe", "eval_ytf", "--ckpt_path", tmp_path, "--ytf_dir", broken, "--splits", ytf_data / "splits.txt",
          "--faces", "aligned"], 1, ["aligned_images_DB", "found nothing"]),
        ([*vf, clip, tmp_path / "fake.mp4"], 1, ["fake.mp4"]),
        ([*vf, photo, photo, "--track", "1"], 1, ["--track", "video"]),
        ([*vf, clip, clip, "--track", "1", "2", "3"], 1, ["--track", "one or two"]),
        ([*vf, clip, clip, "--every", "2", "--fps", "5"], 1, ["--every", "--fps"]),
        ([*vf, clip, clip, "--landmarks", tmp_path / "marks.txt"], 1, ["marks.txt:1", "<clip>:<frame>"]),
    ]
    checked = check_bad_inputs(cases, tmp_path)
    record_property("bad_inputs", checked)


@pytest.mark.slow
def test_a_clip_without_a_face_or_without_the_asked_track_stops(model, ytf_data, tmp_path):
    from common.cli import StageError
    from common.video import VideoWriter
    from pfe import verify

    _, run = model
    with VideoWriter(tmp_path / "wall.mp4", 25) as writer:
        for _ in range(5):
            writer.write(np.full((120, 160, 3), 120, np.uint8))
    clip = next((ytf_data / "clips").glob("*/1.mp4"))
    marks = ["--landmarks", str(ytf_data / "clips" / "landmarks.txt")]
    for argv, words in [([str(tmp_path / "wall.mp4"), str(clip), *marks], "wall.mp4: expected a face, found none in 5"),
                        ([str(clip), str(clip), *marks, "--track", "3"], "--track 3: expected one of the tracks")]:
        with pytest.raises(StageError, match=words):
            verify.main(["--ckpt_path", str(run), *argv])
