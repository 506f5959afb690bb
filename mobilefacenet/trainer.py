"""The MobileFaceNet training loop (called by the `train_nets` stage)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import tensorflow as tf

from common.cli import StageError, first_line
from common.tf.distribute import (
    CheckpointWriter,
    check_jit,
    distribute_dataset,
    num_workers,
    sum_over_replicas,
    sync_batch_norm,
)
from common.tf.loop import Schedule, fit, resume, start_run
from common.tf.margin import MarginHead, margin_loss
from common.tfrecord import count_frames
from mobilefacenet.data import count_records, tfrecord_dataset
from mobilefacenet.embedding import embed, load_bin, verify
from mobilefacenet.models.checkpoints import load_pretrained
from mobilefacenet.models.mobilefacenet import build_model
from mobilefacenet.train_config import TrainConfig

log = logging.getLogger("mobilefacenet.train")


def piecewise_lr(values: list[float], boundaries: list[int], epoch: int) -> float:
    """tf.train.piecewise_constant on the epoch index, as sirius-ai's train_nets feeds it:
    values[i] while epoch <= boundaries[i], so each rate changes after its boundary epoch."""
    return values[int(np.searchsorted(boundaries, epoch, side="left"))]


def dataset_size(files: list[str], num_classes: int | None) -> tuple[int, int]:
    """(images, classes) from convert_recordio's sidecar .json of every file; else the records
    counted from their headers when --num_classes is given; else every label read."""
    sidecars = [Path(f).with_suffix(".json") for f in files]
    if all(s.is_file() for s in sidecars):
        infos = [json.loads(s.read_text()) for s in sidecars]
        return sum(int(i["images"]) for i in infos), int(num_classes or max(int(i["classes"]) for i in infos))
    if num_classes:
        return sum(count_frames(f) for f in files), int(num_classes)
    return count_records(files)


def readable(batches, files: list[str]):
    """The batches, with a record that does not decode (a corrupt JPEG) reported in one line."""
    try:
        yield from batches
    except tf.errors.OpError as err:
        raise StageError(f"{', '.join(files)}: expected records with decodable images, found a bad one "
                         f"({first_line(err)}); check the files with convert_recordio's source or rebuild them") from None


def make_train_step(model, head, optimizer, norm_factor: float, mixed_precision: bool = False,
                    jit: bool = False, strategy=None, norm_eps: float = 1e-4):
    """One compiled step (x, y) -> (total, ce, acc, reg): margin softmax + weight decay + the
    repos' prelogit-norm penalty (reg is the sum of the last two, the repos' regularisation
    losses), loss-scaled under mixed precision; `jit` compiles it with XLA. With replicas each
    one holds a slice of the global batch and its own rows of the margin logits."""
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    variables = model.trainable_variables + head.trainable_variables

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            prelogits = model(x, training=True)
            cos = head.cosine(prelogits)
            logits = head.margin_logits(cos, y)
            ce = margin_loss(logits, y)
            reg = tf.add_n(model.losses) if model.losses else tf.constant(0.0)
            # The repos' prelogit penalty: mean over the batch of ||(|x| + eps)||_1 (eps 1e-4; sirius-ai 1e-5).
            norm = tf.reduce_mean(tf.reduce_sum(tf.abs(tf.cast(prelogits, tf.float32)) + norm_eps, axis=1))
            reg = tf.cast(reg, tf.float32) + norm_factor * norm
            total = (ce + reg) / replicas  # gradients are summed
            scaled = optimizer.scale_loss(total) if mixed_precision else total
        grads = tape.gradient(scaled, variables)
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(cos, 1, output_type=tf.int32), y),
                                     tf.float32))
        return total, ce / replicas, acc / replicas, reg / replicas

    check_jit(jit, strategy)
    return tf.function(lambda x, y: sum_over_replicas(strategy, strategy.run(replica_step, (x, y))),
                       jit_compile=jit)


def train(config: TrainConfig) -> dict:
    from common.cli import setup_logging

    setup_logging()
    images, classes = dataset_size(config.tfrecords, config.num_classes)
    if images < config.train_batch_size:
        raise StageError(f"{config.tfrecords[0]}: expected at least --train_batch_size "
                         f"{config.train_batch_size} images, found {images}")
    per_pass = -(-images // config.train_batch_size) if config.keep_last_batch else images // config.train_batch_size
    steps = config.steps_per_epoch or min(per_pass, config.max_steps_per_epoch)
    log.info("train: %d images of %d identities, %d steps per epoch", images, classes, steps)
    evals = {Path(p).stem: load_bin(p) for p in config.eval_datasets}
    best_on = config.best_on or next(iter(evals), None)
    # The input above needed no TensorFlow: the strategy comes first among TF work.
    run = start_run(config, config.models_dir, config.logs_dir, config.train_batch_size, "--train_batch_size",
                    num_classes=classes, images=images)
    strategy, run_dir = run.strategy, run.run_dir

    # Layers keep the policy they were built under; the global one is put back at once, so that
    # whatever runs next in this process (ckpt2pb, inference, tests) builds float32 models.
    previous = tf.keras.mixed_precision.global_policy()
    if config.mixed_precision:
        tf.keras.mixed_precision.set_global_policy("mixed_float16")
    with strategy.scope():
        try:
            model = build_model(config.variant, config.embedding_size, weight_decay=config.weight_decay,
                                bn_decay=config.bn_decay)
        finally:
            tf.keras.mixed_precision.set_global_policy(previous)
        sync_batch_norm(model, strategy)
        head = MarginHead(classes, config.loss, config.margin_scale, config.margin, name="margin_head")
        head.build((None, config.embedding_size))
        optimizer = tf.keras.optimizers.Adam(config.lr_values[0], 0.9, 0.999, config.adam_epsilon)
        if config.mixed_precision:
            optimizer = tf.keras.mixed_precision.LossScaleOptimizer(optimizer)
        optimizer.build(model.trainable_variables + head.trainable_variables)
        epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False)
        best_acc = tf.Variable(-1.0, dtype=tf.float64, trainable=False)

    # The optimizer sits two levels down so every model weight is saved under model/ (ckpt2pb
    # restores the model alone).
    state = tf.train.Checkpoint(inner=tf.train.Checkpoint(optimizer=optimizer))
    ckpt = tf.train.Checkpoint(model=model, head=head, state=state, epoch=epoch_var, best_acc=best_acc)
    pretrained = (lambda: load_pretrained(model, config.pretrained_model, head if config.restore_head else None)) \
        if config.pretrained_model else None
    manager = resume(ckpt, epoch_var, run, pretrained)
    best = CheckpointWriter(tf.train.Checkpoint(model=model), run_dir and run_dir / "best", strategy, max_to_keep=1)

    step = make_train_step(model, head, optimizer, config.prelogit_norm_factor, config.mixed_precision, config.jit,
                           strategy, config.prelogit_norm_eps)
    # Across workers: whole TFRecord files per worker when there are enough of them.
    ds = readable(iter(distribute_dataset(strategy, tfrecord_dataset(config.tfrecords, config.train_batch_size,
                                                                     shuffle=config.shuffle_buffer, seed=config.seed,
                                                                     flip=not config.no_flip,
                                                                     keep_last_batch=config.keep_last_batch),
                                          shard_by_file=len(config.tfrecords) >= num_workers(strategy) > 1)),
                  config.tfrecords)

    def lr_at(k):  # the schedule of the epoch of global step k (the Ascend port's never advances: --constant_lr)
        return config.lr_values[0] if config.constant_lr else piecewise_lr(config.lr_values, config.lr_boundaries, k // steps)

    def validate(epoch):
        scalars, text = {}, ""
        for name, (imgs, issame) in evals.items():
            result = verify(embed(model, imgs, config.eval_batch_size, config.flip), issame)
            scalars[f"{name}/accuracy"] = result.accuracy
            text += f"\n  {name}: accuracy {result.accuracy:.4f} ± {result.std:.4f} (threshold {result.threshold:.2f})"
            # One set decides the best checkpoint: --best_on, by default the first (the repos mean LFW).
            if name == best_on and result.accuracy > float(best_acc.numpy()):
                best_acc.assign(result.accuracy)
                best.save(checkpoint_number=epoch)
                text += " best"
        return scalars, text

    def named(x, y):
        total, ce, acc, reg = step(x, y)
        return {"loss": total, "inference_loss": ce, "regularization": reg, "train_acc": acc}

    schedule = Schedule(total_steps=config.max_epoch * steps, epoch_size=steps, unit=steps, lr_at=lr_at,
                        title=lambda done: f"Epoch {done // steps}/{config.max_epoch}")
    result = fit(named, ds, schedule, run, manager, epoch_var, optimizer.learning_rate,
                 tags={"loss": "loss/total", "inference_loss": "loss/inference", "regularization": "loss/regularization",
                       "train_acc": "train/accuracy"}, evaluate=validate)
    if evals:
        log.info("best %s accuracy %.4f in %s", best_on, float(best_acc.numpy()), run_dir / "best")
    log.info("checkpoints in %s, TensorBoard logs in %s", run_dir, run.log_dir)
    return {"run_dir": run_dir, **result}
