"""The two PFE training loops: the base with AM-Softmax, then the uncertainty head with MLS."""

from __future__ import annotations

import logging

import numpy as np
import tensorflow as tf

from common.cli import StageError, setup_logging
from common.tf.distribute import (
    all_gather,
    distribute_dataset,
    sum_over_replicas,
    sync_batch_norm,
)
from common.tf.loop import Run, Schedule, fit, resume, start_run
from common.tf.margin import MarginHead, margin_loss
from common.tf.optimizers import TF1Momentum
from pfe.data import balanced_indices, image_dataset, list_identities
from pfe.losses import mls_loss
from pfe.models.checkpoints import base_config, load_base_weights
from pfe.models.sphere_net import build_base
from pfe.models.uncertainty import build_uncertainty
from pfe.train_config import BaseConfig, HeadConfig, PFERun

log = logging.getLogger("pfe.train")


def _fit(step, ds, ckpt, manager, run: Run, config: PFERun, lr, lr_at, what: str, tags=None) -> dict:
    """Steps from the restored step counter to --num_steps; a checkpoint every --epoch_size steps.
    ``step(x, y)`` returns {name: loss term} with "loss" among them."""
    schedule = Schedule(total_steps=config.num_steps, epoch_size=config.epoch_size, unit=1, lr_at=lr_at,
                        title=lambda done: f"{what} step {done}/{config.num_steps}")
    batches = iter(distribute_dataset(run.strategy, ds))
    return {"run_dir": run.run_dir, **fit(step, batches, schedule, run, manager, ckpt.step, lr, tags=tags)}


def _checkpoint(base, head, optimizer, strategy) -> tf.train.Checkpoint:
    """base, head and the step counter; the optimizer two levels down so that base/ and head/
    are what ckpt2pb restores."""
    with strategy.scope():
        step = tf.Variable(0, dtype=tf.int64)
    return tf.train.Checkpoint(base=base, head=head, state=tf.train.Checkpoint(inner=tf.train.Checkpoint(
        optimizer=optimizer)), step=step)


def make_base_step(base, head, optimizer, weight_decay: float, strategy=None):
    """One compiled step (x, y) -> {loss} of the base: AM-Softmax on mu plus weight decay."""
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    kernels = [w for w in base.trainable_weights if "kernel" in w.name]
    variables = base.trainable_variables + head.trainable_variables

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            out = base(x, training=True)
            loss = margin_loss(head(out["mu"], y), y)
            if weight_decay:
                loss += weight_decay * tf.add_n([tf.nn.l2_loss(k) for k in kernels])
            loss /= replicas  # the optimizer sums the replicas' gradients
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    return tf.function(lambda x, y: {"loss": sum_over_replicas(strategy, strategy.run(replica_step, (x, y)))})


def train_base(config: BaseConfig) -> dict:
    """Sphere net + AM-Softmax (CosFace margin) on identity folders, plain shuffled batches."""
    setup_logging()
    paths, labels, names = list_identities(config.data_dir)
    run = start_run(config, config.models_dir, config.logs_dir, config.batch_size, num_classes=len(names), stage="train_base")
    strategy = run.strategy
    log.info("train_base: %d images of %d identities from %s", len(paths), len(names), config.data_dir)
    with strategy.scope():
        base = build_base(config.depth, config.embedding_size, bn_decay=config.bn_decay)
        sync_batch_norm(base, strategy)
        head = MarginHead(len(names), "cosface", config.am_scale, config.am_margin, name="am_softmax")
        head.build((None, config.embedding_size))
        opt = TF1Momentum(config.learning_rate, momentum=0.9) if config.optimizer == "MOM" \
            else tf.keras.optimizers.Adam(config.learning_rate)
        opt.build(base.trainable_variables + head.trainable_variables)

    def pretrained() -> str:
        found, prefix = base_config(config.pretrained)
        if (found["depth"], found["embedding_size"]) != (config.depth, config.embedding_size):
            raise StageError(f"{prefix}: --pretrained: expected a sphere{config.depth} with {config.embedding_size}-d "
                             f"embeddings, found sphere{found['depth']} with {found['embedding_size']}-d")
        load_base_weights(base, found, prefix)
        return prefix

    ckpt = _checkpoint(base, head, opt, strategy)
    manager = resume(ckpt, ckpt.step, run, pretrained if config.pretrained else None, "step")
    step = make_base_step(base, head, opt, config.weight_decay, strategy)

    rng = np.random.default_rng(config.seed)

    def shuffled():
        while True:
            order = rng.permutation(len(paths))
            for start in range(0, len(order) - config.batch_size + 1, config.batch_size):
                yield order[start:start + config.batch_size]

    ds = image_dataset(paths, labels, shuffled(), flip=not config.no_flip, seed=config.seed)
    result = _fit(step, ds, ckpt, manager, run, config, opt.learning_rate, lambda k: config.learning_rate, "train_base")
    log.info("base checkpoints in %s", run.run_dir)
    return result


