"""The CovPoolFER training loop (called by the `train` stage)."""

from __future__ import annotations

import logging
import time

import numpy as np
import tensorflow as tf

from common.cli import StageError, progress
from common.tf import spd
from common.tf.distribute import (
    CheckpointWriter,
    check_global_batch,
    check_jit,
    check_same_on_all_workers,
    distribute_dataset,
    is_chief,
    make_strategy,
    sum_over_replicas,
    summary_writer,
    sync_batch_norm,
)
from common.tf.training import (
    check_finite,
    lr_for_epoch,
    read_lr_schedule,
    run_folder,
    write_config,
)
from covpoolfer.data import eval_batches, list_dataset, load_images, train_dataset
from covpoolfer.models.covpoolnet import build_model, decayed_kernels, load_pretrained

log = logging.getLogger("covpoolfer.train")


def make_optimizer(name: str, lr: float = 0.001, adam_epsilon: float = 0.1):
    opt = tf.keras.optimizers
    if name == "ADAM":
        return opt.Adam(lr, beta_1=0.9, beta_2=0.999, epsilon=adam_epsilon)  # the original: 0.1
    if name == "ADAGRAD":
        return opt.Adagrad(lr)
    if name == "ADADELTA":
        return opt.Adadelta(lr, rho=0.9, epsilon=1e-6)
    if name == "RMSPROP":
        return opt.RMSprop(lr, rho=0.9, momentum=0.9, epsilon=1.0)
    return opt.SGD(lr, momentum=0.9, nesterov=True)


def predict(model, images: np.ndarray, batch_size: int) -> dict[str, np.ndarray]:
    outs = [model(b, training=False) for b in eval_batches(images, batch_size)]
    return {k: np.concatenate([o[k].numpy() for o in outs]) for k in outs[0]}


def make_train_step(model, optimizer, centers, weight_decay: float, center_loss_factor: float,
                    center_loss_alfa: float, update_centers: bool = True, jit: bool = False, strategy=None):
    """One compiled training step (x, y) -> (total, ce, reg): softmax + weight decay + center loss,
    the BiMap gradients projected to the Stiefel tangent space, Adam/..., then QR retraction.
    Under a distribution strategy the centre update and the retraction run once on the gathered
    global batch, so every replica keeps the same centres and the same orthonormal W."""
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    orth = [v for v in model.trainable_variables if "orth_weight" in v.name]
    kernels = decayed_kernels(model)
    variables = model.trainable_variables

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            out = model(x, training=True)
            ce = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, out["logits"]))
            reg = weight_decay * tf.add_n([tf.nn.l2_loss(k) for k in kernels])  # = wd·Σw²/2
            prelogits = out["prelogits"]
            center = tf.reduce_mean(tf.square(prelogits - tf.gather(centers, y)))
            total = ce + reg + center_loss_factor * center
            # Each replica holds 1/replicas of the batch; the optimizer sums their gradients.
            scaled = total / replicas
        grads = tape.gradient(scaled, variables)
        # The projection is linear in the gradient: projecting per replica, then summing, is exact.
        grads = [spd.stiefel_project(v, g) if any(v is o for o in orth) else g
                 for g, v in zip(grads, variables, strict=True)]
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        return (scaled, ce / replicas, reg / replicas), prelogits

    def step(x, y):
        losses, prelogits = strategy.run(replica_step, (x, y))
        for w in orth:  # retraction strictly after the optimizer step
            spd.qr_retract(w)
        if update_centers:  # facenet's fixed center loss: c_y -= (1 − alfa)(c_y − x)
            prelogits, labels = strategy.gather(prelogits, 0), strategy.gather(y, 0)
            delta = (1 - center_loss_alfa) * (tf.gather(centers, labels) - prelogits)
            centers.scatter_sub(tf.IndexedSlices(delta, labels))
        return sum_over_replicas(strategy, losses)

    check_jit(jit, strategy)
    return tf.function(step, jit_compile=jit)


