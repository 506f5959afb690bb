"""Every way into a CovPoolFER model's weights: our training runs and the original authors' TF1
checkpoints (original.py holds their name map). The stages restore through here only."""

from __future__ import annotations

import tensorflow as tf

from common.cli import StageError
from common.tf import tf1_import
from common.tf.training import read_config, restore_objects
from covpoolfer.models import original_temporal
from covpoolfer.models.covpoolnet import build_model
from covpoolfer.models.original import assign_original, describe
from covpoolfer.models.temporal import build_temporal_model


def load_original(prefix: str, use_ema: bool = False) -> tuple[tf.keras.Model, dict]:
    """Our inference model (no dropout) holding an original checkpoint's weights, and its config."""
    config = describe(prefix)
    model = build_model(config["model_def"], config["num_classes"], config["embedding_size"],
                        config["image_size"], apply_dropout=False, eig_floor=config["eig_floor"])
    assign_original(model, prefix, config, use_ema)
    return model, config


def restore_model(ckpt_path: str, use_ema: bool = False) -> tuple[tf.keras.Model, dict, str]:
    """The inference model (no dropout) of a training run or of an original TF1 checkpoint
    (folder or prefix), its config and checkpoint prefix. Fails if any model weight is absent.
    ``use_ema`` reads an original checkpoint's ExponentialMovingAverage shadows."""
    if tf1_import.is_original(prefix := tf1_import.find_checkpoint(ckpt_path)):
        return (*load_original(prefix, use_ema), prefix)
    config, prefix = read_config(ckpt_path)
    require_keys(config, ("model_def", "num_classes", "image_size"), prefix)
    model = build_model(config["model_def"], config["num_classes"], config.get("embedding_size"),
                        config["image_size"], apply_dropout=False,
                        eig_floor=config.get("eig_floor", 1e-4))
    restore_objects(prefix, "a CovPoolFER model", model=model)
    return model, config, prefix


def require_keys(config: dict, keys, prefix: str) -> None:
    """One line when a run's config.json is not a CovPoolFER training config."""
    missing = [k for k in keys if k not in config]
    if missing:
        raise StageError(f"{prefix}: expected a CovPoolFER training run (config.json with {', '.join(missing)}), "
                         f"found the run of another model")


def load_pretrained(model: tf.keras.Model, path: str) -> str:
    """Start training from an original TF1 checkpoint or one of our runs (``--pretrained_model``):
    every weight of ``model`` is read; the architectures must match. Returns the prefix."""
    prefix = tf1_import.find_checkpoint(path)
    if tf1_import.is_original(prefix):
        config = describe(prefix)
        wanted = (model.name, model.output["prelogits"].shape[-1], model.output["logits"].shape[-1])
        found = (config["model_def"], config["embedding_size"], config["num_classes"])
        if wanted != found:
            raise StageError(f"{prefix}: --pretrained_model: expected {wanted[0]} with embedding {wanted[1]} and "
                             f"{wanted[2]} classes, found {found[0]} with embedding {found[1]} and {found[2]} classes")
        assign_original(model, prefix, config)
    else:
        restore_objects(prefix, f"a {model.name} model like this run's", model=model)
    return prefix


def is_temporal(ckpt_path: str) -> bool:
    """Whether a checkpoint (ours or a release) holds the temporal pooling network."""
    prefix = tf1_import.find_checkpoint(ckpt_path)
    if tf1_import.is_original(prefix):
        return any(n.startswith(f"{original_temporal.SCOPE}/") for n in tf1_import.list_shapes(prefix))
    return read_config(ckpt_path)[0].get("network") == "temporal_pool"


def restore_temporal_model(ckpt_path: str, use_ema: bool = False) -> tuple[tf.keras.Model, dict, str]:
    """The temporal pooling network of a tempPoolTrain run or of the released TF1 checkpoint (its
    folder as distributed, whose `checkpoint` file names the author's paths, or a prefix), its
    config and prefix."""
    prefix = tf1_import.find_checkpoint(ckpt_path)
    if tf1_import.is_original(prefix):
        config = original_temporal.describe(prefix)
    else:
        config, prefix = read_config(ckpt_path)
        if config.get("network") != "temporal_pool":
            raise StageError(f"{prefix}: expected a temporal pooling run (tempPoolTrain) or the release, found the "
                             f"run of another model")
    model = build_temporal_model(config["num_classes"], config["input_dim"], tuple(config["dims"]),
                                 config["bottleneck"])
    if config.get("source") == "tf1":
        original_temporal.assign_original(model, prefix, use_ema)
    else:
        restore_objects(prefix, "a temporal pooling network", model=model)
    return model, config, prefix


def load_pretrained_temporal(model: tf.keras.Model, path: str) -> str:
    """Start tempPoolTrain from the release or one of our runs: every weight is read, so the
    widths and the class count must match. Returns the prefix."""
    prefix = tf1_import.find_checkpoint(path)
    if tf1_import.is_original(prefix):
        config = original_temporal.describe(prefix)
        found = config["num_classes"]
        if found != model.output["logits"].shape[-1]:
            raise StageError(f"{prefix}: --pretrained_model: expected {model.output['logits'].shape[-1]} classes, "
                             f"found {found}")
        original_temporal.assign_original(model, prefix)
    else:
        restore_objects(prefix, "a temporal pooling network like this run's", model=model)
    return prefix
