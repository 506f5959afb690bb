"""MobileFaceNet: network sizes, margin heads, RecordIO -> TFRecord, .bin files, the full chain."""

import json
import math
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from common import synthetic  # noqa: E402
from common.cli import StageError  # noqa: E402
from common.tf.margin import MarginHead  # noqa: E402
from mobilefacenet import (  # noqa: E402
    calculate_om_acc,
    ckpt2pb,
    convert_recordio,
    image2bin,
    inference,
    train_nets,
)
from mobilefacenet.data import read_verification_bin, tfrecord_dataset, write_verification_bin  # noqa: E402
from mobilefacenet.models.mobilefacenet import build_model, multiply_adds  # noqa: E402
from mobilefacenet.trainer import piecewise_lr  # noqa: E402

pytestmark = [pytest.mark.tf]


def _learnable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize("variant, emb, params, madds", [
    ("paper", 128, 1_003_008, 221.0e6),   # Table 1: 0.99M (+ folded BN), 221M MAdds
    ("repo", 128, 1_270_528, 234.1e6),    # the TF repos' graph
    ("repo", 192, 1_303_424, 234.1e6),    # sirius-ai's released 192-d checkpoint
])
def test_parameter_counts_and_multiply_adds(variant, emb, params, madds):
    model = build_model(variant, emb)
    assert _learnable(model) == params
    assert multiply_adds(model) == pytest.approx(madds, rel=2e-3)
    assert model(np.zeros((3, 112, 112, 3), np.float32)).shape == (3, emb)
    # L2 decay on ordinary conv kernels only: 33 (paper) / 35 (repo) slim.conv2d layers.
    assert len(model.losses) == (33 if variant == "paper" else 35)


def _head(loss, w, x, y):
    head = MarginHead(w.shape[1], loss)
    head.build((None, w.shape[0]))
    head.kernel.assign(w)
    return head, head(tf.constant(x), tf.constant(y)).numpy()


def test_cosface_and_arcface_logits():
    rng = np.random.default_rng(0)
    w, x, y = rng.normal(size=(8, 5)).astype(np.float32), rng.normal(size=(4, 8)).astype(np.float32), [0, 1, 2, 3]
    cos = (x / np.linalg.norm(x, axis=1, keepdims=True)) @ (w / np.linalg.norm(w, axis=0, keepdims=True))
    _, logits = _head("cosface", w, x, y)
    expected = 64 * cos
    expected[np.arange(4), y] = 64 * (cos[np.arange(4), y] - 0.35)
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-3)
    _, logits = _head("arcface", w, x, y)
    theta = np.arccos(cos[np.arange(4), y])
    fallback = cos[np.arange(4), y] - math.sin(0.5) * 0.5
    target = np.where(theta + 0.5 < math.pi, 64 * np.cos(theta + 0.5), 64 * fallback)
    np.testing.assert_allclose(logits[np.arange(4), y], target, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("loss", ["cosface", "arcface"])
def test_margin_gradient_is_finite_at_the_boundary(loss):
    """Features exactly on their class weight (cos = 1) and exactly opposite (cos = −1)."""
    w = np.eye(4, 3, dtype=np.float32)
    x = np.stack([w[:, 0], -w[:, 1]])
    head = MarginHead(3, loss)
    head.build((None, 4))
    head.kernel.assign(w)
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        loss_value = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits([0, 1], head(xv, tf.constant([0, 1]))))
    grads = tape.gradient(loss_value, [xv, head.kernel])
    assert all(np.isfinite(g.numpy()).all() for g in grads)


def test_lr_schedule_advances_after_each_boundary_epoch_as_sirius_ai():
    """tf.train.piecewise_constant(epoch, [4, 7, 9, 11], ...) with sirius-ai's epoch index: 0.1 for
    epochs 0-4, 0.01 for 5-7, 1e-3 for 8-9, 1e-4 for 10-11."""
    values, bounds = [0.1, 0.01, 1e-3, 1e-4, 1e-5], [4, 7, 9, 11]
    assert [piecewise_lr(values, bounds, e) for e in range(13)] == [0.1] * 5 + [0.01] * 3 + [1e-3] * 2 + [1e-4] * 2 + [1e-5]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("mfn")
    synthetic.make_ms1m(root / "ms1m", identities=8, images_per_identity=6)
    synthetic.make_lfw_bin(root / "lfw.bin", pairs_per_fold=2, folds=10, identities=30)
    synthetic.make_lfw_bin(root / "cfp_fp.bin", pairs_per_fold=2, folds=10, identities=30, seed=1)
    convert_recordio.main(["--data_dir", str(root / "ms1m"), "--output", str(root / "train.tfrecords")])
    return root


