"""covpoolfer prepare: RAF-DB, FER2013 and SFEW 2.0 as distributed become {Train,val}/<Expression>/
with the right class for every image; a bad row stops with its line number."""

import json
import os

import numpy as np
import pytest
from conftest import check_bad_inputs
from PIL import Image

from common.models import SFEW_CLASSES
from covpoolfer import prepare


def _jpg(path, value, size=100):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size, size, 3), value, np.uint8)).save(path, quality=98)


def _hand_made_rafdb(root, lines):
    for k, line in enumerate(lines):
        name = line.split()[0]
        _jpg(root / "Image" / "aligned" / name.replace(".jpg", "_aligned.jpg"), 20 * k)
    (root / "EmoLabel").mkdir(parents=True, exist_ok=True)
    (root / "EmoLabel" / "list_patition_label.txt").write_text("".join(f"{ln}\n" for ln in lines))
    return root


def _classes_of(out):
    return {p.stem: (p.parent.parent.name, p.parent.name) for p in out.rglob("*.png")}


def test_rafdb_labels_land_in_sfew_named_folders(tmp_path):
    # RAF-DB: 1 Surprise, 4 Happiness, 6 Anger, 7 Neutral
    raf = _hand_made_rafdb(tmp_path / "basic", ["train_00001.jpg 1", "train_00002.jpg 6", "test_0001.jpg 4",
                                                "test_0002.jpg 7"])
    out = tmp_path / "out"
    summary = prepare.main(["--dataset", "rafdb", "--input", str(raf), "--output", str(out), "--image_size", "64"])
    assert _classes_of(out) == {"train_00001": ("Train", "Surprise"), "train_00002": ("Train", "Angry"),
                                "test_0001": ("val", "Happy"), "test_0002": ("val", "Neutral")}
    assert Image.open(out / "val" / "Happy" / "test_0001.png").size == (64, 64)
    stored = json.loads((out / "classes.json").read_text())
    assert stored["mapping"]["4"] == "Happy" and stored == json.loads(json.dumps(summary))
    assert stored["counts"]["Train"]["Surprise"] == 1 and stored["counts"]["val"]["Sad"] == 0


def test_fer2013_rows_become_upsampled_rgb_images(tmp_path):
    grey = " ".join(str(v) for v in np.arange(48 * 48) % 256)
    csv = tmp_path / "fer2013.csv"
    csv.write_text("emotion,pixels,Usage\n" f"3,{grey},Training\n" f"5,{grey},PublicTest\n" f"0,{grey},PrivateTest\n")
    out = tmp_path / "out"
    prepare.main(["--dataset", "fer2013", "--input", str(csv), "--output", str(out)])
    assert _classes_of(out) == {"fer00001": ("Train", "Happy"), "fer00002": ("val", "Surprise"),
                                "fer00003": ("test", "Angry")}
    img = np.asarray(Image.open(out / "Train" / "Happy" / "fer00001.png"))
    assert img.shape == (100, 100, 3) and (img[..., 0] == img[..., 2]).all()


def test_synthetic_layouts_prepare_to_seven_classes_each(tmp_path):
    from common import synthetic

    raf = synthetic.make_rafdb(tmp_path / "raf", train_per_class=2, test_per_class=1)
    fer = synthetic.make_fer2013(tmp_path / "fer", 2, 1, 1)
    sfew = synthetic.make_sfew_raw(tmp_path / "sfew", 2, 2)
    assert sorted(d.name for d in (sfew / "Val").iterdir())[-1] == "surprised"  # the spellings differ
    for name, source, splits in (("rafdb", raf, {"Train": 14, "val": 7}),
                                 ("fer2013", fer / "fer2013.csv", {"Train": 14, "val": 7, "test": 7}),
                                 ("sfew", sfew, {"Train": 14, "val": 14})):
        out = tmp_path / f"{name}_out"
        summary = prepare.main(["--dataset", name, "--input", str(source), "--output", str(out)])
        assert {s: sum(c.values()) for s, c in summary["counts"].items()} == splits
        for split in splits:
            assert sorted(d.name for d in (out / split).iterdir()) == list(SFEW_CLASSES)


