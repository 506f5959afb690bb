"""`make bench`: CovPoolFER inference and training speed against this machine's matmul rate.

    python scripts/bench.py [--quick] [--out docs/benchmarks.md]

Rows: inference through the portable msame backend (TensorFlow frozen graph) at batch 1 and
128, ms per batch and per image; one training step at batch 128 (--quick: 32) after warm-up,
with the share of step time spent in the eigendecompositions. The reference rate is a float32
matrix multiply timed in the same run. Weights are untrained: speed does not depend on them.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    (a @ b).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        (a @ b).numpy()
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def timed(fn, repeats: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1000


def covpoolfer_rows(quick: bool, tmp: Path) -> list[dict]:
    import tensorflow as tf

    from common.modelspec import TensorSpec
    from common.msame import load_backend
    from common.tf.freeze import freeze, write_frozen
    from common.tf.spd import covariance_pool
    from covpoolfer.models import build_model
    from covpoolfer.trainer import make_optimizer

    model = build_model("covpoolnet2", apply_dropout=False)
    rows = []
    for batch in (1, 128):
        gd, spec = freeze(lambda x: tf.argmax(model(x, training=False)["logits"], -1, output_type=tf.int32),
                          [TensorSpec("inputImage", [batch, 100, 100, 3])], ["output"])
        pb = write_frozen(gd, spec, tmp / f"CovPoolFER_b{batch}.pb")
        backend = load_backend(pb)
        x = np.random.default_rng(0).uniform(0, 255, (batch, 100, 100, 3)).astype(np.float32)
        ms = timed(lambda b=backend, x=x: b([x]), 2 if quick else 10)
        rows.append(dict(model="CovPoolFER", what=f"inference, TF frozen graph (msame portable), batch {batch}",
                         ms_batch=ms, ms_image=ms / batch, images_s=1000 * batch / ms))
    batch = 32 if quick else 128
    opt = make_optimizer("ADAM", 0.005)
    x = tf.random.uniform((batch, 100, 100, 3), 0, 255)
    y = tf.random.uniform((batch,), 0, 7, tf.int32)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                y, model(x, training=True)["logits"]))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    ms = timed(lambda: step().numpy(), 2 if quick else 5)
    c = covariance_pool(tf.random.normal((batch, 144, 256)))
    # The step runs one eigh of [B,128,128] (ReEig+LogEig fused); its backward reuses the factors.
    eig = timed(lambda: tf.linalg.eigh(c[:, :128, :128])[0].numpy(), 3)
    rows.append(dict(model="CovPoolFER", what=f"training step, batch {batch}", ms_batch=ms,
                     ms_image=ms / batch, images_s=1000 * batch / ms, eig_share=eig / ms))
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats, training at batch 32")
    p.add_argument("--out", default="docs/benchmarks.md")
    a = p.parse_args(argv)
    import tempfile

    import tensorflow as tf

    rate = matmul_gflops(1024 if a.quick else 2048)
    with tempfile.TemporaryDirectory() as tmp:
        rows = covpoolfer_rows(a.quick, Path(tmp))
    header = (f"Benchmarks: {platform.processor() or platform.machine()}, {platform.system()}, "
              f"TensorFlow {tf.__version__}, {date.today()}, `python scripts/bench.py"
              f"{' --quick' if a.quick else ''}`. float32 matmul rate measured in the same run: "
              f"{rate:.1f} GFLOP/s. Untrained weights; synthetic inputs.")
    lines = [header, "", "| model | what | ms/batch | ms/image | images/s | eigh share of step |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        share = f"{r['eig_share']:.1%}" if "eig_share" in r else ""
        lines.append(f"| {r['model']} | {r['what']} | {r['ms_batch']:.1f} | {r['ms_image']:.2f} | "
                     f"{r['images_s']:.1f} | {share} |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("# Benchmarks\n\n" + text)
    out.with_suffix(".json").write_text(json.dumps({"matmul_gflops": rate, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