def train(args, train_dir, val_dir) -> None:
    from common.cli import setup_logging

    setup_logging()
    paths, labels, classes = list_dataset(train_dir)
    images = load_images(paths, args.image_size)
    log.info("train: %d images in %d classes from %s", len(paths), len(classes), train_dir)
    if len(paths) < args.batch_size:
        raise StageError(f"{train_dir}: expected at least --batch_size {args.batch_size} images, "
                         f"found {len(paths)}")
    val = None
    if val_dir is not None:
        vpaths, vlabels, vclasses = list_dataset(val_dir)
        if vclasses != classes:
            raise StageError(f"{val_dir}: expected the training classes {classes}, found {vclasses}")
        val = (load_images(vpaths, args.image_size), vlabels)
        log.info("val: %d images from %s", len(vpaths), val_dir)
    strategy = make_strategy(args.strategy, args.cpu_replicas)  # the input above needed no TensorFlow
    chief = is_chief(strategy)
    check_global_batch(args.batch_size, strategy, "--batch_size")
    tf.keras.utils.set_random_seed(args.seed)

    schedule = read_lr_schedule(args.learning_rate_schedule_file) if args.learning_rate < 0 else None
    config = dict(vars(args))
    config.update(classes=classes, num_classes=len(classes))

    run_dir = run_folder(args.models_base_dir, args.resume, chief)
    if chief:
        write_config(run_dir, config)
    log_dir = f"{args.logs_base_dir.rstrip('/')}/{run_dir.name if run_dir else 'worker'}"

    with strategy.scope():
        model = build_model(args.model_def, len(classes), args.embedding_size, args.image_size,
                            args.keep_probability, not args.ignore_keep_probability, args.seed,
                            args.bn_decay, args.eig_floor)
        sync_batch_norm(model, strategy)
        optimizer = make_optimizer(args.optimizer, adam_epsilon=args.adam_epsilon)
        optimizer.build(model.trainable_variables)
        emb = model.output["prelogits"].shape[-1]
        centers = tf.Variable(tf.zeros([len(classes), emb]), trainable=False, name="centers")
        epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False)
    lr = optimizer.learning_rate  # a variable: assigned per epoch from the schedule
    # The optimizer sits two levels down so that every model weight is saved under model/...
    # (a checkpoint stores each variable at its shortest path): ckpt2pb restores the model alone.
    state = tf.train.Checkpoint(inner=tf.train.Checkpoint(optimizer=optimizer))
    ckpt = tf.train.Checkpoint(model=model, state=state, centers=centers, epoch=epoch_var)
    manager = CheckpointWriter(ckpt, run_dir, strategy)
    if args.pretrained_model and not manager.latest_checkpoint:
        log.info("weights from %s", load_pretrained(model, args.pretrained_model))
    if manager.latest_checkpoint:
        ckpt.restore(manager.latest_checkpoint).expect_partial()
        log.info("resumed from %s (epoch %d)", manager.latest_checkpoint, int(epoch_var.numpy()))
    start_epoch = int(epoch_var.numpy())
    check_same_on_all_workers(strategy, start_epoch, "restored epoch")

    step = make_train_step(model, optimizer, centers, args.weight_decay, args.center_loss_factor,
                           args.center_loss_alfa, not args.frozen_centers, args.jit, strategy)
    ds = iter(distribute_dataset(strategy, train_dataset(images, labels, args.batch_size, not args.no_augment,
                                                         args.seed)))
    writer = summary_writer(log_dir, strategy)
    if start_epoch >= args.max_nrof_epochs:
        log.info("run %s already has %d epochs; nothing to do", run_dir, start_epoch)
    for epoch in range(start_epoch, args.max_nrof_epochs):
        lr.assign(args.learning_rate if schedule is None else lr_for_epoch(schedule, epoch))
        losses, ces, times = [], [], []
        bar = progress(range(args.epoch_size), desc=f"epoch {epoch + 1}/{args.max_nrof_epochs}",
                       unit="step", leave=False)
        for i in bar:
            x, y = next(ds)
            t0 = time.perf_counter()
            total, ce, reg = step(x, y)
            total = float(total)
            times.append(time.perf_counter() - t0)
            check_finite(total, epoch * args.epoch_size + i, manager)
            losses.append(total)
            ces.append(float(ce))
            bar.set_postfix(loss=f"{total:.3f}")
        epoch_var.assign(epoch + 1)
        path = manager.save(checkpoint_number=epoch + 1)
        mean_loss = float(np.mean(losses))
        sec = float(np.mean(times[1:] if len(times) > 1 else times))
        msg = (f"Epoch {epoch + 1}/{args.max_nrof_epochs}  loss {mean_loss:.4f}  "
               f"cross-entropy {np.mean(ces):.4f}  lr {float(lr.numpy()):g}  "
               f"{sec:.3f} s/step")
        with writer.as_default(step=epoch + 1):
            tf.summary.scalar("loss/total", mean_loss)
            tf.summary.scalar("loss/cross_entropy", float(np.mean(ces)))
            tf.summary.scalar("loss/regularization", float(reg))
            tf.summary.scalar("learning_rate", float(lr.numpy()))
            tf.summary.scalar("seconds_per_step", sec)
            if val is not None:
                acc = float(np.mean(predict(model, val[0], args.batch_size)["logits"].argmax(1) == val[1]))
                tf.summary.scalar("val/accuracy", acc)
                msg += f"  val_acc {acc:.4f}"
        log.info("%s  (%s)", msg, path)
    writer.flush()
    log.info("checkpoints in %s, TensorBoard logs in %s", run_dir, log_dir)
