"""Every way into a PFE model's weights: train_base and train runs and the original authors'
TF1 checkpoints (original.py holds their name map). The stages restore through here only."""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf

from common.cli import StageError
from common.tf import tf1_import
from common.tf.training import read_config, restore_objects
from pfe.models.original import assign_original, describe
from pfe.models.sphere_net import build_base
from pfe.models.uncertainty import build_uncertainty


class PFE(NamedTuple):
    """A whole PFE model: the sphere-net base (mu, conv_final) and the uncertainty head (log sigma^2)."""
    base: tf.keras.Model
    head: tf.keras.Model


def load_original(prefix: str, need_head: bool | None = True, use_ema: bool = False):
    """(base, head or None, config) with an original checkpoint's weights. ``need_head``: True
    requires the uncertainty module, False loads the base alone, None the head when present."""
    config = describe(prefix)
    if need_head and config["stage"] != "train":
        raise StageError(f"{prefix}: expected a PFE model with its uncertainty module "
                         f"(UncertaintyModule/...), found a sphere{config['depth']} base only")
    base = build_base(config["depth"], config["embedding_size"])
    head = None
    if need_head or (need_head is None and config["stage"] == "train"):
        head = build_uncertainty(base.output["conv_final"].shape[-1], config["embedding_size"], 0.0)
    assign_original(prefix, base, head, use_ema)
    return base, head, config


def restore_model(ckpt_path: str, use_ema: bool = False) -> tuple[PFE, dict, str]:
    """(base, head) of a `train` run or an original PFE checkpoint (folder or prefix), its config
    and prefix. ``use_ema`` reads an original's EMA shadows."""
    prefix = tf1_import.find_checkpoint(ckpt_path)
    if tf1_import.is_original(prefix):
        base, head, config = load_original(prefix, need_head=True, use_ema=use_ema)
        return PFE(base, head), config, prefix
    config, prefix = read_config(ckpt_path)
    if config.get("stage") != "train":
        found = f"a {config['stage']} run" if "stage" in config else "the run of another model"
        raise StageError(f"{ckpt_path}: expected a PFE `train` run (base + uncertainty head), found {found}")
    base = build_base(config["depth"], config["embedding_size"])
    head = build_uncertainty(base.output["conv_final"].shape[-1], config["embedding_size"], 0.0)
    restore_objects(prefix, f"a PFE sphere{config['depth']} with its uncertainty head", base=base, head=head)
    return PFE(base, head), config, prefix


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
