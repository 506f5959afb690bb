"""The two PFE training loops: the base with AM-Softmax, then the uncertainty head with MLS."""

from __future__ import annotations

import logging

import numpy as np
import tensorflow as tf

from common.cli import StageError, setup_logging
from common.tf import tf1_import
from common.tf.distribute import (
    all_gather,
    distribute_dataset,
    sum_over_replicas,
    sync_batch_norm,
)
from common.tf.loop import fit, resume, start_run
from common.tf.margin import MarginHead, margin_loss
from common.tf.optimizers import TF1Momentum
from common.tf.training import read_config, restore_objects
from pfe.data import balanced_indices, image_dataset, list_identities
from pfe.losses import mls_loss
from pfe.models.original import assign_original, describe, load_original
from pfe.models.sphere_net import build_base
from pfe.models.uncertainty import build_uncertainty

log = logging.getLogger("pfe.train")


def _fit(step, ds, ckpt, manager, run_dir, strategy, args, lr, lr_at, what: str, tags=None) -> dict:
    """Steps from the restored step counter to --num_steps; a checkpoint every --epoch_size steps.
    ``step(x, y)`` returns {name: loss term} with "loss" among them."""
    return {"run_dir": run_dir, **fit(step, iter(distribute_dataset(strategy, ds)), manager=manager,
        counter=ckpt.step, unit=1, total_steps=args.num_steps, epoch_size=args.epoch_size, lr=lr, lr_at=lr_at,
        log_dir=str(args.logs_dir).rstrip("/") + f"/{run_dir.name if run_dir else 'worker'}", strategy=strategy,
        title=lambda done: f"{what} step {done}/{args.num_steps}", tags=tags)}


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


def train_base(args) -> dict:
    """Sphere net + AM-Softmax (CosFace margin) on identity folders, plain shuffled batches."""
    setup_logging()
    paths, labels, names = list_identities(args.data_dir)
    strategy, run_dir = start_run(args, args.models_dir, args.batch_size, {"num_classes": len(names), "stage": "train_base"})
    log.info("train_base: %d images of %d identities from %s", len(paths), len(names), args.data_dir)
    with strategy.scope():
        base = build_base(args.depth, args.embedding_size, bn_decay=args.bn_decay)
        sync_batch_norm(base, strategy)
        head = MarginHead(len(names), "cosface", args.am_scale, args.am_margin, name="am_softmax")
        head.build((None, args.embedding_size))
        opt = TF1Momentum(args.learning_rate, momentum=0.9) if args.optimizer == "MOM" \
            else tf.keras.optimizers.Adam(args.learning_rate)
        opt.build(base.trainable_variables + head.trainable_variables)

    def pretrained() -> str:
        found, prefix = base_config(args.pretrained)
        if (found["depth"], found["embedding_size"]) != (args.depth, args.embedding_size):
            raise StageError(f"{prefix}: --pretrained: expected a sphere{args.depth} with {args.embedding_size}-d "
                             f"embeddings, found sphere{found['depth']} with {found['embedding_size']}-d")
        load_base_weights(base, found, prefix)
        return prefix

    ckpt = _checkpoint(base, head, opt, strategy)
    manager = resume(ckpt, ckpt.step, run_dir, strategy, pretrained if args.pretrained else None, "step")
    step = make_base_step(base, head, opt, args.weight_decay, strategy)

    rng = np.random.default_rng(args.seed)

    def shuffled():
        while True:
            order = rng.permutation(len(paths))
            for start in range(0, len(order) - args.batch_size + 1, args.batch_size):
                yield order[start:start + args.batch_size]

    ds = image_dataset(paths, labels, shuffled(), flip=not args.no_flip, seed=args.seed)
    result = _fit(step, ds, ckpt, manager, run_dir, strategy, args, opt.learning_rate, lambda k: args.learning_rate,
                  "train_base")
    log.info("base checkpoints in %s", run_dir)
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


