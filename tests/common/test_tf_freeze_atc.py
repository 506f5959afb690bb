"""Freeze -> .pb + sidecar -> msame (TF backend) -> atc portable route (ONNX) -> msame (ORT)."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from common import atc  # noqa: E402
from common.cli import StageError  # noqa: E402
from common.modelspec import TensorSpec, read_sidecar  # noqa: E402
from common.msame import run_portable  # noqa: E402
from common.tf.freeze import freeze, write_frozen  # noqa: E402

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def frozen_pb(tmp_path_factory):
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.Input((8, 8, 3)), tf.keras.layers.Conv2D(4, 3),
                                 tf.keras.layers.GlobalAveragePooling2D(), tf.keras.layers.Dense(5)])

    def serve(x):
        logits = model(x, training=False)
        return tf.argmax(logits, -1, output_type=tf.int32), logits

    graph_def, spec = freeze(serve, [TensorSpec("inputImage", [4, 8, 8, 3])], ["output", "logits"])
    path = write_frozen(graph_def, spec, tmp_path_factory.mktemp("pb") / "Tiny.pb")
    return path, model


def test_sidecar_describes_named_nodes(frozen_pb):
    path, _ = frozen_pb
    spec = read_sidecar(path)
    assert [t.name for t in spec.inputs] == ["inputImage"]
    assert [(t.name, t.shape, t.dtype) for t in spec.outputs] == [
        ("output", [4], "int32"), ("logits", [4, 5], "float32")]


def test_msame_on_pb_matches_keras(frozen_pb, tmp_path):
    path, model = frozen_pb
    x = np.random.default_rng(0).uniform(0, 255, (4, 8, 8, 3)).astype(np.float32)
    (tmp_path / "in").mkdir()
    x.tofile(tmp_path / "in" / "0.bin")
    res = run_portable(str(path), [str(tmp_path / "in")], str(tmp_path / "out"), "TXT", echo=lambda s: None)
    pred = [int(v) for v in (res.output_dir / "0_output_0.txt").read_text().split()]
    expected = model(x, training=False).numpy()
    assert pred == expected.argmax(1).tolist()
    logits = np.loadtxt(res.output_dir / "0_output_1.txt")
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-4)


def test_atc_argv_matches_original_lines():
    argv = atc.build_argv("./CovPoolFER.pb", "./om/CovPoolFER", "Ascend310",
                          input_shape="inputImage:128,100,100,3", out_nodes="output:0", log="info")
    assert argv == ["atc", "--model=./CovPoolFER.pb", "--framework=3", "--output=./om/CovPoolFER",
                    "--soc_version=Ascend310", "--input_shape=inputImage:128,100,100,3", "--log=info",
                    "--out_nodes=output:0"]
    pfe = atc.build_argv("PFE.pb", "./om_pfe", input_shape="input:1,112,96,3", log="info",
                         out_nodes="mu:0;sigma_sq:0", precision_mode="allow_fp32_to_fp16",
                         op_select_implmode="high_precision")
    assert pfe[-3:] == ["--out_nodes=mu:0;sigma_sq:0", "--precision_mode=allow_fp32_to_fp16",
                        "--op_select_implmode=high_precision"]


def test_atc_portable_writes_onnx_that_msame_runs(frozen_pb, tmp_path):
    path, model = frozen_pb
    lines = []
    res = atc.convert(str(path), str(tmp_path / "Tiny"), input_shape="inputImage:4,8,8,3",
                      out_nodes="logits:0;output:0", echo=lines.append)
    assert not res.ran_atc and res.artefact.suffix == ".onnx"
    assert any("atc is not installed" in line for line in lines)
    assert lines[0].startswith("atc --model=")
    spec = read_sidecar(res.artefact)
    assert [t.name for t in spec.outputs] == ["logits", "output"]  # --out_nodes order
    x = np.random.default_rng(1).uniform(0, 255, (4, 8, 8, 3)).astype(np.float32)
    x.tofile(tmp_path / "x.bin")
    run = run_portable(str(res.artefact), [str(tmp_path / "x.bin")], str(tmp_path / "o"), "BIN",
                       echo=lambda s: None)
    logits = np.fromfile(run.output_dir / "Tiny_output_0.bin", np.float32).reshape(4, 5)
    np.testing.assert_allclose(logits, model(x, training=False).numpy(), rtol=1e-4, atol=1e-4)


def test_atc_rejects_unknown_nodes_and_names_unconvertible_ops(frozen_pb, tmp_path):
    path, _ = frozen_pb
    with pytest.raises(StageError, match="--out_nodes: expected nodes among"):
        atc.convert(str(path), str(tmp_path / "T"), out_nodes="nope:0", echo=lambda s: None)
    # The graph was frozen at batch 4: an atc line for 128 cannot change that, and the sidecar
    # must keep saying 4 (else the next msame rejects correct bins).
    sidecar = path.with_suffix(".json").read_text()
    with pytest.raises(StageError, match=r"--input_shape: expected inputImage to fit the graph's \[4, 8, 8, 3\]"):
        atc.convert(str(path), str(tmp_path / "T"), input_shape="inputImage:128,8,8,3", echo=lambda s: None)
    assert path.with_suffix(".json").read_text() == sidecar

    def serve(x):
        return tf.linalg.eigh(x)[0]

    from common.tf.freeze import freeze as fz
    from common.tf.onnx_export import unsupported_ops

    graph_def, _ = fz(serve, [TensorSpec("m", [2, 3, 3])], ["eig"])
    assert "SelfAdjointEigV2" in unsupported_ops(graph_def)


def test_atc_cli_without_atc(frozen_pb, tmp_path):
    path, _ = frozen_pb
    r = subprocess.run([sys.executable, "-m", "common.atc", f"--model={path}", "--framework=3",
                        f"--output={tmp_path / 'T'}", "--soc_version=Ascend310", "--no_onnx"],
                       capture_output=True, text=True, env={**os.environ, "PATH": os.path.dirname(sys.executable)})
    assert r.returncode == 0, r.stderr
    assert re.search(r"portable artefact: .*Tiny\.pb", r.stdout)


def test_synthetic_tfrecord_reads_with_tf_data(tmp_path):
    """The ms1m TFRecord written without TensorFlow parses with tf.data, as train_nets reads it."""
    from common import synthetic

    root = synthetic.make_ms1m(tmp_path / "ms1m", identities=2, images_per_identity=2)
    spec = {"image_raw": tf.io.FixedLenFeature([], tf.string), "label": tf.io.FixedLenFeature([], tf.int64)}
    ds = tf.data.TFRecordDataset(str(root / "train.tfrecords")).map(
        lambda r: tf.io.parse_single_example(r, spec))
    items = list(ds)
    assert [int(i["label"]) for i in items] == [0, 0, 1, 1]
    assert tf.io.decode_jpeg(items[0]["image_raw"]).shape == (112, 112, 3)
