"""The CovPoolFER training loop (called by the `train` stage)."""

from __future__ import annotations

import logging

import numpy as np
import tensorflow as tf

from common.cli import StageError
from common.tf import spd
from common.tf.distribute import (
    check_jit,
    distribute_dataset,
    sum_over_replicas,
    sync_batch_norm,
)
from common.tf.loop import Schedule, fit, resume, start_run
from common.tf.optimizers import TF1Momentum
from common.tf.training import lr_for_epoch, read_lr_schedule
from covpoolfer.afew import covariance_batches, list_clips, load_features
from covpoolfer.data import eval_batches, list_dataset, load_images, train_dataset
from covpoolfer.models import temporal
from covpoolfer.models.checkpoints import load_pretrained, load_pretrained_temporal
from covpoolfer.models.covpoolnet import build_model, decayed_kernels
from covpoolfer.train_config import (
    CENTER_UPDATES,
    CovPoolTraining,
    TemporalTrainConfig,
    TrainConfig,
)

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
    return TF1Momentum(lr, momentum=0.9, nesterov=True)  # tf.compat.v1.train.MomentumOptimizer's update


def predict(model, images: np.ndarray, batch_size: int) -> dict[str, np.ndarray]:
    outs = [model(b, training=False) for b in eval_batches(images, batch_size)]
    return {k: np.concatenate([o[k].numpy() for o in outs]) for k in outs[0]}


def make_train_step(model, optimizer, centers, weight_decay: float, center_loss_factor: float,
                    center_loss_alfa: float, center_update: str = "alfa", jit: bool = False, strategy=None):
    """One compiled training step (x, y) -> (total, ce, reg, center): softmax + weight decay +
    center loss, the BiMap gradients projected to the Stiefel tangent space, Adam/..., then QR
    retraction. The centres move by ``center_update``: "alfa", facenet's fixed rule after the
    step; "optimizer", as the original's did (train.py hands tf.global_variables(), centres
    included, to the optimizer, which moves them by the centre term's gradient; its scatter_sub
    never runs); "frozen", not at all. Under a distribution strategy the alfa update and the
    retraction run once on the gathered global batch, so every replica keeps the same centres
    and the same orthonormal W."""
    if center_update not in CENTER_UPDATES:
        raise ValueError(f"--center_update: expected one of {CENTER_UPDATES}, found '{center_update}'")
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    orth = [v for v in model.trainable_variables if "orth_weight" in v.name]
    kernels = decayed_kernels(model)
    variables = model.trainable_variables + ([centers] if center_update == "optimizer" else [])

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            if center_update == "optimizer":
                tape.watch(centers)  # not trainable: the tape would not see it
            out = model(x, training=True)
            ce = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, out["logits"]))
            reg = weight_decay * tf.add_n([tf.nn.l2_loss(k) for k in kernels])  # = wd·Σw²/2
            prelogits = out["prelogits"]
            center = tf.reduce_mean(tf.square(prelogits - tf.gather(centers, y)))
            total = ce + reg + center_loss_factor * center
            # Each replica holds 1/replicas of the batch; the optimizer sums their gradients.
            scaled = total / replicas
        # dense: TF1's Adam scales every row's moments on a sparse (gathered) gradient too
        grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g
                 for g in tape.gradient(scaled, variables)]
        # The projection is linear in the gradient: projecting per replica, then summing, is exact.
        grads = [spd.stiefel_project(v, g) if any(v is o for o in orth) else g
                 for g, v in zip(grads, variables, strict=True)]
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        return (scaled, ce / replicas, reg / replicas, center / replicas), prelogits

    def step(x, y):
        losses, prelogits = strategy.run(replica_step, (x, y))
        for w in orth:  # retraction strictly after the optimizer step
            spd.qr_retract(w)
        if center_update == "alfa":  # facenet's fixed center loss: c_y -= (1 − alfa)(c_y − x)
            prelogits, labels = strategy.gather(prelogits, 0), strategy.gather(y, 0)
            delta = (1 - center_loss_alfa) * (tf.gather(centers, labels) - prelogits)
            centers.scatter_sub(tf.IndexedSlices(delta, labels))
        return sum_over_replicas(strategy, losses)

    check_jit(jit, strategy)
    return tf.function(step, jit_compile=jit)


def train(config: TrainConfig, train_dir, val_dir) -> dict:
    from common.cli import setup_logging

    setup_logging()
    paths, labels, classes = list_dataset(train_dir)
    images = load_images(paths, config.image_size)
    log.info("train: %d images in %d classes from %s", len(paths), len(classes), train_dir)
    if len(paths) < config.batch_size:
        raise StageError(f"{train_dir}: expected at least --batch_size {config.batch_size} images, "
                         f"found {len(paths)}")
    val = None
    if val_dir is not None:
        vpaths, vlabels, vclasses = list_dataset(val_dir)
        if vclasses != classes:
            raise StageError(f"{val_dir}: expected the training classes {classes}, found {vclasses}")
        val = (load_images(vpaths, config.image_size), vlabels)
        log.info("val: %d images from %s", len(vpaths), val_dir)
    lr_table = read_lr_schedule(config.learning_rate_schedule_file) if config.learning_rate < 0 else None
    # The input above needed no TensorFlow: the strategy comes first among TF work.
    run = start_run(config, config.models_base_dir, config.logs_base_dir, config.batch_size, "--batch_size",
                    classes=classes, num_classes=len(classes))

    def build():
        return build_model(config.model_def, len(classes), config.embedding_size, config.image_size,
                           config.keep_probability, not config.ignore_keep_probability, config.seed,
                           config.bn_decay, config.eig_floor)

    def validate(model):
        def on_epoch(epoch):
            if val is None:
                return {}, ""
            acc = float(np.mean(predict(model, val[0], config.batch_size)["logits"].argmax(1) == val[1]))
            return {"val/accuracy": acc}, f"  val_acc {acc:.4f}"
        return on_epoch

    def batches():
        return train_dataset(images, labels, config.batch_size, not config.no_augment, config.seed,
                             not config.no_shuffle)

    return _train_with_centres(config, run, lr_table, build, len(classes), load_pretrained, batches, config.jit,
                               validate)


