"""The MobileFaceNet training loop (called by the `train_nets` stage)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from common.cli import StageError, progress
from common.tf.distribute import (
    CheckpointWriter,
    check_global_batch,
    check_jit,
    check_same_on_all_workers,
    distribute_dataset,
    is_chief,
    make_strategy,
    num_workers,
    sum_over_replicas,
    summary_writer,
    sync_batch_norm,
)
from common.tf.margin import MarginHead, margin_loss
from common.tf.training import check_finite, run_folder, write_config
from mobilefacenet.data import count_records, tfrecord_dataset
from mobilefacenet.evaluate import embed, load_bin, verify
from mobilefacenet.models.mobilefacenet import build_model, load_pretrained

log = logging.getLogger("mobilefacenet.train")


def lr_for_epoch(values: list[float], boundaries: list[int], epoch: int) -> float:
    """tf.train.piecewise_constant on the epoch: values[i] until boundaries[i]."""
    return values[int(np.searchsorted(boundaries, epoch, side="right"))]


def dataset_size(files: list[str], num_classes: int | None) -> tuple[int, int]:
    """(images, classes) from convert_recordio's sidecar .json, else by reading the records."""
    sidecar = Path(files[0]).with_suffix(".json")
    if len(files) == 1 and sidecar.is_file():
        info = json.loads(sidecar.read_text())
        return int(info["images"]), int(num_classes or info["classes"])
    images, classes = count_records(files)
    return images, int(num_classes or classes)


def make_train_step(model, head, optimizer, norm_factor: float, mixed_precision: bool = False,
                    jit: bool = False, strategy=None):
    """One compiled step (x, y) -> (total, ce, acc): margin softmax + weight decay + the repos'
    prelogit-norm penalty, loss-scaled under mixed precision; `jit` compiles it with XLA. With
    replicas each one holds a slice of the global batch and its own rows of the margin logits."""
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
            # The repos' prelogit penalty: mean over the batch of ||(|x| + 1e-4)||_1.
            norm = tf.reduce_mean(tf.reduce_sum(tf.abs(tf.cast(prelogits, tf.float32)) + 1e-4, axis=1))
            total = (ce + tf.cast(reg, tf.float32) + norm_factor * norm) / replicas  # gradients are summed
            scaled = optimizer.scale_loss(total) if mixed_precision else total
        grads = tape.gradient(scaled, variables)
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(cos, 1, output_type=tf.int32), y),
                                     tf.float32))
        return total, ce / replicas, acc / replicas

    check_jit(jit, strategy)
    return tf.function(lambda x, y: sum_over_replicas(strategy, strategy.run(replica_step, (x, y))),
                       jit_compile=jit)