def test_keep_last_batch_gives_one_pass_per_epoch_with_its_smaller_last_batch(data):
    """sirius-ai's pipeline: the records in file order, each pass batched on its own (48 images at
    batch 20: 20, 20, 8), the next pass starting again at the first record with new flips."""
    from common.tfrecord import read_records
    from mobilefacenet.data import tfrecord_dataset

    labels = [tf.train.Example.FromString(r).features.feature["label"].int64_list.value[0]
              for r in read_records(str(data / "train.tfrecords"))]
    plain = iter(tfrecord_dataset([str(data / "train.tfrecords")], 20, shuffle=0, flip=False, keep_last_batch=True))
    batches = [next(plain) for _ in range(6)]
    assert [len(y) for _, y in batches] == [20, 20, 8, 20, 20, 8]
    assert np.concatenate([y.numpy() for _, y in batches[:3]]).tolist() == labels
    flipped = iter(tfrecord_dataset([str(data / "train.tfrecords")], 48, shuffle=0, keep_last_batch=True))
    first, second = next(flipped)[0].numpy(), next(flipped)[0].numpy()
    unflipped = batches[0][0].numpy()
    mirrored = [np.array_equal(first[i], unflipped[i][:, ::-1]) for i in range(20)]
    assert 0 < sum(mirrored) < 20  # about half the images flipped
    assert not np.array_equal(first, second)  # and other ones on the next pass


def test_convert_recordio_keeps_every_image_and_label(data):
    from common import recordio
    from common.tfrecord import read_records

    info = json.loads((data / "train.json").read_text())
    assert info == {"images": 48, "classes": 8, "source": str(data / "ms1m")}
    with recordio.IndexedRecordReader(data / "ms1m" / "train.idx", data / "ms1m" / "train.rec") as r:
        source = sorted((h.label, jpeg) for h, jpeg in (recordio.unpack(r.read_idx(k)) for k in recordio.image_keys(r)))
    converted = []
    for rec in read_records(data / "train.tfrecords"):
        ex = tf.train.Example.FromString(rec).features.feature
        converted.append((float(ex["label"].int64_list.value[0]), ex["image_raw"].bytes_list.value[0]))
    assert sorted(converted) == source
    assert [c[0] for c in converted] != sorted(c[0] for c in converted)  # shuffled at conversion
    images, labels = next(iter(tfrecord_dataset([str(data / "train.tfrecords")], 16)))
    assert images.shape == (16, 112, 112, 3) and labels.dtype == tf.int32
    assert -1.0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1.0


def _examples(files):
    from common.tfrecord import read_records

    out = []
    for f in files:
        for rec in read_records(f):
            ex = tf.train.Example.FromString(rec).features.feature
            out.append((float(ex["label"].int64_list.value[0]), ex["image_raw"].bytes_list.value[0]))
    return out


def test_sharded_conversion_holds_every_image_once_and_the_trainer_reads_globs_and_folders(data, tmp_path):
    """--num_shards 5 --workers 2: every image and label exactly once over the shards, even shares
    of mixed identities, sidecars the trainer sizes epochs with, the same set as one file."""
    from mobilefacenet.data import tfrecord_files
    from mobilefacenet.trainer import dataset_size

    result = convert_recordio.main(["--data_dir", str(data / "ms1m"), "--output", str(tmp_path / "s" / "train.tfrecords"),
                                    "--num_shards", "5", "--workers", "2"])
    shards = [str(p) for p in result["shards"]]
    assert [Path(p).name for p in shards] == [f"train-{k:05d}-of-00005.tfrecords" for k in range(5)]
    per_shard = [len(_examples([f])) for f in shards]
    assert sum(per_shard) == 48 and max(per_shard) - min(per_shard) <= 1
    assert sorted(_examples(shards)) == sorted(_examples([data / "train.tfrecords"]))
    assert all(len({label for label, _ in _examples([f])}) > 1 for f in shards)  # identities mixed, not grouped
    summary = json.loads((tmp_path / "s" / "train.json").read_text())
    assert summary["images"] == 48 and summary["images_per_shard"] == per_shard
    assert dataset_size(shards, None) == (48, 8)
    assert tfrecord_files([str(tmp_path / "s")]) == shards
    assert tfrecord_files([str(tmp_path / "s" / "train-*.tfrecords")]) == shards
    with pytest.raises(StageError, match="found none"):
        tfrecord_files([str(tmp_path / "s" / "nothing-*.tfrecords")])


