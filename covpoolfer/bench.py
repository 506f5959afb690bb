"""Speed of CovPoolFER: frozen-graph inference at batch 1 and 128, a training step at batch 128.

    covpoolfer bench [--quick] [--json rows.json]

Untrained covpoolnet2 weights and random inputs (speed does not depend on them). The training
row runs the trainer's own compiled step (softmax + centre loss + weight decay, Stiefel
projection, Adam, QR retraction) and reports the share of it spent in the fused ReEig+LogEig
eigendecomposition, forward and backward. There is no ONNX row: SelfAdjointEigV2 does not
convert. `scripts/bench.py` (`make bench`) gathers these rows with the other models'.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

TRAIN_BATCH = 128  # the original's


def rows(quick: bool) -> dict:
    """Rows plus TensorFlow's matmul rate on the same device."""
    import tensorflow as tf

    from common.bench import measure, time_ms
    from common.modelspec import TensorSpec
    from common.tf import spd
    from common.tf.bench import function_flops, inference_rows, result
    from covpoolfer.ckpt2pb import serving
    from covpoolfer.models.covpoolnet import build_model
    from covpoolfer.trainer import make_optimizer, make_train_step

    model = build_model("covpoolnet2", apply_dropout=False)

    with tempfile.TemporaryDirectory() as tmp:
        out = inference_rows("CovPoolFER", serving(model), [TensorSpec("inputImage", [None, 100, 100, 3])], ["output"],
                             (1, 128), Path(tmp), 3 if quick else 10, onnx=False)

    centers = tf.Variable(tf.zeros([7, model.output["prelogits"].shape[-1]]), trainable=False)
    optimizer = make_optimizer("ADAM", 0.001)
    step = make_train_step(model, optimizer, centers, 5e-4, 0.01, 0.95)
    x = tf.random.uniform((TRAIN_BATCH, 100, 100, 3), 0, 255)
    y = tf.random.uniform((TRAIN_BATCH,), 0, 7, tf.int32)
    flops = function_flops(step, tf.TensorSpec(x.shape, tf.float32), tf.TensorSpec(y.shape, tf.int32))

    # The eigendecomposition work of one step: the fused ReEig+LogEig on [B,128,128], both ways.
    c = tf.Variable(spd.covariance_pool(tf.random.normal((TRAIN_BATCH, 144, 128))))

    @tf.function
    def eig_forward_backward():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(spd.reeig_logeig(c))
        return tape.gradient(loss, c)

    eig_ms = time_ms(lambda: eig_forward_backward().numpy(), 3 if quick else 5)
    repeats = 1 if quick else 5
    for jit in (False,) if quick else (False, True):  # XLA was slower on CPU: full runs only
        if jit:
            step = make_train_step(model, optimizer, centers, 5e-4, 0.01, 0.95, jit=True)
        backend = f"tensorflow {tf.__version__} tf.function" + (" + XLA (--jit)" if jit else "")
        row = measure("CovPoolFER", "training", backend, TRAIN_BATCH, lambda s=step: s(x, y)[0].numpy(), repeats,
                      flops / TRAIN_BATCH)
        row["eig_share"] = eig_ms / row["ms_batch"]
        row["note"] = f"fused eigh {row['eig_share']:.0%} of the step (not in the FLOP count)"
        out.append(row)
    out.append(_pipeline(out[-1] if quick else out[-2], quick))
    return result(out, quick)


def _pipeline(training: dict, quick: bool) -> dict:
    """train's tf.data input: images decoded once up front, then rotate, flip, shuffle, batch."""
    import numpy as np
    import tensorflow as tf

    from common.bench import pipeline_row
    from covpoolfer.data import train_dataset

    images = np.random.default_rng(0).integers(0, 256, (1024, 100, 100, 3), dtype=np.uint8)
    labels = np.arange(1024, dtype=np.int32) % 7
    batches = iter(train_dataset(images, labels, TRAIN_BATCH, augment=True, seed=0))
    return pipeline_row("CovPoolFER", f"tf.data (tensorflow {tf.__version__})", TRAIN_BATCH,
                        lambda: next(batches)[0].numpy(), 3 if quick else 10, training,
                        "decoded 100x100 images in memory, +-10 degree rotation and flip")


def precision(demo_dir: Path, work: Path) -> list[dict]:
    """No reduced-precision route: said as a row, not skipped silently."""
    return [{"model": "CovPoolFER", "precision": "fp32 only",
             "note": "the graph's SelfAdjointEigV2 (ReEig/LogEig) has no ONNX converter, so there is no ONNX to "
                     "convert or quantize; quantizing only the conv trunk would need the graph cut in two and the "
                     "SPD head run in TensorFlow, which this repository does not do"}]


def main(argv=None) -> dict:
    from common.bench_stage import stage_main

    return stage_main("covpoolfer bench", __doc__, rows, argv, precision)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
