"""The micro-expression training loop (called by the `train` and `loso` stages): the original
notebook's recipe on paddle.Model, a checkpoint per epoch, --resume, and data parallel checks."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from common.cli import StageError, first_line
from microexpression import config as cfg

log = logging.getLogger("microexpression.train")


def checkpoints(save_dir: Path) -> list[tuple[Path, int]]:
    """(prefix, epochs done) of every `<n>.pdparams` that has its `.pdopt`, newest first."""
    done = [int(f.stem) for f in save_dir.glob("*.pdparams") if f.stem.isdigit() and f.with_suffix(".pdopt").is_file()]
    return [(save_dir / str(n), n + 1) for n in sorted(done, reverse=True)]


def fit(config: dict, arch: str, train_set, valid_set, save_dir: Path, resume: bool, log_dir: str | None,
        pretrained: str | None = None, num_workers: int = 0):
    """The original recipe on two datasets (valid_set may be None): a checkpoint per epoch in
    save_dir, resumed from its newest when ``resume``, VisualDL curves in log_dir. Returns the
    trained paddle.Model and its network."""
    import paddle

    from microexpression.models.resnet import build_model, input_spec

    world, rank = paddle.distributed.get_world_size(), paddle.distributed.get_rank()
    shape, classes = config["image_shape"], config["num_classes"]
    epochs, batch = int(config["epochs"]), int(config["batch_size"])
    if batch % world:
        raise StageError(f"batch_size: expected a multiple of the {world} processes (it is the global batch), "
                         f"found {batch}")
    # The original: total_images // batch_size per epoch. Derived from the data, the count is the
    # number of batches hapi really runs (the last partial one included), so the cosine ends at 0
    # instead of wrapping round and rising again.
    total = config["total_images"] or len(train_set)
    steps = max(total // batch, 1) if config["total_images"] else -(-total // batch)
    log.info(f"train {len(train_set)} / valid {len(valid_set) if valid_set else 0} images; cosine T_max = {total} // "
          f"{batch} x {epochs} = {steps * epochs} steps ({-(-len(train_set) // batch) * epochs} will run)")
    if world > 1:
        log.info(f"rank {rank} of {world}: {batch // world} images per step of each global batch of {batch}")

    net = build_model(arch, classes, pretrained)
    model = paddle.Model(net, inputs=input_spec(shape))
    lr = paddle.optimizer.lr.CosineAnnealingDecay(learning_rate=float(cfg.get("LEARNING_RATE.params.lr", config)),
                                                  T_max=steps * epochs)
    opt = paddle.optimizer.Momentum(learning_rate=lr, momentum=float(cfg.get("OPTIMIZER.params.momentum", config)),
                                    parameters=net.parameters(),
                                    weight_decay=paddle.regularizer.L2Decay(
                                        float(cfg.get("OPTIMIZER.regularizer.factor", config))))
    model.prepare(opt, paddle.nn.CrossEntropyLoss(), paddle.metric.Accuracy(topk=(1, 5)))

    start = 0
    if resume:
        found = checkpoints(save_dir)
        for k, (prefix, done) in enumerate(found):
            try:
                model.load(str(prefix))  # weights, optimizer and the lr schedule's position
            except Exception as err:  # a truncated or foreign file: Paddle raises many kinds
                if k == len(found) - 1:
                    raise StageError(f"{prefix}.pdparams: expected a checkpoint of this --arch {arch} to resume "
                                     f"from, found one that does not load ({first_line(err)}); no earlier one loads either") from None
                log.warning(f"{prefix}.pdparams: expected a readable checkpoint, found a damaged one "
                            f"({type(err).__name__}); resuming from {found[k + 1][0]}")
                continue
            start = done
            log.info(f"resumed from {prefix} ({start} of {epochs} epochs done); Paddle's progress below counts "
                  f"this run's epochs from 1: they are epochs {start + 1} to {epochs}, saved as {start}, {start + 1}, ...")
            break
        if not found:
            log.info(f"--resume: no checkpoint in {save_dir}, starting fresh")
    callbacks = [epoch_checkpoint(save_dir, start)]
    if log_dir:
        try:
            import visualdl  # noqa: F401

            callbacks.append(paddle.callbacks.VisualDL(log_dir=log_dir))
        except ImportError:
            log.warning("visualdl is not installed: no VisualDL logs (pip install visualdl); training goes on")
    if start >= epochs:
        log.info(f"{save_dir} already holds {start} epochs; nothing to train")
    else:
        # hapi's DistributedBatchSampler gives each process its own share of every epoch.
        model.fit(train_set, valid_set, epochs=epochs - start, batch_size=batch // world, shuffle=True,
                  verbose=1 if rank == 0 else 0, num_workers=num_workers, callbacks=callbacks)
    return model, net


def check_replicas_agree(net, world: int) -> None:
    """Data parallel keeps one model: every process must end with the same weights (only
    rank 0's are saved). A checksum per process, gathered, says so or fails on one line."""
    import paddle

    params = [p for p in net.parameters() if p.trainable]
    local = paddle.to_tensor([float(sum(paddle.abs(p).sum().item() for p in params))], dtype="float64")
    gathered: list = []
    paddle.distributed.all_gather(gathered, local)
    sums = [float(t.item()) for t in gathered]
    if max(sums) - min(sums) > 1e-6 * max(abs(x) for x in sums):
        raise StageError(f"data parallel: expected the same weights in all {world} processes, found checksums {sums}")
    log.info(f"weights identical in all {world} processes (checksum {sums[0]:.6f})")


def epoch_checkpoint(save_dir: Path, offset: int):
    """A callback that saves `<save_dir>/<epoch>` after each epoch, numbering on from a resumed run
    (built here so that importing this module, e.g. for --help, does not load Paddle)."""
    import paddle

    class EpochCheckpoint(paddle.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            # Saved under a hidden name and renamed: an interrupted save never looks like an epoch.
            Path(save_dir).mkdir(parents=True, exist_ok=True)
            final, partial = Path(save_dir) / str(offset + epoch), Path(save_dir) / f".{offset + epoch}.partial"
            self.model.save(str(partial))
            if paddle.distributed.get_rank() == 0:  # hapi saves on rank 0 only
                for suffix in (".pdopt", ".pdparams"):
                    os.replace(f"{partial}{suffix}", f"{final}{suffix}")

    return EpochCheckpoint()