def test_verification_bin_round_trip_and_errors(data, tmp_path):
    bins, issame = read_verification_bin(data / "lfw.bin")
    assert len(bins) == 2 * len(issame) == 80
    write_verification_bin(tmp_path / "copy.bin", bins, issame)
    again, same = read_verification_bin(tmp_path / "copy.bin")
    assert again == bins and (same == issame).all()
    (tmp_path / "bad.bin").write_bytes(pickle.dumps((bins[:3], [True]), protocol=2))
    with pytest.raises(StageError, match="expected 2 images per pair"):
        read_verification_bin(tmp_path / "bad.bin")


@pytest.fixture(scope="module")
def trained(data):
    train_nets.main(["--tfrecords", str(data / "train.tfrecords"), "--eval_datasets", str(data / "lfw.bin"),
                     str(data / "cfp_fp.bin"), "--best_on", "cfp_fp",
                     "--models_dir", str(data / "models"), "--logs_dir", str(data / "logs"), "--max_epoch", "1",
                     "--steps_per_epoch", "3", "--train_batch_size", "8", "--bn_decay", "0.5"])
    (run,) = list((data / "models").iterdir())
    return run


@pytest.mark.slow
def test_training_resumes_and_keeps_the_best_checkpoint(trained, data):
    assert tf.train.latest_checkpoint(str(trained)).endswith("ckpt-1")
    assert tf.train.latest_checkpoint(str(trained / "best")).endswith("ckpt-1")
    from mobilefacenet.models.checkpoints import restore_model

    before = restore_model(str(trained / "ckpt-1"))[0].get_layer("conv1").kernel.numpy()
    train_nets.main(["--tfrecords", str(data / "train.tfrecords"), "--models_dir", str(data / "models"),
                     "--logs_dir", str(data / "logs"), "--max_epoch", "2", "--steps_per_epoch", "2",
                     "--train_batch_size", "8", "--resume"])
    assert [p.name for p in (data / "models").iterdir()] == [trained.name]
    after = restore_model(str(trained / "ckpt-2"))[0].get_layer("conv1").kernel.numpy()
    assert not np.allclose(before, after)


@pytest.mark.slow
def test_several_benchmarks_score_in_one_run_with_a_curve_each(trained, data, capsys):
    from mobilefacenet.embedding import embed, load_bin, verify
    from mobilefacenet.models.checkpoints import restore_model

    tags = set()
    for events in (data / "logs").rglob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            tags |= {v.tag for v in event.summary.value}
    assert {"lfw/accuracy", "cfp_fp/accuracy"} <= tags
    capsys.readouterr()
    results = inference.main(["--ckpt_path", str(trained / "best"), "--eval_datasets", str(data / "lfw.bin"),
                              str(data / "cfp_fp.bin")])
    printed = capsys.readouterr().out
    model, _, _ = restore_model(str(trained / "best"))
    for name in ("lfw", "cfp_fp"):
        images, issame = load_bin(data / f"{name}.bin")
        expected = verify(embed(model, images), issame)
        assert f"{name}: accuracy {expected.accuracy:.4f} ± {expected.std:.4f}" in printed
        assert results[name].accuracy == expected.accuracy
    with pytest.raises(StageError, match="--best_on: expected one of the --eval_datasets names"):
        train_nets.main(["--tfrecords", str(data / "train.tfrecords"), "--eval_datasets", str(data / "lfw.bin"),
                         "--best_on", "agedb_30", "--models_dir", str(data / "nope"), "--max_epoch", "1"])
    assert not list((data / "nope").glob("*")), "a refused run left a run folder"


