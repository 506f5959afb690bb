"""Every way into a MobileFaceNet's weights: train_nets runs and the original MobileFaceNet_TF
checkpoint (original.py holds its name map). The stages restore through here only."""

from __future__ import annotations

import tensorflow as tf

from common.cli import StageError
from common.tf import tf1_import
from common.tf.training import read_config, restore_objects
from mobilefacenet.models.mobilefacenet import build_model
from mobilefacenet.models.original import assign_original, describe


def load_original(prefix: str, use_ema: bool = False) -> tuple[tf.keras.Model, dict]:
    """Our backbone (repo variant) with an original checkpoint's weights, and its config."""
    config = describe(prefix)
    model = build_model(config["variant"], config["embedding_size"], weight_decay=0.0)
    assign_original(model, prefix, use_ema)
    return model, config


def restore_model(ckpt_path: str, use_ema: bool = False) -> tuple[tf.keras.Model, dict, str]:
    """The backbone of a train_nets run (run folder, its best/ folder, or a ckpt-N prefix) or of
    the original MobileFaceNet_TF checkpoint (folder or prefix), its config and the checkpoint
    prefix. Fails if a backbone weight is missing."""
    if tf1_import.is_original(prefix := tf1_import.find_checkpoint(ckpt_path)):
        return (*load_original(prefix, use_ema), prefix)
    config, prefix = read_config(ckpt_path)
    if "variant" not in config or "embedding_size" not in config:
        raise StageError(f"{prefix}: expected a MobileFaceNet train_nets run (config.json with variant and "
                         f"embedding_size), found the run of another model")
    model = build_model(config["variant"], config["embedding_size"], weight_decay=0.0)
    restore_objects(prefix, f"a MobileFaceNet ({config['variant']}, {config['embedding_size']}-d)", model=model)
    return model, config, prefix


def load_pretrained(model: tf.keras.Model, path: str, head=None) -> str:
    """Start training from the original checkpoint or one of our runs (``--pretrained_model``):
    every backbone weight is read, so variant and embedding size must match; given the margin
    ``head`` (``--restore_head``), its class weights too, as the original's Saver restores
    them. Returns the prefix."""
    prefix = tf1_import.find_checkpoint(path)
    if tf1_import.is_original(prefix):
        config = describe(prefix)
        wanted = (model.name.removeprefix("mobilefacenet_"), model.output.shape[-1])
        if wanted != (config["variant"], config["embedding_size"]):
            raise StageError(f"{prefix}: --pretrained_model: expected the {wanted[0]} variant with {wanted[1]}-d "
                             f"embeddings, found the {config['variant']} variant with {config['embedding_size']}-d "
                             f"(pass --variant {config['variant']} --embedding_size {config['embedding_size']})")
        assign_original(model, prefix, head=head)
    else:
        heads = {"head": head} if head is not None else {}
        restore_objects(prefix, f"a MobileFaceNet like this run's ({model.name}, {model.output.shape[-1]}-d"
                                f"{', with a margin head of as many classes' if heads else ''})", model=model, **heads)
    return prefix
