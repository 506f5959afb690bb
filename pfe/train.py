"""Train the PFE uncertainty head with the MLS loss on a frozen base (the original train.py).

    python -m pfe.train --base_model base_models/<run> --data_dir data/casia --models_dir models/

config/sphere64_casia.py's recipe: 64 identities x 4 images per batch, TF1 Momentum 0.9, lr 1e-3
then 1e-4 from step 2000, 3000 steps, weight decay 5e-4 on the head's two kernels, random flip,
(x − 127.5)/128. The base runs in inference mode and never changes; checkpoints hold base and
head together (ckpt2pb needs only them).
"""

from __future__ import annotations

import sys

from common.cli import add_strategy_args, output_dir, parser, positive_int


def main(argv=None) -> dict:
    p = parser("pfe train", __doc__.strip().splitlines()[0])
    p.add_argument("--pretrained_model", "--base_model", dest="base_model", required=True,
                   help="the frozen base: a train_base run folder or ckpt-N prefix, or an original TF1 "
                        "checkpoint (the released sphere64 base, as the original config's pretrained_model)")
    p.add_argument("--data_dir", required=True, help="identity folders of aligned 112x96 faces")
    p.add_argument("--models_dir", type=output_dir, default="models/")
    p.add_argument("--logs_dir", type=output_dir, default="logs/")
    p.add_argument("--num_classes_per_batch", type=positive_int, default=64)
    p.add_argument("--images_per_class", type=positive_int, default=4)
    p.add_argument("--learning_rate", type=float, default=1e-3)
    p.add_argument("--lr_drop_step", type=int, default=2000)
    p.add_argument("--learning_rate_after_drop", type=float, default=1e-4)
    p.add_argument("--num_steps", type=positive_int, default=3000)
    p.add_argument("--epoch_size", type=positive_int, default=1000, help="steps between checkpoints")
    p.add_argument("--weight_decay", type=float, default=5e-4)
    p.add_argument("--bn_decay", type=float, default=0.995, help="head BN decay (0.5 for runs of few steps)")
    p.add_argument("--restore_head", action="store_true",
                   help="also start the uncertainty head from --pretrained_model (a PFE checkpoint with its head; "
                        "the original config restores the base only, restore_scopes=None restores both)")
    p.add_argument("--no_flip", action="store_true", help="no random left-right flip (the original flips)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true")
    add_strategy_args(p)
    a = p.parse_args(argv)
    from common.tf.loop import no_empty_run_on_failure
    from pfe.trainer import train_uncertainty

    with no_empty_run_on_failure():
        return train_uncertainty(a)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
