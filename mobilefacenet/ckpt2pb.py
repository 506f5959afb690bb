"""Freeze a MobileFaceNet checkpoint into MobileFaceNet.pb (input Placeholder, fp16 embedding).

    python -m mobilefacenet.ckpt2pb --ckpt_path models/<run>/best --output_path pb_model/

As the Ascend port's freeze_graph.py: input `Placeholder` float32 [B,112,112,3] already
normalised ((x − 127.5)·0.0078125), output `the_outputs` = the L2-normalised embedding cast to
float16 [B,E]; --float32_output exposes `embeddings` float32 instead. Writes the sidecar .json.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import add_checkpoint_args, add_freeze_args, parser
from common.models import MODELS


def serving(model, float32_output: bool = False):
    """The frozen graph's function: normalised pixels -> the L2-normalised embedding, cast to
    float16 as the port's `the_outputs` unless `float32_output`."""
    import tensorflow as tf

    from mobilefacenet.models.mobilefacenet import l2_normalize

    def serve(x):
        emb = l2_normalize(model(x, training=False))
        return emb if float32_output else tf.cast(emb, tf.float16)

    return serve


def main(argv=None) -> dict:
    p = parser("mobilefacenet ckpt2pb", __doc__.strip().splitlines()[0])
    add_checkpoint_args(p, "mobilefacenet")
    add_freeze_args(p, output_path="pb_model/", output_name=MODELS["mobilefacenet"].frozen, batch_size=1)
    p.add_argument("--float32_output", action="store_true", help="output `embeddings` float32, no fp16 cast")
    a = p.parse_args(argv)

    from common.modelspec import TensorSpec
    from common.tf.freeze import freeze_checkpoint
    from mobilefacenet.models.checkpoints import restore_model

    model, config, prefix = restore_model(a.ckpt_path, a.use_ema)
    name = "embeddings" if a.float32_output else "the_outputs"
    return freeze_checkpoint(serving(model, a.float32_output), [TensorSpec("Placeholder", [a.batch_size, 112, 112, 3])],
                             [name], Path(a.output_path) / a.output_name, prefix, f"{config['variant']} variant")

if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
