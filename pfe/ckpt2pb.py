"""Freeze a PFE checkpoint into PFE.pb: input `input` [B,112,96,3] -> `mu`, `sigma_sq` [B,512].

    python -m pfe.ckpt2pb --ckpt_path models/<run> --output_path pb_model/

Input pixels are already (x − 127.5)/128 (inf_input2bin writes them so). `mu` is the unit-norm
embedding, `sigma_sq` = exp(log σ²) of the uncertainty head; a sidecar PFE.json lists both.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import output_dir, parser, positive_int


def serving(base, head):
    """The frozen graph's function: standardised pixels -> (`mu`, `sigma_sq`)."""
    import tensorflow as tf

    def serve(x):
        out = base(x, training=False)
        return out["mu"], tf.exp(head(out["conv_final"], training=False))

    return serve


def main(argv=None) -> dict:
    p = parser("pfe ckpt2pb", __doc__.strip().splitlines()[0])
    p.add_argument("--ckpt_path", required=True,
                   help="train run folder or ckpt-N prefix, or an original PFE checkpoint (folder or ckpt-N prefix)")
    p.add_argument("--use_ema", action="store_true",
                   help="original checkpoints: read the ExponentialMovingAverage shadows where present")
    p.add_argument("--output_path", type=output_dir, default="pb_model/", help="output folder")
    p.add_argument("--output_name", default="PFE.pb")
    p.add_argument("--batch_size", type=positive_int, default=1, help="fixed batch of the frozen graph")
    a = p.parse_args(argv)

    from common.modelspec import TensorSpec
    from common.tf.freeze import freeze, write_frozen
    from pfe.trainer import restore_pfe

    base, head, config, prefix = restore_pfe(a.ckpt_path, a.use_ema)

    graph_def, spec = freeze(serving(base, head), [TensorSpec("input", [a.batch_size, 112, 96, 3])], ["mu", "sigma_sq"])
    path = write_frozen(graph_def, spec, Path(a.output_path) / a.output_name)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, sphere{config['depth']}) from {prefix}: input "
          f"{spec.inputs[0].shape} -> {', '.join(f'{t.name} {t.shape}' for t in spec.outputs)}")
    return {"path": path, "spec": spec, "checkpoint": prefix}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