def make_head_step(base, head, optimizer, strategy=None):
    """One compiled step (x, y) -> {loss, mls, regularization} of the uncertainty head: the base
    runs frozen (BN on its moving statistics) and only the head's weights move, by the MLS loss
    plus its weight decay, with TF1's momentum (the original's MomentumOptimizer).
    MLS pairs every two faces of the batch, so with replicas each one gathers the global batch
    (the gather passes gradients back to the replica that owns each face)."""
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    variables = head.trainable_variables

    def replica_step(x, y):
        out = base(x, training=False)
        with tf.GradientTape() as tape:
            log_sigma_sq = head(out["conv_final"], training=True)
            mu, log_sigma_sq, labels = (all_gather(t, strategy) for t in (out["mu"], log_sigma_sq, y))
            # Every replica computes the same global loss and its gradient arrives `replicas`
            # times through the gather, hence the division.
            mls = mls_loss(mu, log_sigma_sq, labels) / replicas
            reg = (tf.add_n(head.losses) if head.losses else tf.constant(0.0)) / replicas
            loss = mls + reg
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss, mls, reg

    def step(x, y):
        loss, mls, reg = sum_over_replicas(strategy, strategy.run(replica_step, (x, y)))
        return {"loss": loss, "mls": mls, "regularization": reg}

    return tf.function(step)


def train_uncertainty(config: HeadConfig) -> dict:
    """The uncertainty head with the MLS loss on class-balanced batches; the base stays frozen."""
    setup_logging()
    based_on, base_prefix = base_config(config.base_model)
    paths, labels, names = list_identities(config.data_dir)
    run = start_run(config, config.models_dir, config.logs_dir, config.num_classes_per_batch * config.images_per_class,
                    depth=based_on["depth"], embedding_size=based_on["embedding_size"], base_prefix=base_prefix,
                    stage="train")
    strategy = run.strategy
    log.info("train: %d images of %d identities; base %s", len(paths), len(names), base_prefix)
    with strategy.scope():
        base = build_base(based_on["depth"], based_on["embedding_size"])
        load_base_weights(base, based_on, base_prefix)
        base.trainable = False
        head = build_uncertainty(base.output["conv_final"].shape[-1], based_on["embedding_size"],
                                 config.weight_decay, config.bn_decay)
        sync_batch_norm(head, strategy)
        opt = TF1Momentum(config.learning_rate, momentum=0.9)
        opt.build(head.trainable_variables)

    def pretrained_head() -> str:  # the original config's restore_scopes=None: the head too
        if based_on.get("stage") != "train":
            raise StageError(f"{base_prefix}: --restore_head: expected a checkpoint with the uncertainty module, "
                             f"found a sphere{based_on['depth']} base only")
        load_base_weights(base, based_on, base_prefix, head)
        return base_prefix

    ckpt = _checkpoint(base, head, opt, strategy)
    manager = resume(ckpt, ckpt.step, run, pretrained_head if config.restore_head else None, "step")
    step = make_head_step(base, head, opt, strategy)
    ds = image_dataset(paths, labels, balanced_indices(labels, config.num_classes_per_batch, config.images_per_class,
                                                       config.seed), flip=not config.no_flip, seed=config.seed)

    def lr_at(k):  # 'step' strategy: lr until --lr_drop_step (0-based step), then the lower one
        return config.learning_rate if k < config.lr_drop_step else config.learning_rate_after_drop

    result = _fit(step, ds, ckpt, manager, run, config, opt.learning_rate, lr_at, "train",
                  {"loss": "loss/total", "mls": "loss/mls", "regularization": "loss/regularization"})
    log.info("PFE checkpoints (base + uncertainty head) in %s", run.run_dir)
    return result
