"""Freeze a CovPoolFER checkpoint into CovPoolFER.pb (input inputImage, output argmax `output`).

    python -m covpoolfer.ckpt2pb --ckpt_path models/20260101-120000 --output_path pb_model/

The graph takes raw 0..255 pixels [batch,100,100,3] float32 (standardisation is inside) and
returns `output` int32 [batch], the argmax class, as the original atc line expects
(--out_nodes="output:0"). A sidecar CovPoolFER.json lists inputs and outputs for msame/atc.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import add_checkpoint_args, add_freeze_args, parser


def serving(model, extra_outputs: bool = False):
    """The frozen graph's function: pixels -> `output` (argmax), plus `logits` and `embeddings`."""
    import tensorflow as tf

    def serve(x):
        out = model(x, training=False)
        pred = tf.argmax(out["logits"], -1, output_type=tf.int32)
        return (pred, out["logits"], out["embeddings"]) if extra_outputs else pred

    return serve


def build_parser():
    p = parser("covpoolfer ckpt2pb", __doc__.strip().splitlines()[0])
    add_checkpoint_args(p, "covpoolfer")
    add_freeze_args(p, output_path="./", output_name="CovPoolFER.pb", batch_size=128)
    p.add_argument("--extra_outputs", action="store_true",
                   help="also expose `logits` [B,7] and `embeddings` [B,E] (L2-normalised prelogits)")
    return p


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)

    from common.modelspec import TensorSpec
    from common.tf.freeze import freeze_checkpoint
    from covpoolfer.models.checkpoints import restore_model

    model, config, prefix = restore_model(a.ckpt_path, a.use_ema)
    size = config["image_size"]
    names = ["output", "logits", "embeddings"] if a.extra_outputs else ["output"]
    return freeze_checkpoint(serving(model, a.extra_outputs), [TensorSpec("inputImage", [a.batch_size, size, size, 3])],
                             names, Path(a.output_path) / a.output_name, prefix)

if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
