"""Train the PFE base (sphere net) with AM-Softmax on CASIA-style identity folders.

    python -m pfe.train_base --data_dir data/casia --models_dir base_models/ --depth 64

No pretrained base can be downloaded, so this stage makes one (the original expects
`pretrained/sphere64_casia_am`). --pretrained starts from a local train_base checkpoint.
"""

from __future__ import annotations

import sys

from common.cli import parser, positive_int
from common.config import from_args
from pfe.train_config import BaseConfig, add_shared_flags


def main(argv=None) -> dict:
    p = parser("pfe train_base", __doc__.strip().splitlines()[0])
    add_shared_flags(p, models_dir="base_models/", num_steps=28000, learning_rate=0.1, bn_what="bottleneck")
    p.add_argument("--depth", type=int, default=64, choices=[4, 10, 20, 36, 64])
    p.add_argument("--embedding_size", type=int, default=512)
    p.add_argument("--batch_size", type=positive_int, default=256)
    p.add_argument("--optimizer", default="MOM", choices=["MOM", "ADAM"])
    p.add_argument("--am_scale", type=float, default=30.0, help="AM-Softmax s")
    p.add_argument("--am_margin", type=float, default=0.35, help="AM-Softmax m")
    p.add_argument("--pretrained_model", "--pretrained", dest="pretrained", default=None,
                   help="start from these base weights: a train_base/train run folder, a ckpt-N prefix, or an "
                        "original TF1 checkpoint (the released sphere64_casia_am folder or its ckpt-N prefix)")
    config = from_args(BaseConfig, p.parse_args(argv))
    from common.tf.loop import no_empty_run_on_failure
    from pfe.trainer import train_base

    with no_empty_run_on_failure():
        return train_base(config)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
