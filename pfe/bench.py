"""Speed of PFE (sphere64, the original): frozen-graph and ONNX inference, a head-training step.

    pfe bench [--quick] [--json rows.json]
    pfe bench --precision demo_out/pfe             # fp32 / fp16 / int8 of the demo's model

Inference at batch 1 (the om's batch, the original's 18.62 ms per image) and 16, through the
TensorFlow frozen graph and its ONNX Runtime conversion (mu and sigma_sq out). Training: the
trainer's own step at the original batch of 64 identities x 4 images, the base frozen and the
uncertainty head learning by MLS. Untrained weights and random inputs. Video: `verify` on two clips,
frames per second of the whole loop.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

DEPTH = 64  # the original sphere64


def rows(quick: bool) -> dict:
    """Rows plus TensorFlow's matmul rate on the same device."""
    import tensorflow as tf

    from common.bench import measure
    from common.modelspec import TensorSpec
    from common.tf.bench import function_flops, inference_rows, result
    from common.tf.optimizers import TF1Momentum
    from pfe.ckpt2pb import serving
    from pfe.models.sphere_net import build_base
    from pfe.models.uncertainty import build_uncertainty
    from pfe.trainer import make_head_step

    base = build_base(DEPTH)
    head = build_uncertainty(base.output["conv_final"].shape[-1])

    with tempfile.TemporaryDirectory() as tmp:
        out = inference_rows("PFE", serving(base, head), [TensorSpec("input", [None, 112, 96, 3])], ["mu", "sigma_sq"],
                             (1,) if quick else (1, 16), Path(tmp), 3 if quick else 10)

    identities, per_identity = 64, 4
    batch = identities * per_identity
    step = make_head_step(base, head, TF1Momentum(1e-3, momentum=0.9))
    x = tf.random.uniform((batch, 112, 96, 3), -1, 1)
    y = tf.repeat(tf.range(identities), per_identity)
    flops = function_flops(step, tf.TensorSpec(x.shape, tf.float32), tf.TensorSpec(y.shape, tf.int32))
    out.append(measure("PFE", "training", f"tensorflow {tf.__version__} tf.function", batch,
                       lambda: step(x, y)["loss"].numpy(), 1 if quick else 3, flops / batch,
                       note=f"sphere{DEPTH} frozen, head by MLS, {identities}x{per_identity}"))
    out.append(_pipeline(out[-1], identities, per_identity, quick))
    out.append(_verify_clips_row(base, head, quick))
    return result(out, quick)


def _verify_clips_row(base, head, quick: bool) -> dict:
    """`pfe verify a.mp4 b.mp4`'s loop on two 640x360 clips of one real face (the astronaut,
    panned and zoomed two ways): decode, MTCNN every 5th frame, align, sphere64, fusion, MLS."""
    import time
    from types import SimpleNamespace

    from common import synthetic
    from common.align import Detector
    from common.bench import reset_peak_rss, video_row
    from pfe.data import standardize
    from pfe.embedding import embed
    from pfe.verify import clip_templates

    def model(crops):
        mu, sigma_sq = embed(base, head, standardize(crops))
        return {"mu": mu, "sigma_sq": sigma_sq}

    flags = SimpleNamespace(fps=None, every=None, detect_every=5, min_score=0.9, points=None)
    frames = 25 if quick else 125
    with tempfile.TemporaryDirectory() as tmp:
        clips = [synthetic.make_panzoom(Path(tmp) / f"{zoom}.mp4", frames=frames, zoom=zoom) for zoom in (1.4, 1.1)]
        detect = Detector()
        reset_peak_rss()
        start = time.perf_counter()
        tracks = [clip_templates(str(c), detect, model, flags)[0] for c in clips]
        tracks[0].fused(), tracks[1].fused()
        seconds = time.perf_counter() - start
    return video_row("PFE", "verify two clips", "PyAV + MTCNN + tf.function", 2 * frames, seconds,
                     f"two 640x360 25 fps clips of one face, detection every 5 frames, sphere{DEPTH} untrained")


def _pipeline(training: dict, identities: int, per_identity: int, quick: bool) -> dict:
    """train's input: balanced identity batches read and decoded from JPEG files, flipped."""
    import tensorflow as tf

    from common import synthetic
    from common.bench import pipeline_row
    from pfe.data import balanced_indices, image_dataset, list_identities

    with tempfile.TemporaryDirectory() as tmp:
        synthetic.make_casia(Path(tmp) / "casia", identities=identities, images_per_identity=per_identity)
        paths, labels, _ = list_identities(Path(tmp) / "casia")
        batches = iter(image_dataset(paths, labels, balanced_indices(labels, identities, per_identity, 0)))
        return pipeline_row("PFE", f"tf.data (tensorflow {tf.__version__})", identities * per_identity,
                            lambda: next(batches)[0].numpy(), 3 if quick else 10, training,
                            "JPEG files read and decoded per batch (112x96), flip")


def precision(demo_dir: Path, work: Path) -> list[dict]:
    """fp32 / fp16 / int8 of the demo's model on the demo's LFW bins (common.precision)."""
    from common.precision import compare, variants
    from pfe.data import lfw_images
    from pfe.om_output_inf import read_outputs
    from pfe.scoring import lfw_scores, report

    bins = demo_dir / "input_bin"
    paths, pairs, index = lfw_images(None, demo_dir / "data" / "lfw" / "lfw_pairs.txt", demo_dir / "lfw_list.txt",
                                     check_files=False)

    def score(out):
        r = report(lfw_scores(*read_outputs(out, len(paths)), index), pairs, echo=lambda *_: None)
        return {"acc_cosine": r["cosine"], "acc_MLS": r["MLS"]}

    models = variants(demo_dir / "om_pfe.onnx", work, bins)
    return compare("PFE", models, bins, work, score, note="LFW 10-fold on the demo's synthetic pairs (sphere10)")


def main(argv=None) -> dict:
    from common.bench_stage import stage_main

    return stage_main("pfe bench", __doc__, rows, argv, precision)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
