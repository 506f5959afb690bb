"""Train the micro-expression classifier with paddle.Model (the original notebook's recipe).

    python -m microexpression.train --data_root classification2 --pretrained resnet50.pdparams

ResNet50 (7-class head), Momentum (0.9) + CosineAnnealingDecay stepped per batch
(T_max = total_images // batch_size · epochs) + L2Decay, CrossEntropyLoss, Accuracy top-1/top-5,
values from config.py (--config / --set). A checkpoint `<save_dir>/<epoch>.pdparams/.pdopt`
after every epoch, --resume continues from the newest, and the final model goes to
model_save_dir (Model.save). VisualDL curves go to --log_dir (open them with
`visualdl --logdir visualdl_log`).

Data parallel on several GPUs or machines: start it with paddle.distributed.launch (README,
"Scaling out"); batch_size stays the global batch, each process takes batch_size / processes,
and only rank 0 writes checkpoints.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from common.cli import StageError, output_dir, parser, setup_logging
from common.files import write_json_atomic
from microexpression import config as cfg
from microexpression.models import ARCHS

log = logging.getLogger("microexpression.train")


def build_parser():
    p = parser("microexpression train", __doc__.strip().splitlines()[0])
    p.add_argument("--data_root", default="classification2", help="folder with annotate's train/valid .txt")
    p.add_argument("--arch", default="resnet50", choices=ARCHS)
    p.add_argument("--pretrained", default=None, help="local ImageNet .pdparams (nothing is downloaded)")
    p.add_argument("--save_dir", type=output_dir, default="chk_points", help="per-epoch checkpoints")
    p.add_argument("--log_dir", type=output_dir, default="visualdl_log")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --save_dir")
    p.add_argument("--num_workers", type=int, default=0,
                   help="DataLoader worker processes (0: decode in the training process, which keeps up "
                        "on CPU where a step takes seconds; on a GPU use 4-8 per card so it never waits)")
    p.add_argument("--random_eval_crop", action="store_true", help="original quirk: RandomCrop on valid")
    p.add_argument("--seed", type=int, default=0)
    cfg.add_arguments(p)
    return p


def main(argv=None) -> dict:
    a = build_parser().parse_args(argv)
    setup_logging()
    config = cfg.load(a.config, a.set)
    if a.pretrained and not Path(a.pretrained).is_file():  # fail before any data is read
        raise StageError(f"{a.pretrained}: expected local ImageNet weights (.pdparams) for --pretrained, found "
                         f"nothing (nothing is downloaded)")
    import paddle

    # Fresh parameter and optimizer-accumulator names (conv2d_0.w_0_velocity_0, ...) however many
    # networks this process built before, so a checkpoint's optimizer state always loads.
    with paddle.utils.unique_name.guard():
        return _train(a, config)


def _train(a, config) -> dict:
    import numpy as np
    import paddle

    from microexpression.data import MicroExpression
    from microexpression.trainer import check_replicas_agree, fit

    paddle.seed(a.seed)
    np.random.seed(a.seed)
    shape, classes = config["image_shape"], config["num_classes"]
    train_set = MicroExpression("train", a.data_root, shape, classes, crop_scale=config["crop_scale"])
    valid_set = MicroExpression("valid", a.data_root, shape, classes, a.random_eval_crop)
    model, net = fit(config, a.arch, train_set, valid_set, Path(a.save_dir), a.resume, a.log_dir, a.pretrained,
                     a.num_workers)
    world, rank = paddle.distributed.get_world_size(), paddle.distributed.get_rank()
    if world > 1:
        check_replicas_agree(net, world)
    out = config["model_save_dir"]
    model.save(out)  # rank 0 only (hapi)
    if rank == 0:
        write_json_atomic(f"{out}.json", {**config, "arch": a.arch})
        log.info(f"saved {out}.pdparams (and .pdopt) and the config it was trained with, {out}.json")
    return {"model": Path(out), "epochs": int(config["epochs"]), "train_images": len(train_set),
            "valid_images": len(valid_set)}


if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
