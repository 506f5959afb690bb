"""Every synthetic layout is written deterministically and reads back with its consumer's reader."""

import hashlib
import pickle
import subprocess
import sys

import numpy as np
import pytest

from common import recordio, synthetic, tfrecord
from common.cli import StageError
from common.images import class_folders, decode_rgb, list_images, load_rgb
from common.lfw_pairs import read_pairs


def _digest(root):
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_sfew_layout(tmp_path):
    root = synthetic.make_sfew(tmp_path / "SFEW_100", train_per_class=3, val_per_class=2)
    classes = class_folders(root / "Train")
    assert [c.name for c in classes] == sorted(synthetic.SFEW_CLASSES)
    assert [c.name for c in class_folders(root / "val")] == sorted(synthetic.SFEW_CLASSES)
    for c in classes:
        files = list_images(c)
        assert len(files) == 3 and all(f.suffix == ".png" for f in files)
        assert load_rgb(files[0], size=(100, 100)).shape == (100, 100, 3)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = synthetic.make_sfew(tmp_path / "a", 2, 1, seed=3)
    b = synthetic.make_sfew(tmp_path / "b", 2, 1, seed=3)
    c = synthetic.make_sfew(tmp_path / "c", 2, 1, seed=4)
    assert _digest(a) == _digest(b) != _digest(c)


def test_casia_layout(tmp_path):
    root = synthetic.make_casia(tmp_path / "casia", identities=3, images_per_identity=2)
    ids = class_folders(root)
    assert len(ids) == 3
    assert load_rgb(list_images(ids[0])[0], size=(112, 96)).shape == (112, 96, 3)


def test_lfw_layout_and_pairs(tmp_path):
    root = synthetic.make_lfw(tmp_path / "lfw", identities=20, pairs_per_fold=2, folds=10)
    pairs = read_pairs(root / "lfw_pairs.txt")
    assert len(pairs.pairs) == 40 and pairs.issame.sum() == 20
    for a, b in pairs.image_paths(root / "lfw_mtcnncaffe_aligned"):
        assert a.is_file() and b.is_file(), (a, b)
    # Folds are identity-disjoint, as in LFW.
    names = [{p[0] for p, f in zip(pairs.pairs, pairs.folds, strict=True) if f == k} for k in range(10)]
    assert all(not (names[i] & names[j]) for i in range(10) for j in range(i + 1, 10))


def test_lfw_bin_is_insightface_pickle(tmp_path):
    path = synthetic.make_lfw_bin(tmp_path / "lfw.bin", pairs_per_fold=2, folds=10, identities=20)
    with open(path, "rb") as f:
        bins, issame = pickle.load(f, encoding="bytes")
    assert len(bins) == 2 * len(issame) == 80
    assert decode_rgb(bins[0], "lfw.bin[0]", size=(112, 112)).shape == (112, 112, 3)
    assert issame[:2] == [True, True] and issame[2:4] == [False, False]


def test_ms1m_recordio_and_tfrecord(tmp_path):
    root = synthetic.make_ms1m(tmp_path / "ms1m", identities=3, images_per_identity=2)
    with recordio.IndexedRecordReader(root / "train.idx", root / "train.rec") as reader:
        keys = recordio.image_keys(reader)
        assert keys == list(range(1, 7))
        header, jpeg = recordio.unpack(reader.read_idx(keys[-1]))
        assert int(header.label) == 2
        assert decode_rgb(jpeg, "rec", size=(112, 112)).shape == (112, 112, 3)
        first, end = recordio.unpack(reader.read_idx(0))[0].label
        assert (first, end) == (7, 10)
    records = list(tfrecord.read_records(root / "train.tfrecords"))
    assert len(records) == 6
    assert (root / "property").read_text().strip() == "3,112,112"
    # Counting by the length headers alone agrees, and a file cut mid-record is one clear error.
    assert tfrecord.count_frames(root / "train.tfrecords") == 6
    data = (root / "train.tfrecords").read_bytes()
    (tmp_path / "cut.tfrecords").write_bytes(data[:-10])
    with pytest.raises(StageError, match="cut at byte"):
        tfrecord.count_frames(tmp_path / "cut.tfrecords")


def test_casme2_layout(tmp_path):
    root = synthetic.make_casme2(tmp_path / "c", subjects=2, clips_per_subject=2, frames_per_clip=3)
    files = sorted(root.rglob("*.jpg"))
    assert len(files) == 12
    for f in files:
        assert f.parent.name in synthetic.CASME2_CLASSES
        assert f.parent.parent.name in ("train", "valid", "test")
        assert f.name.startswith("sub0")


def test_cli_preview(tmp_path):
    out = tmp_path / "grid.png"
    r = subprocess.run([sys.executable, "-m", "common.synthetic", "preview", "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_micro_expressions_are_subtle():
    """A micro-expression moves the face less than the full expression does."""
    from common import facegen

    rng = np.random.default_rng(0)
    ident = facegen.sample_identity(rng)
    nuis = facegen.sample_nuisance(np.random.default_rng(1), 0.0)
    neutral = facegen.render(ident, facegen.EXPRESSIONS["neutral"], nuis, 100, 100).astype(float)

    def change(amplitude):
        expr = facegen.sample_expression(np.random.default_rng(2), "surprise", amplitude, 0.0)
        return np.abs(facegen.render(ident, expr, nuis, 100, 100) - neutral).mean()

    assert 0 < change(0.3) < 0.7 * change(1.0)


@pytest.mark.parametrize("mod", ["common.binio", "common.metrics", "common.msame", "common.synthetic",
                                 "common.atc", "common.images", "common.cli"])
def test_common_imports_no_framework(mod):
    code = (f"import sys, {mod}; bad = [m for m in ('tensorflow', 'paddle') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
