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
from common.tf.loop import fit, resume, start_run
from common.tf.margin import MarginHead, margin_loss
from common.tfrecord import count_frames
from mobilefacenet.data import count_records, tfrecord_dataset
from mobilefacenet.evaluate import embed, load_bin, verify
from mobilefacenet.models.mobilefacenet import build_model, load_pretrained

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


def train(args) -> dict:
    from common.cli import setup_logging

    setup_logging()
    images, classes = dataset_size(args.tfrecords, args.num_classes)
    if images < args.train_batch_size:
        raise StageError(f"{args.tfrecords[0]}: expected at least --train_batch_size "
                         f"{args.train_batch_size} images, found {images}")
    per_pass = -(-images // args.train_batch_size) if args.keep_last_batch else images // args.train_batch_size
    steps = args.steps_per_epoch or min(per_pass, args.max_steps_per_epoch)
    log.info("train: %d images of %d identities, %d steps per epoch", images, classes, steps)
    evals = {Path(p).stem: load_bin(p) for p in args.eval_datasets}
    best_on = args.best_on or next(iter(evals), None)
    # The input above needed no TensorFlow: the strategy comes first among TF work.
    strategy, run_dir = start_run(args, args.models_dir, args.train_batch_size,
                                  {"num_classes": classes, "images": images}, "--train_batch_size")
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

    # The optimizer sits two levels down so every model weight is saved under model/ (ckpt2pb
    # restores the model alone).
    state = tf.train.Checkpoint(inner=tf.train.Checkpoint(optimizer=optimizer))
    ckpt = tf.train.Checkpoint(model=model, head=head, state=state, epoch=epoch_var, best_acc=best_acc)
    pretrained = (lambda: load_pretrained(model, args.pretrained_model, head if args.restore_head else None)) \
        if args.pretrained_model else None
    manager = resume(ckpt, epoch_var, run_dir, strategy, pretrained)
    best = CheckpointWriter(tf.train.Checkpoint(model=model), run_dir and run_dir / "best", strategy, max_to_keep=1)

    step = make_train_step(model, head, optimizer, args.prelogit_norm_factor, args.mixed_precision, args.jit,
                           strategy, args.prelogit_norm_eps)
    # Across workers: whole TFRecord files per worker when there are enough of them.
    ds = readable(iter(distribute_dataset(strategy, tfrecord_dataset(args.tfrecords, args.train_batch_size,
                                                                     shuffle=args.shuffle_buffer, seed=args.seed,
                                                                     flip=not args.no_flip,
                                                                     keep_last_batch=args.keep_last_batch),
                                          shard_by_file=len(args.tfrecords) >= num_workers(strategy) > 1)),
                  args.tfrecords)

    def lr_at(k):  # the schedule of the epoch of global step k (the Ascend port's never advances: --constant_lr)
        return args.lr_values[0] if args.constant_lr else piecewise_lr(args.lr_values, args.lr_boundaries, k // steps)

    def validate(epoch):
        scalars, text = {}, ""
        for name, (imgs, issame) in evals.items():
            result = verify(embed(model, imgs, args.eval_batch_size, args.flip), issame)
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

    result = fit(named, ds, manager=manager, counter=epoch_var, unit=steps, total_steps=args.max_epoch * steps,
        epoch_size=steps, lr=optimizer.learning_rate, lr_at=lr_at, log_dir=log_dir, strategy=strategy,
        title=lambda done: f"Epoch {done // steps}/{args.max_epoch}",
        tags={"loss": "loss/total", "inference_loss": "loss/inference", "regularization": "loss/regularization",
              "train_acc": "train/accuracy"}, evaluate=validate)
    if evals:
        log.info("best %s accuracy %.4f in %s", best_on, float(best_acc.numpy()), run_dir / "best")
    log.info("checkpoints in %s, TensorBoard logs in %s", run_dir, log_dir)
    return {"run_dir": run_dir, **result}
