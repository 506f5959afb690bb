"""Freeze a CovPoolFER checkpoint into CovPoolFER.pb (input inputImage, output argmax `output`).

    python -m covpoolfer.ckpt2pb --ckpt_path models/20260101-120000 --output_path pb_model/

The graph takes raw 0..255 pixels [batch,100,100,3] float32 (standardisation is inside) and
returns `output` int32 [batch], the argmax class, as the original atc line expects
(--out_nodes="output:0"). A sidecar CovPoolFER.json lists inputs and outputs for msame/atc.

A temporal pooling checkpoint (tempPoolTrain's, or the release) freezes with the original's node
names instead: `input` [31,128,128] clip covariances and `phase_train` (bool, unused at inference)
-> `Logits/BiasAdd` [31,7], into TemporalPool.pb; `softmaxClassifier` takes that .pb as MODEL.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import add_checkpoint_args, add_freeze_args, parser
from common.models import MODELS


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
    add_freeze_args(p, output_path="./", output_name=None, batch_size=None,
                    by_model=" (CovPoolFER.pb and 128; TemporalPool.pb and 31 for the temporal network)")
    p.add_argument("--extra_outputs", action="store_true",
                   help="also expose `logits` [B,7] and `embeddings` [B,E] (L2-normalised prelogits)")
    return p


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)

    from common.modelspec import TensorSpec
    from common.tf.freeze import freeze_checkpoint
    from covpoolfer.models.checkpoints import is_temporal, restore_model, restore_temporal_model

    if is_temporal(a.ckpt_path):
        model, config, prefix = restore_temporal_model(a.ckpt_path, a.use_ema)
        dim = config["input_dim"]
        inputs = [TensorSpec("input", [a.batch_size or 31, dim, dim]), TensorSpec("phase_train", [], "bool")]
        return freeze_checkpoint(lambda covariances, phase_train: model(covariances, training=False)["logits"],
                                 inputs, ["Logits/BiasAdd"], Path(a.output_path) / (a.output_name or "TemporalPool.pb"),
                                 prefix, "temporal pooling")
    model, config, prefix = restore_model(a.ckpt_path, a.use_ema)
    size = config["image_size"]
    names = ["output", "logits", "embeddings"] if a.extra_outputs else ["output"]
    inputs = [TensorSpec("inputImage", [a.batch_size or 128, size, size, 3])]
    return freeze_checkpoint(serving(model, a.extra_outputs), inputs, names,
                             Path(a.output_path) / (a.output_name or MODELS["covpoolfer"].frozen), prefix)

if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
