"""Train MobileFaceNet with a margin softmax on MS1M-style TFRecords, scoring LFW (and CFP, AgeDB) each epoch.

    python -m mobilefacenet.train_nets --tfrecords ms1m.tfrecords --eval_datasets lfw.bin \
        --models_dir models/ --logs_dir logs/ --loss cosface --max_epoch 10 --train_batch_size 64

Loss: margin cross-entropy + wd·Σw²/2 on conv kernels + a prelogit L1-norm penalty (the repos'
5e-5). Adam (epsilon 0.1 as the repos) with a piecewise schedule per epoch that advances as
sirius-ai's does (the Ascend port's never does: --constant_lr reproduces that). --recipe ascend
or sirius sets every default to that original's. Checkpoints per epoch in a timestamped run
folder (--resume continues it); the checkpoint with the best accuracy on the first eval set (or
--best_on) is kept in <run>/best/ (the repos' "best" save never fires).
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import (
    StageError,
    add_recipe,
    add_strategy_args,
    output_dir,
    parse_with_recipe,
    parser,
    positive_int,
)
from common.config import from_args
from mobilefacenet.train_config import TrainConfig

# Each original's train_nets.py defaults (and the scripts the Ascend port runs). `ours` is the
# parser's defaults: the Ascend port's rates with the schedule advancing, the paper's graph.
RECIPES = {
    "ours": {},
    "ascend": {"variant": "repo", "loss": "cosface", "lr_values": "0.01,0.001,0.001,0.0001,0.00001",
               "lr_boundaries": "1,4,6,8", "constant_lr": True, "train_batch_size": 64, "max_epoch": 10,
               "max_steps_per_epoch": 52000, "weight_decay": 5e-5, "prelogit_norm_factor": 5e-5,
               "prelogit_norm_eps": 1e-4, "shuffle_buffer": 1000},
    "sirius": {"variant": "repo", "loss": "arcface", "lr_values": "0.1,0.01,0.001,0.0001,0.00001",
               "lr_boundaries": "4,7,9,11", "train_batch_size": 90, "max_epoch": 12, "max_steps_per_epoch": 10**9,
               "weight_decay": 5e-5, "prelogit_norm_factor": 2e-5, "prelogit_norm_eps": 1e-5, "shuffle_buffer": 0,
               "keep_last_batch": True, "restore_head": True},
}


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise StageError(f"expected comma-separated numbers, found '{text}'") from None


def build_parser():
    p = parser("mobilefacenet train_nets", __doc__.strip().splitlines()[0])
    add_recipe(p, RECIPES, "ours", "the defaults of an original trainer; flags given win over it")
    p.add_argument("--tfrecords", nargs="+", required=True,
                   help="TFRecord files from convert_recordio: files, globs or folders of shards")
    p.add_argument("--eval_datasets", nargs="*", default=[],
                   help="verification .bin files scored each epoch (lfw.bin cfp_ff.bin cfp_fp.bin agedb_30.bin), one "
                        "line and one TensorBoard curve each")
    p.add_argument("--best_on", default=None, metavar="NAME",
                   help="the set (file stem, e.g. agedb_30) whose accuracy picks <run>/best (default: the first)")
    p.add_argument("--models_dir", type=output_dir, default="models/", help="checkpoints (one folder per run)")
    p.add_argument("--logs_dir", type=output_dir, default="logs/", help="TensorBoard logs (one folder per run)")
    p.add_argument("--variant", default="paper", choices=["paper", "repo"],
                   help="paper: Table 1, 0.99M; repo: the TF repos' graph with two extra 1x1 convs, 1.27M")
    p.add_argument("--embedding_size", type=int, default=128, choices=[128, 192])
    p.add_argument("--loss", default="cosface", choices=["cosface", "arcface"],
                   help="cosface: s 64, m 0.35 (the Ascend port); arcface: s 64, m 0.5 (the paper)")
    p.add_argument("--margin_scale", type=float, default=None, help="s (default 64)")
    p.add_argument("--margin", type=float, default=None, help="m (default 0.35 cosface, 0.5 arcface)")
    p.add_argument("--num_classes", type=int, default=None,
                   help="identities (default: from the .json beside the TFRecord, else counted)")
    p.add_argument("--max_epoch", type=positive_int, default=10)
    p.add_argument("--steps_per_epoch", type=positive_int, default=None,
                   help="default: images // batch, capped at --max_steps_per_epoch")
    p.add_argument("--max_steps_per_epoch", type=positive_int, default=52000, help="the Ascend port's cap")
    p.add_argument("--train_batch_size", type=positive_int, default=64)
    p.add_argument("--lr_values", default="0.01,0.001,0.001,0.0001,0.00001")
    p.add_argument("--lr_boundaries", default="1,4,6,8",
                   help="epoch indices (from 0) after which the next lr value starts, as tf.train.piecewise_constant")
    p.add_argument("--constant_lr", action="store_true",
                   help="the Ascend port's bug: the schedule never advances (lr stays the first value)")
    p.add_argument("--adam_epsilon", type=float, default=0.1)
    p.add_argument("--weight_decay", type=float, default=5e-5)
    p.add_argument("--prelogit_norm_factor", type=float, default=5e-5)
    p.add_argument("--prelogit_norm_eps", type=float, default=1e-4,
                   help="eps in mean(||(|x| + eps)||_1) (the Ascend port 1e-4, sirius-ai 1e-5)")
    p.add_argument("--bn_decay", type=float, default=0.995,
                   help="BN moving-average decay (0.995 as the repos; runs of a few hundred steps want 0.5)")
    p.add_argument("--shuffle_buffer", type=int, default=10000, help="0: records in file order (sirius-ai)")
    p.add_argument("--no_flip", action="store_true", help="no random left-right flip (the originals flip)")
    p.add_argument("--keep_last_batch", action="store_true",
                   help="one pass over the records per epoch with its smaller last batch (sirius-ai); "
                        "otherwise full batches run across passes")
    p.add_argument("--eval_batch_size", type=positive_int, default=100)
    p.add_argument("--flip", action="store_true", help="evaluate with the flipped image's embedding added")
    p.add_argument("--mixed_precision", action="store_true", help="float16 compute, float32 head and loss")
    p.add_argument("--jit", action="store_true", help="compile the training step with XLA")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue the newest run under --models_dir")
    p.add_argument("--pretrained_model", default=None,
                   help="start from these backbone weights (the margin head starts fresh): one of our runs, "
                        "or the original MobileFaceNet_TF checkpoint (with --variant repo --embedding_size 192 "
                        "for the release); --resume of an existing run wins over it")
    p.add_argument("--restore_head", action="store_true",
                   help="also start the margin head from --pretrained_model (the original's Saver restores "
                        "insightface_loss/embedding_weights); its class count must match")
    add_strategy_args(p)
    return p


def main(argv=None) -> dict:
    a = parse_with_recipe(build_parser(), argv, RECIPES)
    lr_values, lr_boundaries = _floats(a.lr_values), [int(v) for v in _floats(a.lr_boundaries)]
    if len(lr_values) != len(lr_boundaries) + 1:
        raise StageError(f"--lr_values: expected one more value than --lr_boundaries "
                         f"({len(lr_boundaries) + 1}), found {len(lr_values)}")
    names = [Path(p).stem for p in a.eval_datasets]
    if len(set(names)) != len(names):
        raise StageError(f"--eval_datasets: expected files with different names (each set is named by its stem), "
                         f"found {names}")
    if a.best_on is not None and a.best_on not in names:
        raise StageError(f"--best_on: expected one of the --eval_datasets names {names}, found '{a.best_on}'")
    from mobilefacenet.data import tfrecord_files

    config = from_args(TrainConfig, a, lr_values=lr_values, lr_boundaries=lr_boundaries,
                       tfrecords=tfrecord_files(a.tfrecords))
    from common.tf.loop import no_empty_run_on_failure
    from mobilefacenet.trainer import train

    with no_empty_run_on_failure():
        return train(config)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
