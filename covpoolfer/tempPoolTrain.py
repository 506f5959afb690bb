"""Train CovPoolFER's temporal pooling network on AFEW clip features (the original temporal_pooling/src/tempPoolTrain.py).

    covpoolfer tempPoolTrain --data_dir afew_features/Train --logs_base_dir logs/ --models_base_dir models/ \
        --max_nrof_epochs 300 --optimizer ADAM --learning_rate -1 --center_loss_factor 1e-2 \
        --center_loss_alfa 0.9 --epoch_size 24 --batch_size 31 --weight_decay 5e-2

DATA_DIR holds one folder per emotion, one folder per clip with ``<clip>.npy`` ([frames, 128]).
Each step: cross-entropy + wd·Σw²/2 + center_loss_factor·centre loss on the 32-d bottleneck;
the four BiMap gradients are projected onto the Stiefel tangent space and W is retracted with QR
after the step, as the image trainer does. Each clip's frames are subset at random as the
original does (--no_augment: every frame). Checkpoints per epoch in <models_base_dir>/<timestamp>/;
--resume continues the newest run; `softmaxClassifier` scores a run. --recipe original sets the
original's behaviour (centres moved by Adam, max_nrof_epochs + 1 epochs run).
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import (
    add_recipe,
    add_strategy_args,
    output_dir,
    parse_with_recipe,
    parser,
    positive_int,
)
from common.config import from_args
from covpoolfer.train_config import CENTER_UPDATES, OPTIMIZERS, TemporalTrainConfig

SCHEDULE = str(Path(__file__).parent / "data" / "learning_rate_temporal.txt")
RECIPES = {"ours": {},
           "original": {"center_update": "optimizer", "max_nrof_epochs": 301}}  # its loop runs one epoch more


def build_parser():
    p = parser("covpoolfer tempPoolTrain", __doc__.strip().splitlines()[0])
    add_recipe(p, RECIPES, "ours", "the original train.sh's behaviour; flags given win over it")
    p.add_argument("--data_dir", required=True, help="emotion folders of clip folders, each with <clip>.npy")
    p.add_argument("--logs_base_dir", type=output_dir, default="logs/", help="TensorBoard logs (one folder per run)")
    p.add_argument("--models_base_dir", type=output_dir, default="models/", help="checkpoints (one folder per run)")
    p.add_argument("--optimizer", default="ADAM", choices=OPTIMIZERS)
    p.add_argument("--adam_epsilon", type=float, default=0.1, help="ADAM's epsilon (the original's 0.1)")
    p.add_argument("--learning_rate", type=float, default=-1, help="fixed lr; -1 reads --learning_rate_schedule_file")
    p.add_argument("--learning_rate_schedule_file", default=SCHEDULE)
    p.add_argument("--max_nrof_epochs", type=positive_int, default=300)
    p.add_argument("--epoch_size", type=positive_int, default=24, help="steps per epoch")
    p.add_argument("--batch_size", type=positive_int, default=31, help="clips per step")
    p.add_argument("--weight_decay", type=float, default=5e-2, help="slim l2 factor: wd·Σw²/2")
    p.add_argument("--center_loss_factor", type=float, default=1e-2)
    p.add_argument("--center_loss_alfa", type=float, default=0.9, help="centre update rate (1 − alfa)")
    p.add_argument("--center_update", choices=CENTER_UPDATES, default="alfa",
                   help="alfa: facenet's fixed centre loss; optimizer: Adam moves the centres (the original); frozen")
    p.add_argument("--no_augment", action="store_true", help="every frame of every clip (no random subsets)")
    p.add_argument("--no_shuffle", action="store_true", help="clips in listing order")
    p.add_argument("--bn_decay", type=float, default=0.995, help="bottleneck BN decay")
    p.add_argument("--seed", type=int, default=666)
    p.add_argument("--pretrained_model", default=None,
                   help="start from these weights: the temporal pooling release (folder or prefix) or one of our runs")
    p.add_argument("--resume", action="store_true", help="continue the newest run under --models_base_dir")
    add_strategy_args(p)
    return p


def main(argv=None) -> dict:
    config = from_args(TemporalTrainConfig, parse_with_recipe(build_parser(), argv, RECIPES))
    from common.tf.loop import no_empty_run_on_failure
    from covpoolfer.trainer import train_temporal

    with no_empty_run_on_failure():
        return train_temporal(config)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
