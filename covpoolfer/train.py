"""Train a CovPoolFER network on SFEW-style class folders (the original train.py's flags).

    python -m covpoolfer.train --data_dir data/SFEW_100 --models_base_dir models/ \
        --logs_base_dir logs/ --model_def covpoolnet2 --optimizer ADAM --learning_rate -1 \
        --learning_rate_schedule_file covpoolfer/data/learning_rate.txt --max_nrof_epochs 95

Each step: cross-entropy + 0.05·Σw²/2 (slim's l2_regularizer) + center_loss_factor·center
loss; the BiMap gradient is projected onto the Stiefel tangent space before the optimizer step
and W is retracted with QR after it. --recipe original / original2 / ascend sets every default
to that original's train.sh. Checkpoints go to <models_base_dir>/<timestamp>/ each epoch;
--resume continues the newest run; a NaN loss stops with the last good checkpoint.
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
from covpoolfer.models import MODEL_DEFS
from covpoolfer.train_config import CENTER_UPDATES, OPTIMIZERS, TrainConfig

DATA_DIR = Path(__file__).parent / "data"

# The originals' train.sh lines, with what their code does: no dropout whatever keep_probability
# says, centres moved by Adam, and max_nrof_epochs + 1 epochs run (the loop tests the epoch
# before training it). `ours` is the parser's defaults: the Ascend port's settings with the fixes.
_ORIGINAL = {"ignore_keep_probability": True, "center_update": "optimizer", "optimizer": "ADAM",
             "adam_epsilon": 0.1, "weight_decay": 5e-2, "center_loss_factor": 1e-2, "center_loss_alfa": 0.9,
             "epoch_size": 95, "batch_size": 128, "bn_decay": 0.995, "learning_rate": -1}
RECIPES = {
    "ours": {},
    "original": {**_ORIGINAL, "model_def": "covpoolnet", "embedding_size": 7, "max_nrof_epochs": 801,
                 "learning_rate_schedule_file": str(DATA_DIR / "learning_rate.txt")},
    "original2": {**_ORIGINAL, "model_def": "covpoolnet2", "embedding_size": 128, "max_nrof_epochs": 801,
                  "learning_rate_schedule_file": str(DATA_DIR / "learning_rate2.txt")},
    "ascend": {**_ORIGINAL, "model_def": "covpoolnet2", "embedding_size": 128, "max_nrof_epochs": 96,
               "learning_rate_schedule_file": str(DATA_DIR / "learning_rate.txt"), "no_augment": True},
}


def build_parser():
    p = parser("covpoolfer train", __doc__.strip().splitlines()[0])
    add_recipe(p, RECIPES, "ours", "the settings of an original train.sh; flags given win over it")
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
    p.add_argument("--center_update", choices=CENTER_UPDATES, default="alfa",
                   help="alfa: c_y -= (1 − alfa)(c_y − x) after each step (facenet's fixed centre loss); optimizer: "
                        "the optimizer moves the centres by the centre term's gradient (the originals: their "
                        "scatter_sub never runs, but tf.global_variables() hands the centres to Adam); frozen: never")
    p.add_argument("--frozen_centers", action="store_const", dest="center_update", const="frozen",
                   help="the same as --center_update frozen")
    p.add_argument("--no_augment", action="store_true",
                   help="no flip/rotation (the Ascend port's behaviour)")
    p.add_argument("--no_shuffle", action="store_true",
                   help="batches in listing order (sorted classes, sorted files), as a run compared step for step "
                        "with another needs; the originals shuffle each epoch")
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
    args = parse_with_recipe(build_parser(), argv, RECIPES)
    if not 0.0 < args.keep_probability <= 1.0:
        raise StageError(f"--keep_probability: expected a value in (0, 1], found {args.keep_probability}")
    config = from_args(TrainConfig, args, model_def=args.model_def.removeprefix("models."))
    from common.tf.loop import no_empty_run_on_failure
    from covpoolfer.trainer import train

    with no_empty_run_on_failure():
        return train(config, *resolve_dirs(config.data_dir, config.val_dir))


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
