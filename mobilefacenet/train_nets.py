"""Train MobileFaceNet with a margin softmax on MS1M-style TFRecords, scoring LFW (and CFP, AgeDB) each epoch.

    python -m mobilefacenet.train_nets --tfrecords ms1m.tfrecords --eval_datasets lfw.bin \
        --models_dir models/ --logs_dir logs/ --loss cosface --max_epoch 10 --train_batch_size 64

Loss: margin cross-entropy + wd·Σw²/2 on conv kernels + a prelogit L1-norm penalty (the repos'
5e-5). Adam (epsilon 0.1 as the repos) with a piecewise schedule per epoch that really advances
(the repos' never does: --constant_lr reproduces that). Checkpoints per epoch in a timestamped
run folder (--resume continues it); the checkpoint with the best accuracy on the first eval set
(or --best_on) is kept in <run>/best/ (the repos' "best" save never fires).
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import StageError, add_strategy_args, output_dir, parser, positive_int


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise StageError(f"expected comma-separated numbers, found '{text}'") from None


def build_parser():
    p = parser("mobilefacenet train_nets", __doc__.strip().splitlines()[0])
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
    p.add_argument("--lr_boundaries", default="1,4,6,8", help="epochs where the next lr value starts")
    p.add_argument("--constant_lr", action="store_true",
                   help="original bug: the schedule never advances (lr stays the first value)")
    p.add_argument("--adam_epsilon", type=float, default=0.1)
    p.add_argument("--weight_decay", type=float, default=5e-5)
    p.add_argument("--prelogit_norm_factor", type=float, default=5e-5)
    p.add_argument("--bn_decay", type=float, default=0.995,
                   help="BN moving-average decay (0.995 as the repos; runs of a few hundred steps want 0.5)")
    p.add_argument("--shuffle_buffer", type=int, default=10000)
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
    add_strategy_args(p)
    return p


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    a.lr_values, a.lr_boundaries = _floats(a.lr_values), [int(v) for v in _floats(a.lr_boundaries)]
    if len(a.lr_values) != len(a.lr_boundaries) + 1:
        raise StageError(f"--lr_values: expected one more value than --lr_boundaries "
                         f"({len(a.lr_boundaries) + 1}), found {len(a.lr_values)}")
    names = [Path(p).stem for p in a.eval_datasets]
    if len(set(names)) != len(names):
        raise StageError(f"--eval_datasets: expected files with different names (each set is named by its stem), "
                         f"found {names}")
    if a.best_on is not None and a.best_on not in names:
        raise StageError(f"--best_on: expected one of the --eval_datasets names {names}, found '{a.best_on}'")
    from mobilefacenet.data import tfrecord_files

    a.tfrecords = tfrecord_files(a.tfrecords)
    from common.tf.loop import no_empty_run_on_failure
    from mobilefacenet.trainer import train

    with no_empty_run_on_failure():
        return train(a)


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