@pytest.mark.slow
def test_freeze_image2bin_msame_and_om_accuracy_match_the_checkpoint(trained, data, tmp_path, capsys):
    from mobilefacenet.embedding import embed, load_bin, verify
    from mobilefacenet.models.checkpoints import restore_model

    ckpt2pb.main(["--ckpt_path", str(trained / "best"), "--output_path", str(tmp_path)])
    spec = json.loads((tmp_path / "MobileFaceNet.json").read_text())
    assert spec["inputs"] == [{"name": "Placeholder", "shape": [1, 112, 112, 3], "dtype": "float32"}]
    assert spec["outputs"] == [{"name": "the_outputs", "shape": [1, 128], "dtype": "float16"}]
    image2bin.main(["--eval_dataset", str(data / "lfw.bin"), "--output_dir", str(tmp_path / "bin_input")])
    assert (tmp_path / "bin_input" / "79.bin").stat().st_size == 112 * 112 * 3 * 4
    # The original README's om_eval.sh, paths as arguments (python on PATH is this venv's).
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    r = subprocess.run(["bash", "mobilefacenet/om_eval.sh", str(tmp_path / "MobileFaceNet.pb"), str(data / "lfw.bin"),
                        str(tmp_path / "bin_input"), str(tmp_path / "om_output")],
                       capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Accuracy: " in r.stdout
    (ts,) = list((tmp_path / "om_output").iterdir())
    assert (ts / "0_output_0.bin").stat().st_size == 128 * 2  # float16, as the om writes
    model, _, _ = restore_model(str(trained / "best"))
    images, issame = load_bin(data / "lfw.bin")
    keras_emb = embed(model, images)
    om_emb = np.stack([np.fromfile(ts / f"{i}_output_0.bin", np.float16) for i in range(80)])
    np.testing.assert_allclose(om_emb, keras_emb, atol=2e-3)
    capsys.readouterr()
    calculate_om_acc.main(["--om_output", str(tmp_path / "om_output"), "--eval_dataset", str(data / "lfw.bin")])
    printed = capsys.readouterr().out
    assert f"Accuracy: {verify(om_emb.astype(np.float64), issame).accuracy:1.3f}" in printed


@pytest.mark.slow
def test_fp16_and_int8_models_keep_the_msame_contract_and_stay_close_to_fp32(trained, data, tmp_path):
    """atc --precision_mode (the port's allow_fp32_to_fp16, and int8) writes reduced models beside
    the fp32 .onnx; msame runs them with the frozen graph's contract: one float16 `the_outputs`
    [1, 128] per image. fp16 stays within 5e-3 of fp32; int8 keeps every embedding's direction
    (cosine >= 0.98)."""
    from common import msame
    from common.modelspec import read_sidecar
    from mobilefacenet import atc

    ckpt2pb.main(["--ckpt_path", str(trained / "best"), "--output_path", str(tmp_path)])
    image2bin.main(["--eval_dataset", str(data / "lfw.bin"), "--output_dir", str(tmp_path / "bins")])
    pb, prefix = tmp_path / "MobileFaceNet.pb", tmp_path / "m"
    half = atc.main([f"--model={pb}", f"--output={prefix}"])  # the port's line: allow_fp32_to_fp16
    assert (half.artefact.name, half.reduced.name) == ("m.onnx", "m.fp16.onnx")
    int8 = atc.main([f"--model={pb}", f"--output={prefix}", "--precision_mode=int8", "--calibration_dir",
                     str(tmp_path / "bins"), "--calibration_batches", "16"])
    assert int8.reduced.name == "m.int8.onnx"
    outputs = {}
    for name in ("m.onnx", "m.fp16.onnx", "m.int8.onnx"):
        assert read_sidecar(tmp_path / name) == read_sidecar(tmp_path / "m.onnx")
        run = msame.main(["--model", str(tmp_path / name), "--input", str(tmp_path / "bins"),
                          "--output", str(tmp_path / f"out_{name}")])
        files = sorted(p.name for p in run.output_dir.iterdir())
        assert files == sorted(f"{i}_output_0.bin" for i in range(80))
        assert all((run.output_dir / f).stat().st_size == 128 * 2 for f in files)  # float16 [1, 128]
        outputs[name] = np.stack([np.fromfile(run.output_dir / f"{i}_output_0.bin", np.float16)
                                  for i in range(80)]).astype(np.float64)
    fp32 = outputs["m.onnx"]
    np.testing.assert_allclose(outputs["m.fp16.onnx"], fp32, atol=5e-3)
    q = outputs["m.int8.onnx"]
    cosine = (q * fp32).sum(1) / np.linalg.norm(q, axis=1) / np.linalg.norm(fp32, axis=1)
    assert cosine.min() >= 0.98, cosine.min()


def test_calculate_om_acc_reports_missing_outputs(data, tmp_path):
    (tmp_path / "out").mkdir()
    np.zeros(128, np.float16).tofile(tmp_path / "out" / "0_output_0.bin")
    with pytest.raises(StageError, match="missing 79"):
        calculate_om_acc.main(["--om_output", str(tmp_path / "out"), "--eval_dataset", str(data / "lfw.bin")])


@pytest.mark.slow
def test_mixed_precision_and_xla_training_run_and_freeze_in_float32(data, tmp_path):
    train_nets.main(["--tfrecords", str(data / "train.tfrecords"), "--models_dir", str(tmp_path / "models"),
                     "--logs_dir", str(tmp_path / "logs"), "--max_epoch", "1", "--steps_per_epoch", "1",
                     "--train_batch_size", "8", "--mixed_precision", "--jit"])
    assert tf.keras.mixed_precision.global_policy().name == "float32"  # not left behind for the next model
    (run,) = list((tmp_path / "models").iterdir())
    from mobilefacenet.models.checkpoints import restore_model

    model = restore_model(str(run))[0]
    weights = model.get_layer("conv1").kernel
    assert weights.dtype == tf.float32 and np.isfinite(weights.numpy()).all()
    emb = model(tf.zeros([1, 112, 112, 3]), training=False)
    assert emb.dtype == tf.float32 and np.isfinite(emb.numpy()).all()


@pytest.mark.slow
def test_verify_and_search_real_photos_with_a_cached_gallery(trained, data, tmp_path):
    """mobilefacenet verify/search on the astronaut photo (scikit-image, public domain) with the
    small checkpoint: well-formed scores, matches ranked by cosine, and a gallery embedded once,
    then only a changed photo again."""
    skimage = pytest.importorskip("skimage")
    pytest.importorskip("mtcnn")
    from PIL import Image

    from mobilefacenet import inference, search, verify

    photo = Image.open(os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png")).convert("RGB")
    photo.save(tmp_path / "probe.png")
    gallery = tmp_path / "gallery"
    for person in ("eileen", "other", "third"):
        (gallery / person).mkdir(parents=True)
    photo.transpose(Image.FLIP_LEFT_RIGHT).save(gallery / "eileen" / "1.png")
    # Two more gallery entries the detector still finds: a grey, slightly turned copy and a posterised one.
    from PIL import ImageOps

    ImageOps.grayscale(photo).convert("RGB").rotate(8).save(gallery / "other" / "1.png")
    ImageOps.posterize(photo, 2).save(gallery / "third" / "1.png")
    best = trained / "best" if (trained / "best").is_dir() else trained
    inference.main(["--ckpt_path", str(best), "--eval_datasets", str(data / "lfw.bin")])  # stores its threshold
    same = verify.main(["--ckpt_path", str(best), str(tmp_path / "probe.png"), str(gallery / "eileen" / "1.png")])
    assert -1.0 <= same["cosine"] <= 1.0 and same["threshold"] is not None and same["same"] in (True, False)
    first = search.main(["--ckpt_path", str(best), "--gallery", str(gallery), "--probe", str(tmp_path / "probe.png"),
                         "--top_k", "3"])
    assert first["embedded"] == 3 and len(first["matches"]) == 3
    assert [m[1] for m in first["matches"]] == sorted((m[1] for m in first["matches"]), reverse=True)
    again = search.main(["--ckpt_path", str(best), "--gallery", str(gallery), "--probe", str(tmp_path / "probe.png")])
    assert again["embedded"] == 0 and again["matches"] == first["matches"][:len(again["matches"])]
    os.utime(gallery / "other" / "1.png", ns=(1, 1))
    assert search.main(["--ckpt_path", str(best), "--gallery", str(gallery), "--probe",
                        str(tmp_path / "probe.png")])["embedded"] == 1

    # A text file named .jpg and a photo of a wall among the good ones: listed, and the rest searched.
    (gallery / "other" / "broken.jpg").write_text("not a photo")
    Image.new("RGB", (200, 200), (90, 120, 150)).save(gallery / "third" / "wall.png")
    found = search.main(["--ckpt_path", str(best), "--gallery", str(gallery), "--probe", str(tmp_path / "probe.png")])
    assert found["gallery"] == 3 and [m[0] for m in found["matches"]] == [m[0] for m in again["matches"]]
    assert [m[1] for m in found["matches"]] == pytest.approx([m[1] for m in again["matches"]], abs=1e-5)
    listed = (gallery / "embeddings_skipped.tsv").read_text().splitlines()
    assert [line.split("\t")[0] for line in listed] == [str(gallery / "other" / "broken.jpg"),
                                                        str(gallery / "third" / "wall.png")]
    assert "no face found" in listed[1] and "broken.jpg" not in listed[0].split("\t")[1]
    (gallery / "other" / "broken.jpg").unlink()
    (gallery / "third" / "wall.png").unlink()
    search.main(["--ckpt_path", str(best), "--gallery", str(gallery), "--probe", str(tmp_path / "probe.png")])
    assert not (gallery / "embeddings_skipped.tsv").exists()


@pytest.mark.slow
def test_search_names_the_people_of_a_clip_through_a_saved_index(trained, tmp_path):
    """Gallery clips (one person each) and a photo; a probe clip's track is found as its own
    gallery clip; the faiss index is saved and reused, and rebuilt when the gallery changes; a
    track below the threshold is unknown; bad probes and galleries stop with one line."""
    import shutil

    from common import synthetic
    from common.cli import StageError
    from common.video import VideoWriter, probe
    from mobilefacenet import search

    ytf = synthetic.make_ytf(tmp_path / "ytf", identities=4, videos_per_identity=2, frames=5, splits=2,
                             pairs_per_split=1)
    people = sorted(p.name for p in (ytf / "clips").iterdir() if p.is_dir())
    gallery = tmp_path / "gallery"
    for person in people:
        (gallery / person).mkdir(parents=True)
        shutil.copy(ytf / "clips" / person / "1.mp4", gallery / person / "1.mp4")
    best = trained / "best" if (trained / "best").is_dir() else trained
    marks = ["--landmarks", str(ytf / "clips" / "landmarks.txt")]
    base = ["--ckpt_path", str(best), "--gallery", str(gallery), *marks, "--top_k", "3"]
    probe_clip = gallery / people[2] / "1.mp4"  # a gallery clip: its own entry must come first
    first = search.main([*base, "--probe", str(probe_clip), "--video_out", str(tmp_path / "named.mp4"),
                         "--json", str(tmp_path / "tracks.json"), "--threshold=-1"])
    assert first["gallery"] == first["people"] == 4 and first["embedded"] == 4 and first["index"] == "IndexFlatIP"
    (track,) = first["videos"][0]["tracks"]
    assert track["name"] == people[2] and track["matches"][0]["cosine"] > 0.999
    assert [m["cosine"] for m in track["matches"]] == sorted((m["cosine"] for m in track["matches"]), reverse=True)
    assert len({m["person"] for m in track["matches"]}) == 3 and (track["start"], track["frames"]) == (0.0, 5)
    assert probe(tmp_path / "named.mp4").frames == 5 and (tmp_path / "tracks.json").is_file()
    assert (gallery / "embeddings.faiss").is_file()
    again = search.main([*base, "--probe", str(ytf / "clips" / people[0] / "2.mp4"), "--threshold", "1.01"])
    assert again["embedded"] == 0 and again["videos"][0]["tracks"][0]["name"] == "unknown"
    # A new person's photo (the astronaut) joins the gallery: only it is embedded, the index is rebuilt.
    (gallery / "eileen").mkdir()
    shutil.copy(synthetic.astronaut_path(), gallery / "eileen" / "1.png")
    grown = search.main([*base, "--probe", synthetic.astronaut_path()])
    assert grown["embedded"] == 1 and grown["people"] == 5 and grown["people_found"][0] == "eileen"
    assert grown["matches"][0][1] > 0.999
    # Bad input: a clip with no face, as probe and as the only gallery entry.
    wall = tmp_path / "wall" / "wall.mp4"
    with VideoWriter(wall, 25) as writer:
        for _ in range(4):
            writer.write(np.full((120, 160, 3), 120, np.uint8))
    for argv, words in [
        ([*base, "--probe", str(wall)], "wall.mp4: expected a face, found none in 4 frame"),
        (["--ckpt_path", str(best), "--gallery", str(wall.parent), *marks, "--probe", str(probe_clip)],
         "expected gallery photos or clips with a face, found none"),
    ]:
        with pytest.raises(StageError, match=words):
            search.main(argv)
    assert "no face found in 4 frame(s)" in (wall.parent / "embeddings_skipped.tsv").read_text()