def train_temporal(config: TemporalTrainConfig) -> dict:
    """The temporal pooling network on clip covariances, with the image trainer's step."""
    from common.cli import setup_logging

    setup_logging()
    clips = list_clips(config.data_dir)
    features = [load_features(p) for p in clips.paths]
    short = [str(p) for p, f in zip(clips.paths, features, strict=True) if len(f) < 2]
    if short:  # one frame has no covariance: listed, and the rest train
        log.warning("skipping %d clip(s) of fewer than 2 frames: %s", len(short), ", ".join(short))
    keep = [k for k, f in enumerate(features) if len(f) >= 2]
    features, labels = [features[k] for k in keep], clips.labels[keep]
    log.info("train: %d clips in %d classes from %s", len(features), len(clips.class_names), config.data_dir)
    if len(features) < config.batch_size:
        raise StageError(f"{config.data_dir}: expected at least --batch_size {config.batch_size} clips of 2 frames or "
                         f"more, found {len(features)}")
    lr_table = read_lr_schedule(config.learning_rate_schedule_file) if config.learning_rate < 0 else None
    dim = int(features[0].shape[1])
    run = start_run(config, config.models_base_dir, config.logs_base_dir, config.batch_size, "--batch_size",
                    network="temporal_pool", classes=clips.class_names, num_classes=len(clips.class_names),
                    input_dim=dim, dims=list(temporal.DIMS), bottleneck=temporal.BOTTLENECK)
    signature = (tf.TensorSpec([config.batch_size, dim, dim], tf.float32), tf.TensorSpec([config.batch_size], tf.int32))

    def batches():
        return tf.data.Dataset.from_generator(
            lambda: covariance_batches(features, labels, config.batch_size, not config.no_augment,
                                       not config.no_shuffle, config.seed), output_signature=signature).prefetch(2)

    return _train_with_centres(
        config, run, lr_table,
        lambda: temporal.build_temporal_model(len(clips.class_names), dim, bn_decay=config.bn_decay, seed=config.seed),
        len(clips.class_names), load_pretrained_temporal, batches)


TAGS = {"loss": "loss/total", "cross-entropy": "loss/cross_entropy", "regularization": "loss/regularization",
        "center": "loss/center"}


def _train_with_centres(config: CovPoolTraining, run, lr_table, build, num_classes: int, load_pretrained_weights,
                        make_batches, jit: bool = False, evaluate=None) -> dict:
    """What both trainers do once their run has started: the network (``build()``, under the
    strategy), the optimizer and the centres, resuming or --pretrained_model, then the epochs
    of the step on ``make_batches()`` (a tf.data.Dataset, made after the model, as its random
    ops always were). ``evaluate(model)`` gives the per-epoch eval hook."""
    strategy = run.strategy
    with strategy.scope():
        model = build()
        sync_batch_norm(model, strategy)
        optimizer = make_optimizer(config.optimizer, adam_epsilon=config.adam_epsilon)
        emb = model.output["prelogits"].shape[-1]
        centers = tf.Variable(tf.zeros([num_classes, emb]), trainable=False, name="centers")
        optimizer.build(model.trainable_variables + ([centers] if config.center_update == "optimizer" else []))
        epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False)
    # The optimizer sits two levels down so that every model weight is saved under model/...
    # (a checkpoint stores each variable at its shortest path): ckpt2pb restores the model alone.
    state = tf.train.Checkpoint(inner=tf.train.Checkpoint(optimizer=optimizer))
    ckpt = tf.train.Checkpoint(model=model, state=state, centers=centers, epoch=epoch_var)
    pretrained = (lambda: load_pretrained_weights(model, config.pretrained_model)) if config.pretrained_model else None
    manager = resume(ckpt, epoch_var, run, pretrained)
    step = make_train_step(model, optimizer, centers, config.weight_decay, config.center_loss_factor,
                           config.center_loss_alfa, config.center_update, jit, strategy)
    batches = iter(distribute_dataset(strategy, make_batches()))

    def named(x, y):
        total, ce, reg, center = step(x, y)
        return {"loss": total, "cross-entropy": ce, "regularization": reg, "center": center}

    def lr_at(k):  # the schedule file's rate for the epoch of global step k
        return config.learning_rate if lr_table is None else lr_for_epoch(lr_table, k // config.epoch_size)

    schedule = Schedule(total_steps=config.max_nrof_epochs * config.epoch_size, epoch_size=config.epoch_size,
                        unit=config.epoch_size, lr_at=lr_at,
                        title=lambda done: f"Epoch {done // config.epoch_size}/{config.max_nrof_epochs}")
    result = fit(named, batches, schedule, run, manager, epoch_var, optimizer.learning_rate, tags=TAGS,
                 evaluate=evaluate(model) if evaluate else None)
    log.info("checkpoints in %s, TensorBoard logs in %s", run.run_dir, run.log_dir)
    return {"run_dir": run.run_dir, **result}
