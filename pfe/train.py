"""Train the PFE uncertainty head with the MLS loss on a frozen base (the original train.py).

    python -m pfe.train --base_model base_models/<run> --data_dir data/casia --models_dir models/

config/sphere64_casia.py's recipe: 64 identities x 4 images per batch, TF1 Momentum 0.9, lr 1e-3
then 1e-4 from step 2000, 3000 steps, weight decay 5e-4 on the head's two kernels, random flip,
(x − 127.5)/128. The base runs in inference mode and never changes; checkpoints hold base and
head together (ckpt2pb needs only them).
"""

from __future__ import annotations

import sys

from common.cli import parser, positive_int
from common.config import from_args
from pfe.train_config import HeadConfig, add_shared_flags


def main(argv=None) -> dict:
    p = parser("pfe train", __doc__.strip().splitlines()[0])
    p.add_argument("--pretrained_model", "--base_model", dest="base_model", required=True,
                   help="the frozen base: a train_base run folder or ckpt-N prefix, or an original TF1 "
                        "checkpoint (the released sphere64 base, as the original config's pretrained_model)")
    add_shared_flags(p, models_dir="models/", num_steps=3000, learning_rate=1e-3, bn_what="head")
    p.add_argument("--num_classes_per_batch", type=positive_int, default=64)
    p.add_argument("--images_per_class", type=positive_int, default=4)
    p.add_argument("--lr_drop_step", type=int, default=2000)
    p.add_argument("--learning_rate_after_drop", type=float, default=1e-4)
    p.add_argument("--restore_head", action="store_true",
                   help="also start the uncertainty head from --pretrained_model (a PFE checkpoint with its head; "
                        "the original config restores the base only, restore_scopes=None restores both)")
    config = from_args(HeadConfig, p.parse_args(argv))
    from common.tf.loop import no_empty_run_on_failure
    from pfe.trainer import train_uncertainty

    with no_empty_run_on_failure():
        return train_uncertainty(config)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
