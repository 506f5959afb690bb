"""Speed of MobileFaceNet (paper variant): frozen-graph and ONNX inference, a training step.

    mobilefacenet bench [--quick] [--json rows.json]
    mobilefacenet bench --precision demo_out/mobilefacenet     # fp32 / fp16 / int8 of the demo's model

Inference at batch 1 (the om's batch; the paper's phone figure is 24 ms) and 64, through the
TensorFlow frozen graph (float16 `the_outputs`, as ckpt2pb writes it) and its ONNX Runtime
conversion. Training: the trainer's own step at the original batch of 64 with a CosFace head
over MS1M's 85,742 identities. Untrained weights and random inputs. Search: `search` on a clip
(frames/s) and one probe's latency against 10^4-10^6 gallery entries, exact and HNSW (recall@1).
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
    out.append(_search_clip_row(model, quick))
    out += search_latency_rows(quick)
    return result(out, quick)


def _people_like(n: int, dim: int, rng, per_person: int = 5):
    """Unit vectors that cluster by person, as face embeddings do (5 per person, noise about as
    large as the spread between people)."""
    import numpy as np

    centres = rng.standard_normal((n // per_person + 1, dim), dtype=np.float32)
    x = np.repeat(centres, per_person, axis=0)[:n] + 0.7 * rng.standard_normal((n, dim), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _search_clip_row(model, quick: bool) -> dict:
    """`mobilefacenet search --probe clip.mp4`'s loop against a gallery of 10,000 entries: decode,
    MTCNN every 5th frame, align, embed, the track's template looked up in the flat index."""
    import time
    from types import SimpleNamespace

    import numpy as np

    from common import synthetic
    from common.align import Detector
    from common.bench import reset_peak_rss, video_row
    from mobilefacenet import gallery_index
    from mobilefacenet.search import clip_template

    index = gallery_index.build(_people_like(10_000, 128, np.random.default_rng(0)), "flat")
    flags = SimpleNamespace(fps=None, every=None, detect_every=5, min_score=0.9, points=None, landmarks=None)
    frames = 25 if quick else 125
    with tempfile.TemporaryDirectory() as tmp:
        clip = synthetic.make_panzoom(Path(tmp) / "clip.mp4", frames=frames)
        detect = Detector()
        reset_peak_rss()
        start = time.perf_counter()
        templates, _ = clip_template(model, clip, detect, flags)
        gallery_index.search(index, templates, 5)
        seconds = time.perf_counter() - start
    return video_row("MobileFaceNet", "search a clip", "PyAV + MTCNN + tf.function + faiss", frames, seconds,
                     "640x360 25 fps, one face, detection every 5 frames, gallery of 10,000 (flat index)")


def search_latency_rows(quick: bool, queries: int = 200) -> list[dict]:
    """Latency of one probe face against 10^4 and (full runs) 10^5 and 10^6 gallery entries: the
    exact (flat) index against HNSW, with HNSW's recall@1 of the exact top match. 10^4 and 10^5:
    vectors that cluster by person; 10^6: uniform random vectors, HNSW's hardest case."""
    import time

    import numpy as np

    from common.bench import format_row, peak_rss_mib, reset_peak_rss
    from mobilefacenet import gallery_index

    rng = np.random.default_rng(0)
    out = []
    for n in (10**4,) if quick else (10**4, 10**5, 10**6):  # --quick: the 10^5 HNSW build alone is 35 s
        random = n >= 10**6
        gallery = _people_like(n, 128, rng) if not random else rng.standard_normal((n, 128), dtype=np.float32)
        gallery /= np.linalg.norm(gallery, axis=1, keepdims=True)
        # another photo of a gallery person: an entry moved by noise of norm 0.5 (cosine ~0.9 to it)
        probes = gallery[rng.integers(n, size=queries)] + 0.5 / np.sqrt(128) * rng.standard_normal(
            (queries, 128), dtype=np.float32)
        probes /= np.linalg.norm(probes, axis=1, keepdims=True)
        exact = None
        for kind in ("flat", "hnsw"):
            reset_peak_rss()
            start = time.perf_counter()
            index = gallery_index.build(gallery, kind)
            built = time.perf_counter() - start
            times, top = [], []
            for q in probes:
                start = time.perf_counter()
                top.append(gallery_index.search(index, q, 1)[1][0, 0])
                times.append(time.perf_counter() - start)
            ms = 1000 * float(np.median(times))
            exact = np.array(top) if kind == "flat" else exact
            recall = float(np.mean(np.array(top) == exact))
            # the same person found (5 entries a person), which is what `search` reports
            person = float(np.mean(np.array(top) // 5 == exact // 5)) if not random else recall
            row = dict(model="MobileFaceNet", kind="gallery search", backend=f"faiss {type(index).__name__}", batch=1,
                       ms_batch=ms, ms_image=ms, images_s=1000 / ms, peak_mib=peak_rss_mib(), gflop_image=0.0,
                       gflops=0.0, repeats=queries, gallery=n, recall_at_1=recall, person_recall_at_1=person,
                       build_s=built,
                       note=f"{n:,} entries ({'uniform random' if random else 'clustered, 5 a person'}), one probe; "
                            f"recall@1 {recall:.3f} of the exact search"
                            + ("" if random else f" ({person:.3f} same person)") + f"; built in {built:.1f} s")
            print(format_row(row), flush=True)
            out.append(row)
    return out


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
