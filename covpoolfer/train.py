"""Train a CovPoolFER network on SFEW-style class folders (the original train.py's flags).

    python -m covpoolfer.train --data_dir data/SFEW_100 --models_base_dir models/ \
        --logs_base_dir logs/ --model_def covpoolnet2 --optimizer ADAM --learning_rate -1 \
        --learning_rate_schedule_file covpoolfer/data/learning_rate.txt --max_nrof_epochs 95

Each step: cross-entropy + 0.05·Σw²/2 (slim's l2_regularizer) + center_loss_factor·center
loss; the BiMap gradient is projected onto the Stiefel tangent space before the optimizer step
and W is retracted with QR after it. Checkpoints go to <models_base_dir>/<timestamp>/ each
epoch; --resume continues the newest run; a NaN loss stops with the last good checkpoint.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.cli import StageError, add_strategy_args, output_dir, parser, positive_int
from covpoolfer.models import MODEL_DEFS

OPTIMIZERS = ("ADAGRAD", "ADADELTA", "ADAM", "RMSPROP", "MOM")
DATA_DIR = Path(__file__).parent / "data"


def build_parser():
    p = parser("covpoolfer train", __doc__.strip().splitlines()[0])
    p.add_argument("--logs_base_dir", type=output_dir, default="logs/", help="TensorBoard logs (one folder per run)")
    p.add_argument("--models_base_dir", type=output_dir, default="models/", help="checkpoints (one folder per run)")
    p.add_argument("--data_dir", required=True,
                   help="SFEW_100-style folder with Train/ (and val/), or a folder of class folders")
    p.add_argument("--val_dir", default=None, help="validation class folders (default: <data_dir>/val)")
    p.add_argument("--image_size", type=positive_int, default=100)
    p.add_argument("--model_def", default="covpoolnet2",
                   choices=[*MODEL_DEFS, *(f"models.{m}" for m in MODEL_DEFS)],
                   help="the head: covpoolnet (fc_1 -> fc_2 -> bottleneck) or covpoolnet2 (fc_1 -> bottleneck); "
                        "the original's models.<name> spelling works too")
    p.add_argument("--embedding_size", type=int, default=None,
                   help="bottleneck size (default 7 for covpoolnet, 128 for covpoolnet2)")
    p.add_argument("--optimizer", default="ADAM", choices=OPTIMIZERS)
    p.add_argument("--adam_epsilon", type=float, default=0.1,
                   help="ADAM's epsilon; the original's 0.1 damps every step (1e-8 is Keras' default)")
    p.add_argument("--learning_rate", type=float, default=-1,
                   help="fixed lr; -1 reads --learning_rate_schedule_file")
    p.add_argument("--learning_rate_schedule_file", default=str(DATA_DIR / "learning_rate.txt"))
    p.add_argument("--max_nrof_epochs", type=positive_int, default=95)
    p.add_argument("--epoch_size", type=positive_int, default=95, help="steps per epoch")
    p.add_argument("--batch_size", type=positive_int, default=128)
    p.add_argument("--keep_probability", type=float, default=0.8, help="dropout keep probability")
    p.add_argument("--ignore_keep_probability", action="store_true",
                   help="original quirk: no dropout at all, whatever --keep_probability says")
    p.add_argument("--weight_decay", type=float, default=5e-2, help="slim l2 factor: wd·Σw²/2")
    p.add_argument("--center_loss_factor", type=float, default=1e-2)
    p.add_argument("--center_loss_alfa", type=float, default=0.9, help="centre update rate (1 − alfa)")
    p.add_argument("--frozen_centers", action="store_true",
                   help="original bug: centres never update (the term becomes mean(prelogits²))")
    p.add_argument("--no_augment", action="store_true",
                   help="no flip/rotation (the Ascend port's behaviour)")
    p.add_argument("--bn_decay", type=float, default=0.995,
                   help="BN moving-average decay (the original's 0.995 suits long runs; short runs "
                        "want ~0.9 so inference statistics catch up)")
    p.add_argument("--eig_floor", type=float, default=1e-4, help="ReEig threshold")
    p.add_argument("--seed", type=int, default=666)
    p.add_argument("--pretrained_model", default=None,
                   help="start from these weights: one of our runs or an original TF1 checkpoint (folder or "
                        "model-<run>.ckpt-<step> prefix) of the same model_def, embedding size and class count; "
                        "--resume of an existing run wins over it")
    p.add_argument("--resume", action="store_true",
                   help="continue the newest run under --models_base_dir from its last checkpoint")
    p.add_argument("--jit", action="store_true", help="compile the train step with XLA")
    add_strategy_args(p)
    return p


def resolve_dirs(data_dir: str, val_dir: str | None) -> tuple[Path, Path | None]:
    """Train and val class-folder roots from an SFEW_100 folder or a Train/ folder."""
    root = Path(data_dir)
    if not root.is_dir():
        raise StageError(f"{root}: expected a dataset folder, found nothing")
    train = next((root / n for n in ("Train", "train") if (root / n).is_dir()), root)
    if val_dir:
        return train, Path(val_dir)
    candidates = [root / n for n in ("val", "Val", "valid")] if train != root else \
        [root.parent / n for n in ("val", "Val", "valid")]
    return train, next((c for c in candidates if c.is_dir()), None)


def main(argv=None) -> dict:
    args = build_parser().parse_args(argv)
    args.model_def = args.model_def.removeprefix("models.")
    if not 0.0 < args.keep_probability <= 1.0:
        raise StageError(f"--keep_probability: expected a value in (0, 1], found {args.keep_probability}")
    from common.tf.loop import no_empty_run_on_failure
    from covpoolfer.trainer import train

    with no_empty_run_on_failure():
        return train(args, *resolve_dirs(args.data_dir, args.val_dir))


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
