"""Speed of CovPoolFER: frozen-graph inference at batch 1 and 128, a training step at batch 128, and
`predict` on video.

    covpoolfer bench [--quick] [--json rows.json]

Untrained covpoolnet2 weights and random inputs (speed does not depend on them). The training
row runs the trainer's own compiled step (softmax + centre loss + weight decay, Stiefel
projection, Adam, QR retraction) and reports the share of it spent in the fused ReEig+LogEig
eigendecomposition, forward and backward. There is no ONNX row: SelfAdjointEigV2 does not
convert. The video rows run `predict`'s loop (decode, MTCNN every K frames, track, align,
classify) on a 640x360, 25 frames/s pan-and-zoom clip of the astronaut photo (one real face),
and the peak memory of reading a 1-minute and a 10-minute clip (it must not grow with length).
`scripts/bench.py` (`make bench`) gathers these rows with the other models'.
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
    out += _video_rows(model, quick)
    return result(out, quick)


def _video_row(backend: str, frames: int, seconds: float, note: str) -> dict:
    from common.bench import video_row

    return video_row("CovPoolFER", "predict video", backend, frames, seconds, note)


def _video_rows(model, quick: bool) -> list[dict]:
    """predict's loop on a 640x360 25 fps clip with one face: detection every frame and every 5th
    (frames/s), the annotated mp4 on top; then peak memory over a 1- and a 10-minute clip."""
    import time
    from contextlib import ExitStack

    from common import synthetic
    from common.align import Detector
    from common.bench import reset_peak_rss
    from common.models import SFEW_CLASSES
    from common.video import VideoWriter, read_frames
    from covpoolfer.predict_video import classify_faces, predict_video

    classify, detect = classify_faces(model, 100), Detector()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        frames = 50 if quick else 250
        clip = str(synthetic.make_panzoom(Path(tmp) / "clip.mp4", frames=frames))
        for every, annotate in ((1, False), (5, False), (5, True)):
            reset_peak_rss()
            start = time.perf_counter()
            with ExitStack() as stack:
                def writer_for(fps, stack=stack, annotate=annotate):
                    return stack.enter_context(VideoWriter(Path(tmp) / "annotated.mp4", fps)) if annotate else None

                predict_video(clip, classify, list(SFEW_CLASSES), 100, detect, fps=None, every=None,
                              detect_every=every, min_score=0.9, rows=None, writer_for=writer_for)
            seconds = time.perf_counter() - start
            rows.append(_video_row("PyAV + MTCNN + tf.function", frames, seconds,
                                   f"640x360 25 fps, one face; detection every {every} frame(s)"
                                   + (", annotated H.264 written" if annotate else "")))
        if quick:
            return rows
        for minutes in (1, 10):
            long_clip = str(synthetic.make_panzoom(Path(tmp) / f"{minutes}min.mp4", frames=minutes * 60 * 25))
            reset_peak_rss()
            start = time.perf_counter()
            decoded = sum(1 for _ in read_frames(long_clip))
            rows.append(_video_row("PyAV decode", decoded, time.perf_counter() - start,
                                   f"a {minutes}-minute 640x360 clip read frame by frame: peak memory"))
        reset_peak_rss()
        start = time.perf_counter()
        found = predict_video(long_clip, classify, list(SFEW_CLASSES), 100, detect, fps=None, every=25, detect_every=5,
                              min_score=0.9, rows=None, writer_for=lambda fps: None)
        rows.append(_video_row("PyAV + MTCNN + tf.function", found["frames_read"], time.perf_counter() - start,
                               "the 10-minute clip through predict --every 25 (one frame a second): peak memory"))
    return rows


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