@pytest.mark.tf
@pytest.mark.slow
def test_rafdb_original_photos_are_aligned_and_faceless_ones_listed(tmp_path):
    pytest.importorskip("mtcnn")
    skimage = pytest.importorskip("skimage")
    astronaut = os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png")
    raf = tmp_path / "basic"
    (raf / "Image" / "original").mkdir(parents=True)
    Image.open(astronaut).convert("RGB").save(raf / "Image" / "original" / "test_0001.jpg")
    _jpg(raf / "Image" / "original" / "train_00001.jpg", 128, 300)  # a blank photo: no face
    (raf / "EmoLabel").mkdir()
    (raf / "EmoLabel" / "list_patition_label.txt").write_text("train_00001.jpg 7\ntest_0001.jpg 4\n")
    out = tmp_path / "out"
    summary = prepare.main(["--dataset", "rafdb", "--input", str(raf), "--output", str(out)])
    assert _classes_of(out) == {"test_0001": ("val", "Happy")}
    assert summary["no_face"] == 1
    assert (out / "no_face.tsv").read_text() == "Train/Neutral/train_00001\tno face found\n"


def test_bad_rows_stop_with_their_line(tmp_path, record_property):
    _hand_made_rafdb(tmp_path / "raf_label", ["train_00001.jpg 1", "train_00002.jpg 8"])
    _hand_made_rafdb(tmp_path / "raf_missing", ["train_00001.jpg 1", "test_0001.jpg 2"])
    (tmp_path / "raf_missing" / "Image" / "aligned" / "test_0001_aligned.jpg").unlink()
    _hand_made_rafdb(tmp_path / "raf_twice", ["train_00001.jpg 1", "train_00001.jpg 2"])
    grey = " ".join(["7"] * 2304)
    (tmp_path / "fer_label.csv").write_text(f"emotion,pixels,Usage\n1,{grey},Training\n9,{grey},Training\n")
    (tmp_path / "fer_short.csv").write_text(f"emotion,pixels,Usage\n1,{grey},Training\n2,1 2 3,Training\n")
    (tmp_path / "fer_usage.csv").write_text(f"emotion,pixels,Usage\n1,{grey},Validation\n")
    (tmp_path / "fer_header.csv").write_text(f"label,image\n1,{grey}\n")
    _jpg(tmp_path / "sfew" / "Train" / "Angry" / "a.jpg", 9)
    _jpg(tmp_path / "sfew" / "Val" / "Grumpy" / "a.jpg", 9)
    _jpg(tmp_path / "sfew_noval" / "Train" / "Angry" / "a.jpg", 9)
    prep = ["covpoolfer.prepare", "--output", tmp_path / "out", "--dataset"]
    cases = [
        ([*prep, "rafdb", "--input", tmp_path / "raf_label"], 1, ["list_patition_label.txt:2", "1..7", "8"]),
        ([*prep, "rafdb", "--input", tmp_path / "raf_missing"], 1, ["list_patition_label.txt:2", "test_0001_aligned"]),
        ([*prep, "rafdb", "--input", tmp_path / "raf_twice"], 1, ["list_patition_label.txt:2", "once"]),
        ([*prep, "rafdb", "--input", tmp_path / "nothing"], 1, ["list_patition_label.txt", "found nothing"]),
        ([*prep, "fer2013", "--input", tmp_path / "fer_label.csv"], 1, ["fer_label.csv:3", "emotion 0..6"]),
        ([*prep, "fer2013", "--input", tmp_path / "fer_short.csv"], 1, ["fer_short.csv:3", "2304"]),
        ([*prep, "fer2013", "--input", tmp_path / "fer_usage.csv"], 1, ["fer_usage.csv:2", "PublicTest"]),
        ([*prep, "fer2013", "--input", tmp_path / "fer_header.csv"], 1, ["fer_header.csv:1", "header"]),
        ([*prep, "sfew", "--input", tmp_path / "sfew"], 1, ["Grumpy", "expression folder"]),
        ([*prep, "sfew", "--input", tmp_path / "sfew_noval"], 1, ["Train/ and Val/"]),
        ([*prep, "sfew", "--input", tmp_path / "sfew", "--image_size", "0"], 2, ["--image_size"]),
    ]
    checked = check_bad_inputs(cases, tmp_path)
    record_property("bad_inputs", checked)
    assert not (tmp_path / "out").exists(), "a stopped run left an output folder"
