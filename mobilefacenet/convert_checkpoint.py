"""Convert the original MobileFaceNet_TF checkpoint into one of our run folders (checkpoint + config.json).

    python -m mobilefacenet.convert_checkpoint --ckpt_path arch/pretrained_model/ --output_dir models/mfn_original

The run folder works wherever one of our train_nets runs does (ckpt2pb, inference, and
`train_nets --pretrained_model`). The release is the repos' graph (`--variant repo`) with
192-d embeddings; the size is read off Logits/LinearConv1x1. The margin head's weights
(insightface_loss/embedding_weights) are not kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import add_convert_args, parser


def main(argv=None) -> dict:
    p = parser("mobilefacenet convert_checkpoint", __doc__.strip().splitlines()[0])
    add_convert_args(p, "MobileFaceNet_TF.ckpt")
    a = p.parse_args(argv)

    from common.tf import tf1_import
    from mobilefacenet.models.checkpoints import load_original

    prefix = tf1_import.original_prefix(a.ckpt_path)
    model, config = load_original(prefix, a.use_ema)
    saved = tf1_import.write_converted(prefix, a.output_dir, config, a.use_ema, a.overwrite, model=model)
    print(f"wrote {saved} ({config['variant']} variant, {config['embedding_size']}-d) from {prefix}")
    return {"run_dir": Path(a.output_dir), "checkpoint": saved, "config": config}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
