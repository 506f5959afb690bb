"""PFE on IJB-A / IJB-C template protocols: readers, face crops, fusion, TAR@FAR and the cache."""

import numpy as np
import pytest
from conftest import check_bad_inputs, train_tiny_pfe

from common import synthetic
from pfe import ijb

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
