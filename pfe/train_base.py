"""Train the PFE base (sphere net) with AM-Softmax on CASIA-style identity folders.

    python -m pfe.train_base --data_dir data/casia --models_dir base_models/ --depth 64

No pretrained base can be downloaded, so this stage makes one (the original expects
`pretrained/sphere64_casia_am`). --pretrained starts from a local train_base checkpoint.
"""

from __future__ import annotations

import sys

from common.cli import add_strategy_args, output_dir, parser, positive_int


def main(argv=None) -> dict:
    p = parser("pfe train_base", __doc__.strip().splitlines()[0])
    p.add_argument("--data_dir", required=True, help="identity folders of aligned 112x96 faces")
    p.add_argument("--models_dir", type=output_dir, default="base_models/")
    p.add_argument("--logs_dir", type=output_dir, default="logs/")
    p.add_argument("--depth", type=int, default=64, choices=[4, 10, 20, 36, 64])
    p.add_argument("--embedding_size", type=int, default=512)
    p.add_argument("--batch_size", type=positive_int, default=256)
    p.add_argument("--num_steps", type=positive_int, default=28000)
    p.add_argument("--epoch_size", type=positive_int, default=1000, help="steps between checkpoints")
    p.add_argument("--optimizer", default="MOM", choices=["MOM", "ADAM"])
    p.add_argument("--learning_rate", type=float, default=0.1)
    p.add_argument("--am_scale", type=float, default=30.0, help="AM-Softmax s")
    p.add_argument("--am_margin", type=float, default=0.35, help="AM-Softmax m")
    p.add_argument("--weight_decay", type=float, default=5e-4)
    p.add_argument("--bn_decay", type=float, default=0.995, help="bottleneck BN decay (0.5 for runs of few steps)")
    p.add_argument("--pretrained_model", "--pretrained", dest="pretrained", default=None,
                   help="start from these base weights: a train_base/train run folder, a ckpt-N prefix, or an "
                        "original TF1 checkpoint (the released sphere64_casia_am folder or its ckpt-N prefix)")
    p.add_argument("--no_flip", action="store_true", help="no random left-right flip")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true")
    add_strategy_args(p)
    a = p.parse_args(argv)
    from common.tf.loop import no_empty_run_on_failure
    from pfe.trainer import train_base

    with no_empty_run_on_failure():
        return train_base(a)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