def train_uncertainty(args) -> dict:
    """The uncertainty head with the MLS loss on class-balanced batches; the base stays frozen."""
    setup_logging()
    based_on, base_prefix = base_config(args.base_model)
    paths, labels, names = list_identities(args.data_dir)
    config = {"depth": based_on["depth"], "embedding_size": based_on["embedding_size"],
              "base_prefix": base_prefix, "stage": "train"}
    strategy, run_dir = start_run(args, args.models_dir, args.num_classes_per_batch * args.images_per_class, config)
    log.info("train: %d images of %d identities; base %s", len(paths), len(names), base_prefix)
    with strategy.scope():
        base = build_base(based_on["depth"], based_on["embedding_size"])
        load_base_weights(base, based_on, base_prefix)
        base.trainable = False
        head = build_uncertainty(base.output["conv_final"].shape[-1], based_on["embedding_size"],
                                 args.weight_decay, args.bn_decay)
        sync_batch_norm(head, strategy)
        opt = TF1Momentum(args.learning_rate, momentum=0.9)
        opt.build(head.trainable_variables)

    def pretrained_head() -> str:  # the original config's restore_scopes=None: the head too
        if based_on.get("stage") != "train":
            raise StageError(f"{base_prefix}: --restore_head: expected a checkpoint with the uncertainty module, "
                             f"found a sphere{based_on['depth']} base only")
        load_base_weights(base, based_on, base_prefix, head)
        return base_prefix

    ckpt = _checkpoint(base, head, opt, strategy)
    manager = resume(ckpt, ckpt.step, run_dir, strategy, pretrained_head if args.restore_head else None, "step")
    step = make_head_step(base, head, opt, strategy)
    ds = image_dataset(paths, labels, balanced_indices(labels, args.num_classes_per_batch, args.images_per_class,
                                                       args.seed), flip=not args.no_flip, seed=args.seed)

    def lr_at(k):  # 'step' strategy: lr until --lr_drop_step (0-based step), then the lower one
        return args.learning_rate if k < args.lr_drop_step else args.learning_rate_after_drop

    result = _fit(step, ds, ckpt, manager, run_dir, strategy, args, opt.learning_rate, lr_at, "train",
                  {"loss": "loss/total", "mls": "loss/mls", "regularization": "loss/regularization"})
    log.info("PFE checkpoints (base + uncertainty head) in %s", run_dir)
    return result


def restore_pfe(ckpt_path: str, use_ema: bool = False):
    """Base and uncertainty head of a `train` run or an original PFE checkpoint (folder or
    prefix), its config and prefix. ``use_ema`` reads an original's EMA shadows."""
    prefix = tf1_import.find_checkpoint(ckpt_path)
    if tf1_import.is_original(prefix):
        base, head, config = load_original(prefix, need_head=True, use_ema=use_ema)
        return base, head, config, prefix
    config, prefix = read_config(ckpt_path)
    if config.get("stage") != "train":
        found = f"a {config['stage']} run" if "stage" in config else "the run of another model"
        raise StageError(f"{ckpt_path}: expected a PFE `train` run (base + uncertainty head), found {found}")
    base = build_base(config["depth"], config["embedding_size"])
    head = build_uncertainty(base.output["conv_final"].shape[-1], config["embedding_size"], 0.0)
    restore_objects(prefix, f"a PFE sphere{config['depth']} with its uncertainty head", base=base, head=head)
    return base, head, config, prefix


def base_config(path: str) -> tuple[dict, str]:
    """Depth, embedding size and prefix of a base: a train_base or train run, or an original
    checkpoint (the released sphere64 base or a whole PFE model)."""
    prefix = tf1_import.find_checkpoint(path)
    if tf1_import.is_original(prefix):
        return describe(prefix), prefix
    config, prefix = read_config(path)
    if "depth" not in config or config.get("stage") not in ("train", "train_base"):
        raise StageError(f"{path}: expected a PFE train_base or train run, found the run of another model")
    return config, prefix


def load_base_weights(base, config: dict, prefix: str, head=None) -> None:
    """The sphere-net weights of ``base`` (and of ``head`` when given) from the checkpoint
    ``base_config`` described (the checkpoint itself says whether it is an original)."""
    if tf1_import.is_original(prefix):
        assign_original(prefix, base, head)
    elif head is None:
        restore_objects(prefix, f"a PFE sphere{config['depth']} base", base=base)
    else:
        restore_objects(prefix, f"a PFE sphere{config['depth']} with its uncertainty head", base=base, head=head)
