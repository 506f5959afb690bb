"""Freeze a PFE checkpoint into PFE.pb: input `input` [B,112,96,3] -> `mu`, `sigma_sq` [B,512].

    python -m pfe.ckpt2pb --ckpt_path models/<run> --output_path pb_model/

Input pixels are already (x − 127.5)/128 (inf_input2bin writes them so). `mu` is the unit-norm
embedding, `sigma_sq` = exp(log σ²) of the uncertainty head; a sidecar PFE.json lists both.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import add_checkpoint_args, add_freeze_args, parser
from common.models import MODELS


def serving(base, head):
    """The frozen graph's function: standardised pixels -> (`mu`, `sigma_sq`)."""
    import tensorflow as tf

    def serve(x):
        out = base(x, training=False)
        return out["mu"], tf.exp(head(out["conv_final"], training=False))

    return serve


def main(argv=None) -> dict:
    p = parser("pfe ckpt2pb", __doc__.strip().splitlines()[0])
    add_checkpoint_args(p, "pfe")
    add_freeze_args(p, output_path="pb_model/", output_name=MODELS["pfe"].frozen, batch_size=1)
    a = p.parse_args(argv)

    from common.modelspec import TensorSpec
    from common.tf.freeze import freeze_checkpoint
    from pfe.models.checkpoints import restore_model

    (base, head), config, prefix = restore_model(a.ckpt_path, a.use_ema)
    return freeze_checkpoint(serving(base, head), [TensorSpec("input", [a.batch_size, 112, 96, 3])], ["mu", "sigma_sq"],
                             Path(a.output_path) / a.output_name, prefix, f"sphere{config['depth']}")

if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
