"""Speed of MobileFaceNet (paper variant): frozen-graph and ONNX inference, a training step.

    mobilefacenet bench [--quick] [--json rows.json]
    mobilefacenet bench --precision demo_out/mobilefacenet     # fp32 / fp16 / int8 of the demo's model

Inference at batch 1 (the om's batch; the paper's phone figure is 24 ms) and 64, through the
TensorFlow frozen graph (float16 `the_outputs`, as ckpt2pb writes it) and its ONNX Runtime
conversion. Training: the trainer's own step at the original batch of 64 with a CosFace head
over MS1M's 85,742 identities. Untrained weights and random inputs.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

MS1M_IDENTITIES = 85742


def rows(quick: bool) -> dict:
    """Rows plus TensorFlow's matmul rate on the same device."""
    import tensorflow as tf

    from common.bench import measure
    from common.modelspec import TensorSpec
    from common.tf.bench import function_flops, inference_rows, result
    from common.tf.margin import MarginHead
    from mobilefacenet.ckpt2pb import serving
    from mobilefacenet.models.mobilefacenet import build_model
    from mobilefacenet.trainer import make_train_step

    model = build_model("paper")

    with tempfile.TemporaryDirectory() as tmp:
        out = inference_rows("MobileFaceNet", serving(model), [TensorSpec("Placeholder", [None, 112, 112, 3])],
                             ["the_outputs"], (1, 64), Path(tmp), 5 if quick else 20)

    batch = 64
    head = MarginHead(MS1M_IDENTITIES, "cosface", name="margin_head")
    head.build((None, 128))
    optimizer = tf.keras.optimizers.Adam(0.01)
    step = make_train_step(model, head, optimizer, 1e-5)
    x = tf.random.uniform((batch, 112, 112, 3), -1, 1)
    y = tf.random.uniform((batch,), 0, MS1M_IDENTITIES, tf.int32)
    flops = function_flops(step, tf.TensorSpec(x.shape, tf.float32), tf.TensorSpec(y.shape, tf.int32))
    for jit in (False,) if quick else (False, True):  # XLA was slower on CPU: full runs only
        if jit:
            step = make_train_step(model, head, optimizer, 1e-5, jit=True)
        backend = f"tensorflow {tf.__version__} tf.function" + (" + XLA (--jit)" if jit else "")
        out.append(measure("MobileFaceNet", "training", backend, batch, lambda s=step: s(x, y)[0].numpy(),
                           2 if quick else 5, flops / batch, note=f"CosFace over {MS1M_IDENTITIES} identities"))
    out.append(_pipeline(out[-1] if quick else out[-2], batch, quick))
    return result(out, quick)


def _pipeline(training: dict, batch: int, quick: bool) -> dict:
    """train_nets's input: TFRecords read, JPEGs decoded, flipped, shuffled, batched."""
    import tensorflow as tf

    from common import synthetic
    from common.bench import pipeline_row
    from mobilefacenet.data import tfrecord_dataset

    with tempfile.TemporaryDirectory() as tmp:
        synthetic.make_ms1m(Path(tmp), identities=40, images_per_identity=16)
        batches = iter(tfrecord_dataset([str(Path(tmp) / "train.tfrecords")], batch, shuffle=2000))
        return pipeline_row("MobileFaceNet", f"tf.data (tensorflow {tf.__version__})", batch,
                            lambda: next(batches)[0].numpy(), 3 if quick else 10, training,
                            "TFRecord JPEGs (112x112) decoded, flipped, shuffled")


def precision(demo_dir: Path, work: Path) -> list[dict]:
    """fp32 / fp16 / int8 of the demo's model on the demo's LFW bins (common.precision)."""
    from common.precision import compare, variants
    from mobilefacenet.calculate_om_acc import om_accuracy

    bins, lfw = demo_dir / "bin_input", demo_dir / "data" / "lfw.bin"
    models = variants(demo_dir / "tf_MobileFaceNet.onnx", work, bins)
    return compare("MobileFaceNet", models, bins, work, lambda out: {"acc": om_accuracy(out, lfw).accuracy},
                   note="LFW 10-fold on the demo's synthetic pairs; float16 the_outputs in every variant")


def main(argv=None) -> dict:
    from common.bench_stage import stage_main

    return stage_main("mobilefacenet bench", __doc__, rows, argv, precision)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