def train(args) -> None:
    from common.cli import setup_logging

    setup_logging()
    images, classes = dataset_size(args.tfrecords, args.num_classes)
    if images < args.train_batch_size:
        raise StageError(f"{args.tfrecords[0]}: expected at least --train_batch_size "
                         f"{args.train_batch_size} images, found {images}")
    steps = args.steps_per_epoch or min(images // args.train_batch_size, args.max_steps_per_epoch)
    log.info("train: %d images of %d identities, %d steps per epoch", images, classes, steps)
    evals = {Path(p).stem: load_bin(p) for p in args.eval_datasets}
    strategy = make_strategy(args.strategy, args.cpu_replicas)  # the input above needed no TensorFlow
    chief = is_chief(strategy)
    check_global_batch(args.train_batch_size, strategy, "--train_batch_size")
    tf.keras.utils.set_random_seed(args.seed)

    run_dir = run_folder(args.models_dir, args.resume, chief)
    if chief:
        write_config(run_dir, {**vars(args), "num_classes": classes, "images": images})
    log_dir = str(Path(args.logs_dir) / (run_dir.name if run_dir else "worker"))

    # Layers keep the policy they were built under; the global one is put back at once, so that
    # whatever runs next in this process (ckpt2pb, inference, tests) builds float32 models.
    previous = tf.keras.mixed_precision.global_policy()
    if args.mixed_precision:
        tf.keras.mixed_precision.set_global_policy("mixed_float16")
    with strategy.scope():
        try:
            model = build_model(args.variant, args.embedding_size, weight_decay=args.weight_decay,
                                bn_decay=args.bn_decay)
        finally:
            tf.keras.mixed_precision.set_global_policy(previous)
        sync_batch_norm(model, strategy)
        head = MarginHead(classes, args.loss, args.margin_scale, args.margin, name="margin_head")
        head.build((None, args.embedding_size))
        optimizer = tf.keras.optimizers.Adam(args.lr_values[0], 0.9, 0.999, args.adam_epsilon)
        if args.mixed_precision:
            optimizer = tf.keras.mixed_precision.LossScaleOptimizer(optimizer)
        optimizer.build(model.trainable_variables + head.trainable_variables)
        epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False)
        best_acc = tf.Variable(-1.0, dtype=tf.float64, trainable=False)
    lr = optimizer.learning_rate
    # The optimizer sits two levels down so every model weight is saved under model/ (ckpt2pb
    # restores the model alone).
    state = tf.train.Checkpoint(inner=tf.train.Checkpoint(optimizer=optimizer))
    ckpt = tf.train.Checkpoint(model=model, head=head, state=state, epoch=epoch_var, best_acc=best_acc)
    manager = CheckpointWriter(ckpt, run_dir, strategy)
    best = CheckpointWriter(tf.train.Checkpoint(model=model), run_dir and run_dir / "best", strategy, max_to_keep=1)
    if args.pretrained_model and not manager.latest_checkpoint:
        log.info("backbone weights from %s", load_pretrained(model, args.pretrained_model))
    if manager.latest_checkpoint:
        ckpt.restore(manager.latest_checkpoint).expect_partial()
        log.info("resumed from %s (epoch %d)", manager.latest_checkpoint, int(epoch_var.numpy()))
    start = int(epoch_var.numpy())
    check_same_on_all_workers(strategy, start, "restored epoch")

    step = make_train_step(model, head, optimizer, args.prelogit_norm_factor, args.mixed_precision, args.jit,
                           strategy)
    # Across workers: whole TFRecord files per worker when there are enough of them.
    ds = iter(distribute_dataset(strategy, tfrecord_dataset(args.tfrecords, args.train_batch_size,
                                                            shuffle=args.shuffle_buffer, seed=args.seed),
                                 shard_by_file=len(args.tfrecords) >= num_workers(strategy) > 1))
    writer = summary_writer(log_dir, strategy)
    for epoch in range(start, args.max_epoch):
        value = args.lr_values[0] if args.constant_lr else lr_for_epoch(args.lr_values, args.lr_boundaries, epoch)
        lr.assign(value)
        losses, accs, times = [], [], []
        bar = progress(range(steps), desc=f"epoch {epoch + 1}/{args.max_epoch}", unit="step", leave=False)
        for i in bar:
            x, y = next(ds)
            t0 = time.perf_counter()
            total, ce, acc = step(x, y)
            total = float(total)
            times.append(time.perf_counter() - t0)
            check_finite(total, epoch * steps + i, manager)
            losses.append(total)
            accs.append(float(acc))
            bar.set_postfix(loss=f"{total:.3f}")
        epoch_var.assign(epoch + 1)
        msg = (f"Epoch {epoch + 1}/{args.max_epoch}  loss {np.mean(losses):.4f}  train_acc {np.mean(accs):.4f}  "
               f"lr {value:g}  {np.mean(times[1:] if len(times) > 1 else times):.3f} s/step")
        with writer.as_default(step=epoch + 1):
            tf.summary.scalar("loss/total", float(np.mean(losses)))
            tf.summary.scalar("train/accuracy", float(np.mean(accs)))
            tf.summary.scalar("learning_rate", value)
            for name, (imgs, issame) in evals.items():
                result = verify(embed(model, imgs, args.eval_batch_size, args.flip), issame)
                tf.summary.scalar(f"{name}/accuracy", result.accuracy)
                msg += f"  {name} {result.accuracy:.4f}±{result.std:.4f} (threshold {result.threshold:.2f})"
                # The first eval set decides the best checkpoint (the repos mean LFW).
                if name == next(iter(evals)) and result.accuracy > float(best_acc.numpy()):
                    best_acc.assign(result.accuracy)
                    best.save(checkpoint_number=epoch + 1)
                    msg += " best"
        path = manager.save(checkpoint_number=epoch + 1)
        log.info("%s  (%s)", msg, path)
    writer.flush()
    if evals:
        log.info("best %s accuracy %.4f in %s", next(iter(evals)), float(best_acc.numpy()), run_dir / "best")
    log.info("checkpoints in %s, TensorBoard logs in %s", run_dir, log_dir)
