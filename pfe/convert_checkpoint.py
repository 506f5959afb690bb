"""Convert an original PFE TF1 checkpoint into one of our run folders (checkpoint + config.json).

    python -m pfe.convert_checkpoint --ckpt_path PFE_sphere64_casia_am/ --output_dir models/pfe_original

A whole PFE model (SphereNet + UncertaintyModule) becomes a `train` run that ckpt2pb and
eval_lfw read; a base alone (the released sphere64_casia_am) becomes a `train_base` run that
`train --pretrained_model` and `train_base --pretrained_model` start from. The depth is read off
the block names.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import add_convert_args, parser


def main(argv=None) -> dict:
    p = parser("pfe convert_checkpoint", __doc__.strip().splitlines()[0])
    add_convert_args(p, "ckpt-<step>")
    a = p.parse_args(argv)

    from common.tf import tf1_import
    from pfe.models.checkpoints import load_original

    prefix = tf1_import.original_prefix(a.ckpt_path)
    base, head, config = load_original(prefix, need_head=None, use_ema=a.use_ema)  # the head when present
    whole = head is not None
    parts = {"base": base, "head": head} if whole else {"base": base}
    saved = tf1_import.write_converted(prefix, a.output_dir, config, a.use_ema, a.overwrite, **parts)
    print(f"wrote {saved} (sphere{config['depth']}{' + uncertainty module' if whole else ', base only'}, "
          f"a `{config['stage']}` run) from {prefix}")
    return {"run_dir": Path(a.output_dir), "checkpoint": saved, "config": config}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
