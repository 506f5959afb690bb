"""Freeze a MobileFaceNet checkpoint into MobileFaceNet.pb (input Placeholder, fp16 embedding).

    python -m mobilefacenet.ckpt2pb --ckpt_path models/<run>/best --output_path pb_model/

As the Ascend port's freeze_graph.py: input `Placeholder` float32 [B,112,112,3] already
normalised ((x − 127.5)·0.0078125), output `the_outputs` = the L2-normalised embedding cast to
float16 [B,E]; --float32_output exposes `embeddings` float32 instead. Writes the sidecar .json.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import output_dir, parser, positive_int


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
    p.add_argument("--ckpt_path", required=True,
                   help="run folder, its best/ folder or a ckpt-N prefix, or the original MobileFaceNet_TF "
                        "checkpoint (its folder or the MobileFaceNet_TF.ckpt prefix)")
    p.add_argument("--use_ema", action="store_true",
                   help="original checkpoints: read the ExponentialMovingAverage shadows where present")
    p.add_argument("--output_path", type=output_dir, default="pb_model/", help="output folder")
    p.add_argument("--output_name", default="MobileFaceNet.pb")
    p.add_argument("--batch_size", type=positive_int, default=1, help="fixed batch of the frozen graph")
    p.add_argument("--float32_output", action="store_true", help="output `embeddings` float32, no fp16 cast")
    a = p.parse_args(argv)

    from common.modelspec import TensorSpec
    from common.tf.freeze import freeze, write_frozen
    from mobilefacenet.models.mobilefacenet import restore_model

    model, config, prefix = restore_model(a.ckpt_path, a.use_ema)

    name = "embeddings" if a.float32_output else "the_outputs"
    graph_def, spec = freeze(serving(model, a.float32_output), [TensorSpec("Placeholder", [a.batch_size, 112, 112, 3])], [name])
    path = write_frozen(graph_def, spec, Path(a.output_path) / a.output_name)
    out = spec.outputs[0]
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {config['variant']} variant) from {prefix}: "
          f"Placeholder {spec.inputs[0].shape} -> {out.name} {out.shape} {out.dtype}")
    return {"path": path, "spec": spec, "checkpoint": prefix}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
